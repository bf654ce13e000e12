"""A file of the wrong format is refused, with what was found and the format to use instead.

Every format is given every other format's fixture file: a clear error, exit
status 1, nothing stored. A file of the right format without comments imports
0 and says why; an import that skipped every comment fails unless --dry-run.
"""
from __future__ import annotations

import shlex
import sqlite3

import pytest
from support.imports import counts, fixture, run, shared_fixtures

from widget_server.importers import FORMATS
from widget_server.importers.detect import LABELS, sniff

SITE = "https://blog.example"
# import format -> its fixture file (isso: built from isso.sql) and how many comments it imports
FILES = {
    "disqus": ("disqus.xml", 8),
    "wordpress": ("wordpress.xml", 7),
    "isso": ("isso.db", 5),
    "isso-json": ("isso-generic.json", 3),
    "commento": ("commento.json", 4),
    "json": ("export.json", 2),
    "remark42": ("remark42/backup-radio-t.json", 5),
    "artalk": ("artalk/comments.artrans", 4),
    "waline": ("waline/waline-export.json", 5),
    "twikoo": ("twikoo/twikoo-export.json", 4),
    "cusdis": ("cusdis/cusdis-tables.json", 5),
}
CANONICAL = {"generic": "isso-json", "comentario": "commento"}  # command-line aliases
WRONG = [(fmt, owner) for fmt in FORMATS for owner in FILES if CANONICAL.get(fmt, fmt) != owner]


def _isso_db(path, *, with_rows: bool = True):
    conn = sqlite3.connect(path)
    with open(fixture("isso.sql"), encoding="utf-8") as sql:
        conn.executescript(sql.read())
    if not with_rows:
        conn.executescript("DELETE FROM comments; DELETE FROM threads;")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    paths = {fmt: fixture(name) for fmt, (name, _n) in FILES.items()}
    paths["isso"] = str(_isso_db(tmp_path / "isso.db"))
    return paths


@pytest.fixture
def config_overrides() -> dict:
    return {"ALLOWED_ORIGINS": ["*"]}


@pytest.mark.parametrize("fmt, owner", WRONG, ids=[f"{f}-given-{o}" for f, o in WRONG])
def test_wrong_format_is_refused_and_names_the_right_one(runner, app, files, fmt, owner):
    path = files[owner]
    result = run(runner, "import", fmt, path, "--site", SITE, expect_ok=False)
    assert result.exit_code == 1, result.output
    label = LABELS[CANONICAL.get(fmt, fmt)][0]
    assert f"is not {label}: this looks like {LABELS[owner][0]}" in result.output
    assert f"try `widget-server import {owner} {shlex.quote(path)}" in result.output
    assert "nothing was imported" in result.output and "imported 0 comments" not in result.output
    assert counts(app) == (0, 0)


def test_a_refused_file_leaves_earlier_imports_alone(runner, app, files):
    run(runner, "import", "disqus", files["disqus"])
    before = counts(app)
    for fmt in FORMATS:
        if fmt != "disqus":
            assert run(runner, "import", fmt, files["disqus"], expect_ok=False).exit_code == 1
    assert counts(app) == before == (3, 8)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_right_format_is_recognised_and_imported(runner, app, files, fmt):
    owner = CANONICAL.get(fmt, fmt)
    assert sniff(files[owner]).fmt == owner
    result = run(runner, "import", fmt, files[owner], "--site", SITE)
    assert f"imported {FILES[owner][1]} comments" in result.output


@pytest.mark.parametrize("fmt, content", [
    ("disqus", '<?xml version="1.0"?>\n<disqus xmlns="http://disqus.com"/>\n'),
    ("wordpress", '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
                  "<item><title>No comments</title><wp:post_id>1</wp:post_id></item></channel></rss>"),
    ("isso", None),
    ("isso-json", "[]"),
    ("commento", '{"version": 1, "comments": [], "commenters": []}'),
    ("commento", '{"version": 1, "comments": null}'),
    ("json", '{"format": "widget-server-export", "version": 1, "threads": [], "comments": []}'),
])
def test_the_right_format_without_comments_imports_nothing_and_says_why(runner, app, tmp_path, fmt, content):
    path = tmp_path / "empty.export"
    if content is None:
        _isso_db(path, with_rows=False)
    else:
        path.write_text(content)
    result = run(runner, "import", fmt, path, "--site", SITE)
    assert "imported 0 comments" in result.output
    assert "the file holds no comments: there was nothing to import" in result.output
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("fmt, content, found", [
    ("disqus", "", "it is an empty file"),
    ("json", "   \n", "it is an empty file"),
    ("disqus", "just some text\n", "neither XML, JSON nor an SQLite database"),
    ("wordpress", '<rss version="2.0"><channel><title>Blog</title></channel></rss>',
     "an RSS feed without the WordPress namespace"),
    ("disqus", '<feed xmlns="http://www.w3.org/2005/Atom"/>',
     "the root element <feed> in the namespace http://www.w3.org/2005/Atom"),
    ("disqus", '<disqus xmlns="http://example.org/not-disqus"/>',
     "the root element <disqus> in the namespace http://example.org/not-disqus"),
    ("commento", '{"posts": [], "users": []}', "a JSON object with the keys 'posts', 'users'"),
    ("json", '{"format": "something-else", "threads": []}', "whose \"format\" is 'something-else'"),
    ("isso-json", "[1, 2, 3]", "a JSON list whose first entry is a number"),
    ("isso-json", '[{"url": "/a/"}]', "a JSON list whose first entry has the key 'url'"),
    ("isso", '{"version": 1}', "a JSON object with the keys 'version'"),
])
def test_an_unrecognised_file_says_what_it_is_and_what_was_expected(runner, app, tmp_path, fmt, content,
                                                                    found):
    path = tmp_path / "mystery"
    path.write_text(content)
    result = run(runner, "import", fmt, path, "--site", SITE, expect_ok=False)
    assert result.exit_code == 1, result.output
    assert f"is not {LABELS[fmt][0]}: " in result.output and found in result.output
    assert f"where {LABELS[fmt][2]} was expected" in result.output and "try `" not in result.output
    assert counts(app) == (0, 0)


def test_an_sqlite_file_that_is_not_isso(runner, app, tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE threads (id INTEGER PRIMARY KEY, url TEXT);"
                       "CREATE TABLE comments (id INTEGER PRIMARY KEY, thread_id INT);"
                       "CREATE TABLE admin_tokens (id INTEGER PRIMARY KEY);")
    conn.close()
    result = run(runner, "import", "isso", path, "--site", SITE, expect_ok=False)
    assert result.exit_code == 1 and "the SQLite database of a widget-server" in result.output
    result = run(runner, "import", "disqus", path, expect_ok=False)
    assert result.exit_code == 1 and "is not a Disqus export" in result.output


def test_everything_skipped_fails_unless_dry_run(runner, app, files):
    result = run(runner, "import", "isso-json", files["isso-json"], expect_ok=False)  # no --site
    assert result.exit_code == 1
    assert "skipped: 3" in result.output and "pass --site" in result.output
    assert "every comment was skipped, nothing was imported" in result.output
    dry = run(runner, "import", "isso-json", files["isso-json"], "--dry-run")
    assert "nothing would be imported: every comment in the file was skipped" in dry.output
    assert counts(app) == (0, 0)


def test_already_imported_is_not_everything_skipped(runner, app, files):
    run(runner, "import", "commento", files["commento"])
    again = run(runner, "import", "commento", files["commento"])
    assert "already imported before (skipped): 4" in again.output
    assert "nothing was imported" not in again.output


# --- the shared real-format exports ($WIDGET_TEST_SHARED/fixtures) ------------------------------------

SHARED = {
    "isso/disqus.xml": "disqus",
    "isso/wordpress.xml": "wordpress",
    "isso/generic.json": "isso-json",
    "remark42/disqus.xml": "disqus",
    "remark42/disqus-deleted-post.xml": "disqus",
    "remark42/disqus-deleted-thread.xml": "disqus",
    "remark42/commento.json": "commento",
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_exports_are_recognised_and_refused_by_every_other_format(runner, app, name):
    root = shared_fixtures()
    if root is None:
        pytest.skip("WIDGET_TEST_SHARED not set")
    path = root / name
    owner = SHARED[name]
    assert sniff(str(path)).fmt == owner
    for fmt in FORMATS:
        if CANONICAL.get(fmt, fmt) == owner:
            continue
        result = run(runner, "import", fmt, path, "--site", SITE, expect_ok=False)
        assert result.exit_code == 1, (fmt, result.output)
        assert f"try `widget-server import {owner} " in result.output
    assert counts(app) == (0, 0)
