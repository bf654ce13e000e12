"""Disqus import: everything carried over, idempotent, dry run, URL mapping, atomic, safe."""
from __future__ import annotations

import pytest
from support.imports import by_text, counts, fixture, flat, rows, run, thread

from widget_server.importers import xmlstream
from widget_server.models import DELETED, PUBLISHED, SPAM

HELLO = "https://blog.example/2020/01/hello"
CLOSED = "https://blog.example/2020/02/closed/"
GONE = "https://blog.example/2020/03/gone/"


def test_threads_nesting_states_dates_and_sanitizing(runner, client, app):
    result = run(runner, "import", "disqus", fixture("disqus.xml"))
    assert "imported 8 comments" in result.output
    assert "its thread is not in the file" in result.output  # post 401
    assert "note: 1 x a <thread> without dsq:id was ignored" in result.output
    assert "skipped: 1\n" in result.output

    body = thread(client, HELLO + "?utm_source=x")  # the tracking parameter was dropped on import too
    assert body["thread"]["title"] == "Hello & welcome"
    assert body["thread"]["comment_count"] == 4
    top = body["comments"]
    assert [c["number"] for c in top] == [1, 2, 6]  # numbers follow the dates, not the file order
    al, tombstone, orphan = top
    assert al["author"]["name"] == "Al" and al["created_at"] == "2020-01-01T09:30:00Z"
    assert al["html"] == "<p>First!</p>\n<p>Second para</p>"
    [bea] = al["replies"]  # listed before its parent in the file
    assert bea["number"] == 3 and bea["created_at"] == "2020-01-02T10:00:00Z"  # +02:00 stored as UTC
    assert "<strong>you</strong> &amp; <a href=\"https://example.org/x\"" in bea["html"]
    assert tombstone["state"] == DELETED and tombstone["html"] == "" and tombstone["author"]["name"] == ""
    [answer] = tombstone["replies"]
    assert answer["author"]["name"] == "anon-user" and answer["created_at"] == "2020-01-03T13:00:00Z"
    assert orphan["author"]["name"] == "Di" and orphan["replies"] == []  # parent 999 missing: top-level
    everything = str(body)
    for bad in ("script", "alert", "onerror", "xss", "cheap watches"):
        assert bad not in everything

    stored = {c.number: c for c in rows(app, HELLO)}
    assert stored[5].state == SPAM and stored[5].text == "Buy cheap watches"  # kept for the record
    assert stored[2].state == DELETED and stored[2].text == "" and stored[2].email is None
    assert stored[1].import_key == "disqus:101" and stored[1].email == "al@example.org"
    assert stored[1].ip_hash and "203.0.113" not in stored[1].ip_hash
    assert all("<script" not in c.html for c in stored.values())

    closed = thread(client, CLOSED)
    assert closed["thread"]["locked"] is True
    [post] = closed["comments"]
    assert "Line one<br>\nline two" in post["html"]
    assert "<blockquote>" in post["html"] and "<li>a</li>" in post["html"]

    gone = thread(client, GONE)
    assert gone["comments"] == [] and gone["thread"]["comment_count"] == 0
    assert [c.state for c in rows(app, GONE)] == [DELETED]

    response = client.get("/api/v1/counts", query_string=[("url", HELLO), ("url", CLOSED), ("url", GONE)])
    assert response.json["counts"] == {HELLO: 4, CLOSED: 1, GONE: 0}


def test_importing_twice_creates_no_duplicates(runner, app):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    before = counts(app)
    again = run(runner, "import", "disqus", fixture("disqus.xml"))
    assert "imported 0 comments" in again.output
    assert "already imported before (skipped): 8" in again.output
    assert counts(app) == before == (3, 8)


def test_dry_run_reports_and_changes_nothing(runner, app):
    result = run(runner, "import", "disqus", fixture("disqus.xml"), "--dry-run")
    assert "would import 8 comments" in result.output
    assert "3 new" in result.output and "nothing was written" in result.output
    assert counts(app) == (0, 0)


def test_map_url_moves_threads(runner, client, app):
    run(runner, "import", "disqus", fixture("disqus.xml"), "--map-url", "https://blog.example/2020/=https://blog.example/archive/")
    body = thread(client, "https://blog.example/archive/01/hello")
    assert len(body["comments"]) == 3
    assert thread(client, HELLO)["comments"] == []


def test_map_url_needs_old_and_new(runner):
    result = run(runner, "import", "disqus", fixture("disqus.xml"), "--map-url", "nonsense", expect_ok=False)
    assert result.exit_code != 0 and "OLD=NEW" in result.output


@pytest.mark.parametrize("content, where", [
    ("<disqus><post dsq:id='1'><message>cut off", "line 1"),
    ('<?xml version="1.0"?>\n<disqus>\n  <post>\n    <message>x</mesage>\n  </post>\n</disqus>',
     "mismatched tag at line 4, column"),
])
def test_broken_file_names_the_position_and_leaves_the_database_alone(runner, app, tmp_path, content, where):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    before = counts(app)
    broken = tmp_path / "broken.xml"
    broken.write_text(content)
    result = run(runner, "import", "disqus", broken, expect_ok=False)
    assert result.exit_code == 1
    assert "not well-formed XML" in result.output and where in result.output
    assert counts(app) == before


def test_a_failure_while_writing_leaves_the_database_as_it_was(runner, app, monkeypatch):
    from widget_server.importers import writer

    calls = {"n": 0}
    real = writer.render

    def failing(text):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk on fire")
        return real(text)

    monkeypatch.setattr(writer, "render", failing)
    result = run(runner, "import", "disqus", fixture("disqus.xml"), expect_ok=False)
    assert result.exit_code == 1
    assert "nothing was written" in result.output and "disk on fire" in result.output
    assert counts(app) == (0, 0)


def test_entity_declarations_are_refused(runner, app, tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n'
                    '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
                    "<disqus><post><message>&b;</message></post></disqus>")
    result = run(runner, "import", "disqus", bomb, expect_ok=False)
    assert result.exit_code == 1 and "refused" in result.output
    assert counts(app) == (0, 0)


def test_tiny_read_chunks_give_the_same_result(runner, app, monkeypatch):
    """The stream repair and the parser must not care where chunk boundaries fall."""
    run(runner, "import", "disqus", fixture("disqus.xml"))
    def snapshot():
        return [(c.number, c.parent_id is not None, c.state, c.html, c.created_at) for c in rows(app, HELLO)]

    whole = snapshot()
    from support.app import wipe

    wipe(app)
    monkeypatch.setattr(xmlstream, "CHUNK", 7)
    run(runner, "import", "disqus", fixture("disqus.xml"))
    assert snapshot() == whole


def test_junk_before_the_declaration_and_unquoted_attributes_are_repaired(runner, client, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(xmlstream, "CHUNK", 5)
    export = tmp_path / "odd.xml"
    export.write_text(
        '`<?xml version="1.0" encoding="utf-8"?>\n'
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n'
        '<thread dsq:id=7><link>https://blog.example/odd</link><title a="x=y z">Odd</title></thread>\n'
        "<post dsq:id=8><message><![CDATA[<p>keep <a href=https://example.org/>this</a> as it is</p>]]>"
        "</message><createdAt>2020-01-01T00:00:00Z</createdAt><isDeleted>false</isDeleted>"
        "<isSpam>false</isSpam><author><name>Hal</name></author><thread dsq:id=7/></post>\n</disqus>\n")
    result = run(runner, "import", "disqus", export)
    assert "imported 1 comments" in result.output
    assert "bytes before the XML declaration were ignored" in result.output
    assert "attribute values without quotes were repaired" in result.output
    [comment] = thread(client, "https://blog.example/odd")["comments"]
    assert 'href="https://example.org/"' in comment["html"] and "as it is" in comment["html"]


def test_reimport_after_new_posts_links_replies_to_earlier_imports(runner, client, tmp_path):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    later = tmp_path / "later.xml"
    later.write_text(
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="10"><link>https://blog.example/2020/01/hello</link></thread>'
        '<post dsq:id="107"><message>late reply</message><createdAt>2020-02-01T00:00:00Z</createdAt>'
        '<author><name>Ivy</name></author><thread dsq:id="10"/><parent dsq:id="103"/></post></disqus>')
    run(runner, "import", "disqus", later)
    body = thread(client, HELLO)
    bea = by_text(body)[next(h for h in by_text(body) if "I agree" in h)]
    assert [r["html"] for r in bea["replies"]] == ["<p>late reply</p>"]
    assert max(c["number"] for c in flat(body["comments"])) == 7  # numbering goes on after the import
    assert all(c["state"] in (PUBLISHED, DELETED) for c in flat(body["comments"]))
