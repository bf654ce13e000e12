"""The admin search: one meaning on both databases (a case-insensitive substring of the text,
the author or the e-mail), newest first, kept current by the database as comments change, and
answered through an index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)."""
from __future__ import annotations

import pytest
from support import factories
from support.app import PAGE

from widget_server.comments import service as comments
from widget_server.extensions import db
from widget_server.models import Comment
from widget_server.moderation import search, service

COMMENTS = [  # (text, author, email)
    ("The muscle spasms stopped after a week", "Ann", "ann@example.org"),
    ("Magnesium helped me", "Bob Stretch", None),
    ("100% agree, and 50_50 odds", "Cleo", "cleo@Mail.Example"),
    ('She said "stretch first"', "", None),
    ("Nothing to see", "Dan", "dan@example.org"),
]


@pytest.mark.parametrize(("q", "expected"), [
    ("spasms", ["The muscle spasms stopped after a week"]),
    ("SPASMS", ["The muscle spasms stopped after a week"]),  # any case
    ("stretch", ['She said "stretch first"', "Magnesium helped me"]),  # text and author, newest first
    ("mail.example", ["100% agree, and 50_50 odds"]),  # the e-mail, stored in another case
    ("100%", ["100% agree, and 50_50 odds"]),  # % and _ are characters, not wildcards
    ("0_5", ["100% agree, and 50_50 odds"]),
    ("%", ["100% agree, and 50_50 odds"]),  # short: the scan, same meaning
    ("me", ["Magnesium helped me"]),
    ('"stretch', ['She said "stretch first"']),  # a quote inside the phrase
    ("spasms stopped", ["The muscle spasms stopped after a week"]),
    ("stopped spasms", []),  # words in this order only
    ("zzz", []),
])
@pytest.mark.parametrize("window", [1, 3, 2000])  # SQLite: the FTS table, the newest rows, or both
def test_search_finds_substrings_newest_first(app, db_session, frozen_clock, monkeypatch, window, q,
                                              expected):
    monkeypatch.setattr(search, "WINDOW", window)
    for n, (text, author, email) in enumerate(COMMENTS):
        factories.comment(text, url=f"{PAGE}/{n}", author=author, email=email)
        frozen_clock.advance(minutes=1)
    rows, more = service.search(None, None, q, 10, None)
    assert [c.text for c in rows] == expected
    assert more is False
    first, more = service.search(None, None, q, 1, None)  # a page found among the newest rows
    assert [c.text for c in first] == expected[:1] and more == (len(expected) > 1)


def test_search_follows_edits_and_deletes(app, db_session):
    kept = factories.comment("an unusual word: quokka")
    gone = factories.comment("another quokka", url=f"{PAGE}/2")
    erased = factories.comment("a third quokka", url=f"{PAGE}/3")
    assert {c.id for c in service.search(None, None, "quokka", 10, None)[0]} == {kept.id, gone.id, erased.id}
    comments.remove(gone)  # a tombstone: its text is emptied
    db.session.delete(erased)  # the row itself goes
    kept.text = "now about wombats"
    db.session.flush()
    assert service.search(None, None, "quokka", 10, None)[0] == []
    assert [c.id for c in service.search(None, None, "wombat", 10, None)[0]] == [kept.id]


def test_search_pages_with_the_cursor(app, db_session, frozen_clock):
    made = []
    for n in range(5):
        made.append(factories.comment(f"page test {n}", url=f"{PAGE}/{n}"))
        frozen_clock.advance(minutes=1)
    first, more = service.search(None, None, "page test", 2, None)
    assert more
    after = (first[-1].created_at, first[-1].id)
    second, _ = service.search(None, None, "page test", 10, after)
    assert [c.id for c in first + second] == [c.id for c in reversed(made)]


def test_the_index_answers(app, db_session):
    """The long query goes through the search structure (FTS5 on SQLite, pg_trgm on PostgreSQL)."""
    factories.comment("indexed words here")
    condition = search.matching("indexed words")
    query = db.select(Comment.id).where(condition)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
        assert "ix_comments_text_trgm" in plan, plan
    else:
        plan = "\n".join(r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        assert "VIRTUAL TABLE INDEX" in plan and "comments_search" in plan, plan
