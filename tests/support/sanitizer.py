"""What "safe" means for stored and served HTML, checked with a real HTML parser."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from widget_server.comments.render import ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS, ALLOWED_TAGS


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                if scheme not in ALLOWED_PROTOCOLS:
                    self.problems.append(f"href scheme {scheme!r}")

    handle_startendtag = handle_starttag


def html_problems(html: str) -> list[str]:
    """Every tag, attribute or URL in ``html`` that the allowlist would not let through."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def plain_text_problems(value: str | None) -> list[str]:
    """A plain-text field (author, title) must never be able to become markup."""
    if value and ("<" in value or ">" in value):
        return [f"markup characters in {value[:60]!r}"]
    return []


def url_problems(value: str | None) -> list[str]:
    if not value:
        return []
    parts = urlsplit(value)
    problems = [] if parts.scheme in ("http", "https") else [f"scheme {parts.scheme!r}"]
    if any(ch in value for ch in "<>\"' `"):
        problems.append(f"unsafe characters in {value[:60]!r}")
    return problems
