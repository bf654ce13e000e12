"""The admin search: comments whose text, author or e-mail contains the words asked for.

One question on both databases, a case-insensitive substring (what ``ILIKE '%q%'`` answers),
served by an index where the migrations could build one (scale_2): on PostgreSQL the GIN
trigram indexes of pg_trgm serve ILIKE itself; on SQLite an FTS5 table with the trigram
tokenizer answers a phrase query for three characters or more. Shorter queries, and a database
without those structures, fall back to the plain scan. Callers order the matches (newest first).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, Select, column, or_, text

from ..extensions import db, memo
from ..models import SEARCH_TABLE, Comment
from ..pagination import keyset_page

# A trigram index needs three characters to look anything up.
MIN_INDEXED = 3
# Newest rows scanned before SQLite's FTS table is asked (page()).
WINDOW = 2000
_FTS = text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :phrase"  # noqa: S608
            ).columns(column("rowid", Integer))


def like_escaped(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _substring(q: str) -> ColumnElement[bool]:
    pattern = like_escaped(q)
    return or_(Comment.text.ilike(pattern, escape="\\"), Comment.author.ilike(pattern, escape="\\"),
               Comment.email.ilike(pattern, escape="\\"))


def _has_fts() -> bool:
    """Whether this SQLite database has the FTS5 table (a build without FTS5 has none)."""
    known = memo("widget_search_fts")
    url = str(db.engine.url)
    if url not in known:
        found = db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = :name"),
                                   {"name": SEARCH_TABLE}).first()
        known[url] = found is not None
    return known[url]


def phrase(q: str) -> str:
    """``q`` as one FTS5 phrase over the three columns: its characters taken literally."""
    return "{text author email} : \"" + q.replace('"', '""') + "\""


def _fts_usable(q: str) -> bool:
    return (db.session.get_bind().dialect.name == "sqlite" and len(q) >= MIN_INDEXED
            and q.isprintable() and _has_fts())


def matching(q: str) -> ColumnElement[bool]:
    """The condition "text, author or e-mail contains ``q``", case-insensitively."""
    return Comment.id.in_(_FTS.bindparams(phrase=phrase(q))) if _fts_usable(q) else _substring(q)


def page(query: Select, q: str, limit: int) -> tuple[list[Comment], bool]:
    """One page of ``query`` (filtered, ordered newest first, past the cursor) narrowed to ``q``.

    SQLite's planner cannot tell a common word from a rare one: the FTS table hands over every
    match, which costs what the matches number. So the newest ``WINDOW`` rows are tried first
    with the plain condition; a page found there is the same page (same order, same rows), and
    only a query whose matches are rare (fewer than a page among them) asks the FTS table.
    PostgreSQL's planner makes that choice itself, from its statistics.
    """
    if _fts_usable(q):
        window = query.with_only_columns(Comment.id).limit(WINDOW).scalar_subquery()
        rows, more = keyset_page(query.where(Comment.id.in_(window), _substring(q)), limit)
        if more:
            return rows, more
    return keyset_page(query.where(matching(q)), limit)
