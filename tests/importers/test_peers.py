"""The importers for the servers people are leaving (Remark42, Commento's successor Comentario,
Artalk, Waline, Twikoo, Cusdis), each on a fixture in its own real format
(tests/fixtures/<peer>/README.md): nesting, dates, authors, deleted and pending comments,
sanitizing, idempotence, and detection of each format."""
from __future__ import annotations

import gzip
import shutil
import sqlite3

import pytest
from support.imports import by_text, counts, fixture, rows, run, thread

from widget_server.importers.detect import sniff
from widget_server.models import DELETED, PENDING, PUBLISHED, SPAM

SITE = "https://blog.example"


@pytest.fixture
def config_overrides():
    return {"ALLOWED_ORIGINS": [SITE, "https://radio-t.com"]}


def _cusdis_db(tmp_path) -> str:
    path = tmp_path / "cusdis.db"
    conn = sqlite3.connect(path)
    with open(fixture("cusdis/cusdis.sql"), encoding="utf-8") as sql:
        conn.executescript(sql.read())
    conn.commit()
    conn.close()
    return str(path)


def _remark42_gz(tmp_path) -> str:
    path = tmp_path / "backup-radio-t-20171222.gz"
    with open(fixture("remark42/backup-radio-t.json"), "rb") as src, gzip.open(path, "wb") as out:
        shutil.copyfileobj(src, out)
    return str(path)


def _states(app, url: str) -> list[tuple[int, str]]:
    return [(c.number, c.state) for c in rows(app, url)]


def test_remark42_backup(runner, client, app, tmp_path):
    result = run(runner, "import", "remark42", _remark42_gz(tmp_path))
    assert "imported 5 comments" in result.output and "2 threads (2 new" in result.output
    assert "replies to a comment that is not in the file became top-level" in result.output
    home = thread(client, "https://radio-t.com")
    assert home["thread"]["locked"] is True and home["thread"]["title"] == "Radio-T Podcast"
    [first] = home["comments"]
    assert first["author"]["name"] == "user name" and first["created_at"] == "2017-12-20T21:18:22Z"
    assert 'href="http://radio-t.com"' in first["html"]
    [reply] = first["replies"]
    assert reply["html"] == "<p>A reply with <strong>bold</strong> text</p>"  # from "orig", the Markdown
    assert reply["likes"] == 2 and reply["edited_at"] == "2017-12-21T08:05:00Z"
    episode = by_text(thread(client, "https://radio-t.com/2"))
    answer = episode["<p>Answering a deleted one</p>"]
    assert answer["pinned"] is True and answer["likes"] == 0 and "<script" not in answer["html"]
    assert DELETED in [s for _n, s in _states(app, "https://radio-t.com/2")]
    assert "imported 0 comments" in run(runner, "import", "remark42", _remark42_gz(tmp_path)).output
    assert counts(app) == (2, 5)


def test_artalk_artrans(runner, client, app):
    result = run(runner, "import", "artalk", fixture("artalk/comments.artrans"))
    assert "imported 4 comments" in result.output and "1 x a comment without an id" in result.output
    hello = thread(client, "https://blog.example/posts/hello/")
    assert hello["thread"]["title"] == "Hello"
    [first] = hello["comments"]
    assert first["pinned"] is True and first["likes"] == 3 and first["created_at"] == "2021-09-10T13:45:28Z"
    assert first["author"]["name"] == "Ann" and first["author"]["website"] == "https://ann.example/"
    [reply] = first["replies"]
    assert reply["edited_at"] == "2021-09-12T09:30:00Z" and reply["replies"] == []  # the pending one is held
    assert _states(app, "https://blog.example/posts/hello/") == [(1, PUBLISHED), (2, PUBLISHED), (3, PENDING)]
    held = rows(app, "https://blog.example/posts/hello/")[2]
    assert "<script" not in held.html and held.email == "cy@example.org"
    assert _states(app, "https://blog.example/about.html") == [(1, PENDING)]  # collapsed: held; on site_urls
    assert "imported 0 comments" in run(runner, "import", "artalk", fixture("artalk/comments.artrans")).output


def test_waline_export(runner, client, app):
    result = run(runner, "import", "waline", fixture("waline/waline-export.json"), "--site", SITE)
    assert "imported 5 comments" in result.output
    hello = thread(client, f"{SITE}/posts/hello.html")
    [first] = hello["comments"]
    assert first["pinned"] is True and first["likes"] == 2 and first["author"]["website"] == "https://ann.example/"
    assert '<a href="https://example.org"' in first["html"]
    assert [r["author"]["name"] for r in first["replies"]] == ["Bob"]
    assert _states(app, f"{SITE}/posts/hello.html") == [(1, PUBLISHED), (2, PUBLISHED), (3, PENDING)]
    about = rows(app, f"{SITE}/about.html")
    assert [c.state for c in about] == [SPAM, PUBLISHED] and "<script" not in about[0].html
    assert about[1].created_at.isoformat() == "2023-07-04T12:30:00+00:00"
    again = run(runner, "import", "waline", fixture("waline/waline-export.json"), "--site", SITE)
    assert "imported 0 comments" in again.output and counts(app) == (2, 5)


def test_waline_paths_need_a_site(runner, app):
    result = run(runner, "import", "waline", fixture("waline/waline-export.json"), expect_ok=False)
    assert result.exit_code == 1 and "--site" in result.output and counts(app) == (0, 0)


def test_twikoo_export(runner, client, app):
    result = run(runner, "import", "twikoo", fixture("twikoo/twikoo-export.json"), "--site", SITE)
    assert "imported 4 comments" in result.output
    [first] = thread(client, f"{SITE}/posts/hello/")["comments"]
    assert "<strong>bold</strong>" in first["html"] and 'href="https://example.org"' in first["html"]
    assert first["pinned"] is True and first["likes"] == 3 and first["created_at"] == "2022-01-18T13:20:00Z"
    [reply] = first["replies"]  # its _id was {"$oid": ...}
    assert reply["author"]["name"] == "Bob" and reply["replies"] == []
    assert _states(app, f"{SITE}/posts/hello/") == [(1, PUBLISHED), (2, PUBLISHED), (3, PENDING)]
    assert "onerror" not in rows(app, f"{SITE}/posts/hello/")[2].html
    assert _states(app, f"{SITE}/about/") == [(1, PUBLISHED)]  # no href: the path on --site
    again = run(runner, "import", "twikoo", fixture("twikoo/twikoo-export.json"), "--site", SITE)
    assert "imported 0 comments" in again.output and counts(app) == (2, 4)


@pytest.mark.parametrize("source", ["sqlite", "json"])
def test_cusdis_tables(runner, client, app, tmp_path, source):
    path = _cusdis_db(tmp_path) if source == "sqlite" else fixture("cusdis/cusdis-tables.json")
    result = run(runner, "import", "cusdis", path, "--site", SITE)
    assert "imported 5 comments" in result.output
    hello = thread(client, f"{SITE}/posts/hello")
    assert hello["thread"]["title"] == "Hello"
    assert [c["author"]["name"] for c in hello["comments"]] == ["Ann"]  # the deleted one has no replies
    [reply] = hello["comments"][0]["replies"]
    assert reply["author"]["name"] == "The author" and reply["created_at"] == "2022-04-15T07:20:00Z"
    assert _states(app, f"{SITE}/posts/hello") == [(1, PUBLISHED), (2, PUBLISHED), (3, PENDING), (4, DELETED)]
    assert "<script" not in rows(app, f"{SITE}/posts/hello")[2].html
    about = thread(client, f"{SITE}/about")  # known by its slug only
    assert about["comments"][0]["created_at"] == "2022-04-16T08:00:00Z"
    again = run(runner, "import", "cusdis", path, "--site", SITE)
    assert "imported 0 comments" in again.output and counts(app) == (2, 5)


def test_comentario_export_gzipped(runner, client, app):
    result = run(runner, "import", "comentario", fixture("comentario/comentario-export.json.gz"))
    assert "imported 3 comments" in result.output
    url = "https://blog.example/posts/hello"
    assert _states(app, url) == [(1, PUBLISHED), (2, PENDING), (3, DELETED)]
    [first] = thread(client, url)["comments"]
    assert first["author"]["name"] == "Ann" and first["likes"] == 2
    again = run(runner, "import", "comentario", fixture("comentario/comentario-export.json.gz"))
    assert "imported 0 comments" in again.output


@pytest.mark.parametrize("fmt, make", [
    ("remark42", lambda tmp: fixture("remark42/backup-radio-t.json")),
    ("remark42", _remark42_gz),
    ("artalk", lambda tmp: fixture("artalk/comments.artrans")),
    ("waline", lambda tmp: fixture("waline/waline-export.json")),
    ("twikoo", lambda tmp: fixture("twikoo/twikoo-export.json")),
    ("cusdis", _cusdis_db),
    ("cusdis", lambda tmp: fixture("cusdis/cusdis-tables.json")),
    ("commento", lambda tmp: fixture("comentario/comentario-export.json.gz")),
])
def test_each_format_is_recognised_and_another_importer_points_to_it(runner, app, tmp_path, fmt, make):
    path = make(tmp_path)
    assert sniff(path).fmt == fmt
    other = "disqus" if fmt != "disqus" else "wordpress"
    result = run(runner, "import", other, path, expect_ok=False)
    assert result.exit_code == 1 and f"try `widget-server import {fmt} " in result.output
    assert counts(app) == (0, 0)
