"""Real-format exports from Isso's and Remark42's test suites (``$WIDGET_TEST_SHARED/fixtures``).

Each file is imported into an empty database and the result is checked
against what the file holds: threads, visible comments per thread, nesting,
hidden deleted and spam posts. CI sets WIDGET_TEST_SHARED; with CI=true and
no WIDGET_TEST_SHARED these tests fail instead of skipping.
"""
from __future__ import annotations

import pytest
from support.app import IN_CI
from support.imports import counts, flat, run, shared_fixtures, thread

from widget_server.models import DELETED

SITE = "https://blog.example"
RADIO_T = "https://radio-t.com/p/2011/03/05/podcast-229/"
UMPUTUN = "http://radio-t.umputun.com/2011/03/229_8880.html"
# file -> (format, extra options, {thread URL: visible published comments}, rows stored, skipped)
EXPECTED = {
    "isso/disqus.xml": ("disqus", [], {"http://example.org/": 3,
                                       "http://localhost:4000/blog/2013/02/12/redacted/index.html": 1}, 5, 1),
    "isso/wordpress.xml": ("wordpress", [], {"http://example.tld/2014/test/": 7,
                                             "http://example.tld/?p=4": 1}, 8, 0),
    "isso/generic.json": ("isso-json", ["--site", SITE], {f"{SITE}/posts/0001/": 1, f"{SITE}/posts/0007/": 1},
                          2, 0),
    "remark42/disqus.xml": ("disqus", [], {RADIO_T: 2, UMPUTUN: 2}, 5, 1),
    "remark42/disqus-deleted-post.xml": ("disqus", [], {RADIO_T: 1, UMPUTUN: 2}, 5, 1),
    "remark42/disqus-deleted-thread.xml": ("disqus", [], {RADIO_T: 0, UMPUTUN: 2}, 5, 1),
    "remark42/commento.json": ("commento", [], {"https://example.com/blog/post/1": 2,
                                                "https://example.com/blog/post/2": 1}, 3, 0),
}
FORMATS_BY_SUFFIX = {".xml": "disqus", ".json": "json"}


@pytest.fixture
def config_overrides() -> dict:
    return {"ALLOWED_ORIGINS": ["*"]}


def _root():
    root = shared_fixtures()
    if root is None:
        if IN_CI:
            pytest.fail("CI=true but WIDGET_TEST_SHARED is not set: the shared fixtures must be imported")
        pytest.skip("WIDGET_TEST_SHARED not set: the shared real-format exports are imported only when it is")
    return root


def _discovered() -> list[str]:
    root = shared_fixtures()
    if root is None or not root.is_dir():
        return sorted(EXPECTED)
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".xml", ".json"))
    return sorted(set(found) | set(EXPECTED))


@pytest.mark.parametrize("name", _discovered())
def test_shared_fixture(runner, client, app, name):
    root = _root()
    path = root / name
    assert path.is_file(), f"{path} is missing from the shared fixtures"
    if name not in EXPECTED:  # a file added later: it must at least import
        head = path.read_bytes()[:4096]
        fmt = ("wordpress" if b"wordpress.org/export" in head else "commento" if b"commentHex" in head
               else "isso-json" if head.lstrip().startswith(b"[") else FORMATS_BY_SUFFIX[path.suffix])
        result = run(runner, "import", fmt, path, "--site", SITE)
        assert "imported" in result.output
        return
    fmt, options, visible, stored, skipped = EXPECTED[name]
    result = run(runner, "import", fmt, path, *options)
    assert f"imported {stored} comments" in result.output
    assert (f"skipped: {skipped}" in result.output) if skipped else ("skipped:" not in result.output)
    assert counts(app)[1] == stored
    for url, expected in visible.items():
        body = thread(client, url)
        shown = [c for c in flat(body["comments"]) if c["state"] != DELETED]
        assert len(shown) == expected, (url, body)
        assert body["thread"]["comment_count"] == expected
        assert all(c["html"] == "" for c in flat(body["comments"]) if c["state"] == DELETED)
        assert all("<script" not in c["html"] for c in shown)
    again = run(runner, "import", fmt, path, *options)
    assert "imported 0 comments" in again.output and counts(app)[1] == stored


def test_shared_nesting(runner, client):
    """Spot checks of nesting in the shared files."""
    root = _root()
    run(runner, "import", "wordpress", root / "isso/wordpress.xml")
    top = thread(client, "http://example.tld/2014/test/")["comments"]
    second = next(c for c in top if c["author"]["name"] == "Tester")
    [third] = second["replies"]
    assert [r["html"] for r in third["replies"]] == ["<p>Yet another reply.</p>", "<p>...</p>"]
    run(runner, "import", "disqus", root / "isso/disqus.xml")
    hello = thread(client, "http://example.org/")["comments"]
    assert [len(c["replies"]) for c in hello] == [1, 1]  # 4 -> 5, and the deleted 9 -> 11 as a tombstone
