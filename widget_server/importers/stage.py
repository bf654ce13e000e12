"""The scratch database one import stages its records in, and the import's options.

An import reads its file once into a temporary SQLite database, so a file of
any size is planned and written in batches with flat memory (loader.py).
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

BATCH = 500
_TS = "%Y-%m-%dT%H:%M:%S.%f"

_SCHEMA = """
CREATE TABLE threads (key TEXT PRIMARY KEY, url TEXT, title TEXT, locked INT, deleted INT,
                      created TEXT, last_number INT, target TEXT, reason TEXT, detail TEXT);
CREATE TABLE comments (
    seq INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, thread TEXT, parent TEXT, parent_orig INT,
    orig_id INT, created TEXT, number INT, data TEXT, line TEXT,
    status TEXT NOT NULL DEFAULT 'new',  -- new, existing, skip, known (a parent already in the database)
    target TEXT, dbid INT, depth INT, link_key TEXT, link_dbid INT, note TEXT, deleted_thread INT DEFAULT 0,
    change TEXT, hash TEXT);  -- change: update, baseline or restored (update.py)
CREATE INDEX ix_thread ON comments (thread);
CREATE INDEX ix_parent ON comments (parent);
CREATE INDEX ix_target ON comments (status, target, created, seq);
"""


@dataclass
class Options:
    fmt: str
    path: str
    map_urls: list[tuple[str, str]] = field(default_factory=list)
    site: str | None = None  # base for threads known only by their path (Isso, Commento)
    dry_run: bool = False
    progress: bool = False
    keep_numbers: bool = False  # our own export: numbers (and ids, into an empty database) carry over


class Stage:
    """The scratch database of one import."""

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="widget-import-", suffix=".sqlite3")
        os.close(fd)
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4000;"
                                + _SCHEMA)

    def close(self) -> None:
        self.conn.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def q(self, sql: str, params: Iterable = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))


def to_text(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(_TS) if value else None


def from_text(value: str | None) -> datetime | None:
    return datetime.strptime(value, _TS).replace(tzinfo=UTC) if value else None


def batches(st: Stage, sql: str, size: int = BATCH, order: str = "seq") -> Iterator[list[tuple]]:
    """Keyset pages of ``sql`` (which selects seq first and takes ``seq > ?``)."""
    last = 0
    while True:
        rows = st.q(f"{sql} ORDER BY {order} LIMIT ?", (last, size)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]
