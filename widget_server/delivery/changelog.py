"""The change log: every thread version bump of a transaction, described for readers and written
to ``thread_changes`` in that transaction, then handed to the feed (delivery/feed.py) after the
commit.

Every thread version bump (``comments.threads``) is recorded here through ``events``, described
(a comment created, a thread locked ...) and, before the commit, written to ``thread_changes``: a
row exists exactly when its change was committed, and per thread the versions are consecutive and
in commit order (the bump takes the thread's row lock), so a thread's version is its events' id.
The log keeps ``KEEP_LOG``; the writers prune it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import Text, bindparam, cast, delete, event, func, insert, select

from .. import clock
from ..extensions import db
from ..models import PUBLISHED, Comment, ThreadChange

# How long the log keeps a change: a page that comes back later than this resumes with a
# ``resync`` event (comments/live.py) and reads the thread again. Pruned by the writers
# themselves, at most once per PRUNE_EVERY seconds per process: the log never grows with time.
KEEP_LOG = timedelta(days=7)
PRUNE_EVERY = 3600.0
_pruned_at: float | None = None
_PENDING = "widget_feed_pending"


@dataclass
class Change:
    """One thread version: which thread, and the events (name, payload) it makes for streams."""

    thread_id: int
    url: str
    version: int
    events: list = field(default_factory=list)
    _sse: bytes | None = field(default=None, repr=False)
    _chunk: bytes | None = field(default=None, repr=False)

    def sse(self) -> bytes:
        """The Server-Sent Events text of this change, made once per process for every stream."""
        if self._sse is None:
            self._sse = b"".join(
                f"event: {name}\nid: {self.version}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
                .encode() for name, data in self.events)
        return self._sse

    def chunk(self) -> bytes:
        """``sse()`` as one HTTP/1.1 chunk (comments/live.py writes it to sockets itself)."""
        if self._chunk is None:
            sse = self.sse()
            self._chunk = b"%x\r\n%s\r\n" % (len(sse), sse) if sse else b""
        return self._chunk

    def message(self) -> str:
        return json.dumps({"t": self.thread_id, "u": self.url, "v": self.version, "e": self.events},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_message(cls, raw: str | bytes) -> Change:
        data = json.loads(raw)
        return cls(data["t"], data["u"], data["v"], data["e"])

    @classmethod
    def from_row(cls, row) -> Change:
        return cls(row.thread_id, row.url, row.version, json.loads(row.data) if row.data else [])


# --- recording, in the writer's transaction ----------------------------------------------------


def bumped(thread_id: int, url: str, version: int) -> None:
    """The thread's version moved to ``version`` in the current transaction."""
    db.session.info.setdefault(_PENDING, []).append(Change(thread_id, url, version))


def describe(thread_id: int, name: str, data: dict) -> None:
    """Attach an event (``comment`` or ``thread``) to the thread's latest bump in this transaction."""
    for change in reversed(db.session.info.get(_PENDING, [])):
        if change.thread_id == thread_id:
            change.events.append([name, data])
            return


# Built once, run on the session's connection. A comment event's change carries the thread's published
# count: one INSERT … SELECT counts it into the JSON at the marker (quoted, never inside a string).
_CHANGES, _COMMENTS, _MARK = ThreadChange.__table__, Comment.__table__, "__count__"
_LOG = insert(_CHANGES)
_LOG_COUNTED = insert(_CHANGES).from_select(
    ["thread_id", "url", "version", "kind", "change", "data", "at"],
    select(*(bindparam(name, type_=_CHANGES.c[name].type) for name in ("thread_id", "url", "version", "kind",
                                                                          "change")),
           bindparam("head", type_=Text()) + cast(func.count(), Text()) + bindparam("tail", type_=Text()),
           bindparam("at", type_=_CHANGES.c.at.type))
    .where(_COMMENTS.c.thread_id == bindparam("thread_id"), _COMMENTS.c.state == PUBLISHED)
).returning(_CHANGES.c.data)


def _row(change: Change, now) -> dict:
    first = change.events[0] if change.events else ("", {})
    return {"thread_id": change.thread_id, "url": change.url, "version": change.version, "kind": first[0],
            "change": first[1].get("change", ""), "at": now,
            "data": json.dumps(change.events, ensure_ascii=False, separators=(",", ":"))}


def _write_log(session, *_args) -> None:
    changes = session.info.get(_PENDING)
    if not changes:
        return
    now, plain = clock.now(), []
    session.flush()  # what the count must see (the ORM's autoflush, done once)
    connection = session.connection()
    for change in changes:
        if not any(name == "comment" for name, _ in change.events):
            plain.append(_row(change, now))
            continue
        count = {"url": change.url, "comment_count": _MARK}  # follows each comment event
        change.events.append(["thread", {"change": "count", "thread": count}])
        row = _row(change, now)
        head, tail = row.pop("data").rsplit(json.dumps(_MARK), 1)
        data = connection.execute(_LOG_COUNTED, row | {"head": head, "tail": tail}).scalar_one()
        count["comment_count"] = int(data[len(head):len(data) - len(tail)])
    if plain:
        connection.execute(_LOG, plain)
    global _pruned_at
    if _pruned_at is None or time.monotonic() - _pruned_at >= PRUNE_EVERY:
        # In the writer's transaction: by the index on ``at``, only what expired since the last
        # prune (an hour's worth); several processes pruning at once delete the same rows.
        _pruned_at = time.monotonic()
        session.execute(delete(ThreadChange).where(ThreadChange.at < now - KEEP_LOG))


def _publish(session) -> None:
    changes = session.info.pop(_PENDING, None)
    if changes and has_app_context():
        feed = current_app.extensions.get("widget_feed")
        if feed is not None:
            feed.publish(changes)


def _forget(session, *_args) -> None:
    session.info.pop(_PENDING, None)


def listen_to_sessions() -> None:
    """Hook the session: the log is written before each commit, published after it."""
    if not event.contains(db.session, "before_commit", _write_log):
        event.listen(db.session, "before_commit", _write_log)
        event.listen(db.session, "after_commit", _publish)
        event.listen(db.session, "after_rollback", _forget)
