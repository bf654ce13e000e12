"""Page URL normalization: one page, one thread."""
from __future__ import annotations

import pytest

from widget_server.urls import BadURL, normalize_origin, normalize_page_url, normalize_website

NORMALIZED = [
    ("https://Example.ORG/a", "https://example.org/a"),
    ("HTTPS://example.org:443/a", "https://example.org/a"),
    ("http://example.org:80/a", "http://example.org/a"),
    ("http://example.org:8080/a", "http://example.org:8080/a"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/a#comment-3", "https://example.org/a"),
    ("https://example.org/a?utm_source=x&utm_campaign=y", "https://example.org/a"),
    ("https://example.org/a?b=2&a=1&fbclid=z", "https://example.org/a?a=1&b=2"),
    ("https://user:pw@example.org/a", "https://example.org/a"),
    ("https://example.org/a b", "https://example.org/a%20b"),
    ("https://example.org/%7Euser", "https://example.org/%7Euser"),
    ("https://example.org/<script>", "https://example.org/%3Cscript%3E"),
    ("https://example.org/it's", "https://example.org/it%27s"),
    ("  https://example.org/a  ", "https://example.org/a"),
    ("https://[::1]:8443/x", "https://[::1]:8443/x"),
]


@pytest.mark.parametrize("raw, expected", NORMALIZED)
def test_normalize_page_url(raw, expected):
    assert normalize_page_url(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "/relative", "ftp://example.org/", "javascript:alert(1)",
                                 "data:text/html,x", "https://", "https://exa<mple.org/", "x" * 3000,
                                 "https://example.org/\x00", "https://example.org:99999/", 17, None])
def test_bad_page_urls(raw):
    with pytest.raises(BadURL):
        normalize_page_url(raw)


@pytest.mark.parametrize("raw, expected", [
    ("https://Blog.Example", "https://blog.example"),
    ("https://blog.example:443/", "https://blog.example"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("null", None),
    ("*", "*"),
])
def test_normalize_origin(raw, expected):
    assert normalize_origin(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("https://Ann.Example", "https://ann.example/"),
    ("http://ann.example/blog?x=1", "http://ann.example/blog?x=1"),
])
def test_normalize_website(raw, expected):
    assert normalize_website(raw) == expected


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "https://a.example/\"onclick=x", "mailto:a@b.c",
                                 "https://a.example/ x"])
def test_bad_websites(raw):
    with pytest.raises(BadURL):
        normalize_website(raw)
