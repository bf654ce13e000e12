"""Cusdis, from its database tables (Cusdis has no export: its README asks users to write in).

Its schema (``prisma/*/schema.prisma``): ``pages(id, slug, url, title, projectId, ...)`` and
``comments(id, pageId, parentId, by_nickname, by_email, content, approved, deletedAt,
moderatorId, created_at, updated_at)``. Read from either
- the SQLite database of a Cusdis that runs on SQLite (``DB_TYPE=sqlite``), opened read-only; or
- a JSON dump of the two tables, ``{"pages": [rows], "comments": [rows]}`` with the columns by
  name, as PostgreSQL or MySQL write it (docs/migrating.md has the one command).

``content`` is Markdown, as here. A comment not ``approved`` is held for moderation, one with
``deletedAt`` is deleted. A page is its ``url``, else its ``slug`` on ``--site``.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED
from .base import CommentRecord, ImportFailed, Skip, Summary, ThreadRecord, clean_email, finish
from .jsonstream import items
from .peers import flag, loose_datetime, maybe_gunzip, text_id

FORMAT = "cusdis"
BINARY = True  # an SQLite file or a JSON dump: the reader opens it itself
SQLITE_MAGIC = b"SQLite format 3\x00"
COMMENT_COLUMNS = ("id", "pageId", "parentId", "by_nickname", "by_email", "content", "approved", "deletedAt",
                   "created_at", "updated_at")


def _thread(row: dict) -> ThreadRecord:
    url = str(row.get("url") or "").strip() or str(row.get("slug") or "").strip()
    return ThreadRecord(key=text_id(row.get("id")), url=url or None, title=str(row.get("title") or ""),
                        where=f"page {text_id(row.get('id'))}")


def _comment(row: dict) -> CommentRecord | Skip:
    where = f"comment {text_id(row.get('id'))}"
    if not text_id(row.get("id")) or not text_id(row.get("pageId")):
        return Skip("a comment without id or pageId", where)
    try:
        created = loose_datetime(row.get("created_at"))
    except ValueError:
        return Skip("created_at is missing or not a date", f"{row.get('created_at')!r} in {where}")
    parent = text_id(row.get("parentId"))
    state = DELETED if row.get("deletedAt") else PUBLISHED if flag(row.get("approved")) else PENDING
    return finish(CommentRecord(
        key=f"{FORMAT}:{text_id(row['id'])}", thread=text_id(row["pageId"]), created_at=created,
        parent=f"{FORMAT}:{parent}" if parent else None, text=str(row.get("content") or ""),
        author=str(row.get("by_nickname") or ""), email=clean_email(row.get("by_email")), state=state,
        where=where))


def _from_sqlite(name: str) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    try:
        conn = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"{name} is not a Cusdis database: {exc}") from None
    try:
        if not {"pages", "comments"} <= tables:
            raise ImportFailed(f"{name} is not a Cusdis database: it has no 'pages' and 'comments' tables")
        for row in conn.execute("SELECT id, slug, url, title FROM pages"):
            yield _thread(dict(row))
        columns = ", ".join(f'"{c}"' for c in COMMENT_COLUMNS)
        for row in conn.execute(f"SELECT {columns} FROM comments ORDER BY created_at"):  # noqa: S608
            yield _comment(dict(row))
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"{name} cannot be read as a Cusdis database: {exc}") from None
    finally:
        conn.close()


def read(_fh: BinaryIO | None, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    with open(name, "rb") as raw:
        if raw.read(16) == SQLITE_MAGIC:
            yield from _from_sqlite(name)
            return
        raw.seek(0)
        for prefix, row in items(maybe_gunzip(raw), name, {"pages.item", "comments.item"}):
            if not isinstance(row, dict):
                yield Skip(f"{prefix.split('.')[0]} entries that are not rows")
            elif prefix == "pages.item":
                yield _thread(row)
            else:
                yield _comment(row)
