"""Isso: its SQLite database, and its generic JSON format."""
from __future__ import annotations

import sqlite3

import pytest
from support.imports import counts, fixture, rows, run, thread

from widget_server.models import DELETED, PENDING

SITE = "https://blog.example"


@pytest.fixture
def isso_db(tmp_path):
    path = tmp_path / "comments.db"
    conn = sqlite3.connect(path)
    with open(fixture("isso.sql"), encoding="utf-8") as sql:
        conn.executescript(sql.read())
    conn.close()
    return path


def test_isso_database(runner, client, app, isso_db):
    result = run(runner, "import", "isso", isso_db, "--site", SITE)
    assert "imported 5 comments" in result.output

    body = thread(client, f"{SITE}/posts/hello/")
    assert body["thread"]["title"] == "Hello"
    ann, tombstone = body["comments"]
    assert ann["html"] == "<p>Top <em>level</em></p>" and ann["likes"] == 3
    assert ann["created_at"] == "2020-01-01T00:00:00Z" and ann["author"]["website"] == "https://ann.example/"
    [bob] = ann["replies"]
    assert bob["edited_at"] == "2020-01-01T02:00:00Z"
    assert "<script" not in bob["html"] and "&lt;script&gt;" in bob["html"]  # Markdown source: shown as text
    assert tombstone["state"] == DELETED
    [cat] = tombstone["replies"]
    assert cat["author"]["website"] is None  # javascript: is no website

    assert {c.number: c.state for c in rows(app, f"{SITE}/posts/hello/")}[5] == PENDING
    assert counts(app) == (1, 5)  # the thread without comments is not created
    again = run(runner, "import", "isso", isso_db, "--site", SITE)
    assert "already imported before (skipped): 5" in again.output


def test_isso_paths_need_a_site(runner, app, isso_db):
    result = run(runner, "import", "isso", isso_db, expect_ok=False)
    assert result.exit_code == 1 and "pass --site" in result.output and counts(app) == (0, 0)
    assert "every comment was skipped, nothing was imported" in result.output


def test_not_an_isso_database(runner, app, tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite at all" * 100)
    result = run(runner, "import", "isso", bogus, expect_ok=False)
    assert result.exit_code == 1 and "not an Isso database" in result.output


@pytest.mark.parametrize("fmt", ["isso-json", "generic"])
def test_isso_generic_json(runner, client, app, fmt):
    result = run(runner, "import", fmt, fixture("isso-generic.json"), "--site", SITE + "/")
    assert "imported 3 comments" in result.output
    [eve] = thread(client, f"{SITE}/posts/one/")["comments"]
    assert eve["html"] == "<p>Hi <strong>there</strong></p>" and eve["created_at"] == "2019-07-01T10:00:00Z"
    assert [r["author"]["name"] for r in eve["replies"]] == ["Fox"]
    [gil] = thread(client, f"{SITE}/posts/two/")["comments"]  # same comment id, other thread
    assert gil["author"]["name"] == "Gil"
    assert counts(app) == (2, 3)


def test_broken_json_names_line_and_column(runner, app, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"id": "/a/", "comments": [\n    {"id": 1,, "text": "x"}\n  ]}\n]\n')
    result = run(runner, "import", "isso-json", broken, "--site", SITE, expect_ok=False)
    assert result.exit_code == 1 and "not valid JSON" in result.output and "line 3, column" in result.output
    assert counts(app) == (0, 0)
