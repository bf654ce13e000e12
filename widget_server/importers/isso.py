"""An Isso SQLite database (``comments.db``): tables ``threads`` and ``comments``.

``threads(id, uri, title)``; ``comments(tid, id, parent, created, modified,
mode, remote_addr, text, author, email, website, likes, dislikes, voters,
notification)`` with ``created``/``modified`` as seconds since the epoch and
``mode`` 1 (accepted), 2 (waiting for moderation), 4 (deleted). Thread URIs
are paths: ``--site`` says which site they are on. The text is Markdown, as
here. The database is opened read-only and read row by row.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED
from ..security import imported_ip_hash
from .base import (
    CommentRecord,
    ImportFailed,
    Skip,
    Summary,
    ThreadRecord,
    clean_email,
    clean_website,
    finish,
    parse_timestamp,
)

FORMAT = "isso"
MODES = {1: PUBLISHED, 2: PENDING, 4: DELETED}
BINARY = True  # not a text stream: the reader opens the file itself


def _open(name: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"{name} is not an Isso database: {exc}") from None
    if not {"threads", "comments"} <= tables:
        conn.close()
        raise ImportFailed(f"{name} is not an Isso database: it has no 'threads' and 'comments' tables")
    return conn


def read(_fh: BinaryIO | None, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    conn = _open(name)
    try:
        for tid, uri, title in conn.execute("SELECT id, uri, title FROM threads ORDER BY id"):
            yield ThreadRecord(key=str(tid), url=uri, title=title or "", where=f"thread {tid}")
        rows = conn.execute("SELECT id, tid, parent, created, modified, mode, remote_addr, text, author,"
                            " email, website, likes FROM comments ORDER BY id")
        for cid, tid, parent, created, modified, mode, address, text, author, email, website, likes in rows:
            where = f"comment {cid}"
            try:
                created_at = parse_timestamp(created)
                edited_at = parse_timestamp(modified) if modified else None
            except ValueError:
                yield Skip("created is not a time", f"{created!r} in {where}")
                continue
            yield finish(CommentRecord(
                key=f"{FORMAT}:{cid}", thread=str(tid), created_at=created_at, edited_at=edited_at,
                parent=f"{FORMAT}:{parent}" if parent is not None else None, text=text or "",
                author=author or "", email=clean_email(email), website=clean_website(website),
                state=MODES.get(mode, PENDING), likes=likes or 0,
                ip_hash=imported_ip_hash(address), where=where,
            ))
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"{name} cannot be read as an Isso database: {exc}") from None
    finally:
        conn.close()
