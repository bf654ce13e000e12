"""Live updates: one thread's changes as Server-Sent Events, from the change feed.

A stream listens to this process's ``delivery.feed``; each change of its
thread is sent as the feed made it (``Change.sse``: made once per process, not
per stream), with the thread's version as the event id. Versions are
consecutive per thread, so a stream that sees one skipped (or hears that the
feed was lost and is back) reads what it missed from ``thread_changes``; a
client that reconnects with ``Last-Event-ID`` gets the same. While the feed is
down a stream looks at the log once a second, so it is never further behind
than that.

Streams are capped per process and per client (``slots``): with gthread
workers at most half the threads may hold a stream, so ordinary requests
always have threads left (docs/architecture.md, "Live updates").
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Mapping

from flask import Flask
from sqlalchemy import select

from ..delivery.feed import Change, Feed
from ..errors import APIError
from ..extensions import db
from ..metrics import STREAMS, STREAMS_REFUSED
from ..models import Thread, ThreadChange

RETRY_MS = 3000  # what EventSource waits before it reconnects by itself
OUTAGE_CHECK = 1.0  # seconds between looks at the log while the feed is down
RETRY_AFTER = "10"
_CLOSE = object()  # put in every open stream's queue when the process shuts down
_OPEN: set[queue.SimpleQueue] = set()


def close_all() -> None:
    """End every open stream of this process now (gunicorn's SIGTERM, ops/gunicorn_conf.py):
    a graceful shutdown need not wait for them, and their clients reconnect elsewhere with
    Last-Event-ID. Safe in a signal handler: SimpleQueue.put is reentrant."""
    for _attempt in range(3):
        try:
            for heard in tuple(_OPEN):
                heard.put(_CLOSE)
            return
        except RuntimeError:  # the set changed while it was copied: once more
            continue


class Slots:
    """Open streams in this process: in all and per client."""

    def __init__(self):
        self._lock = threading.Lock()
        self.total = 0
        self._per_client: dict[str, int] = {}

    def take(self, client: str, config: Mapping[str, object]) -> None:
        most = int(config["STREAMS_MAX"])
        if config.get("WORKER_CLASS", "gthread") == "gthread":
            most = min(most, int(config["THREADS"]) // 2)
        with self._lock:
            if self.total >= most:
                cap = "instance"
            elif self._per_client.get(client, 0) >= int(config["STREAMS_PER_CLIENT"]):
                cap = "client"
            else:
                self.total += 1
                self._per_client[client] = self._per_client.get(client, 0) + 1
                STREAMS.inc()
                return
        STREAMS_REFUSED.labels(cap).inc()
        whose = "on this server" if cap == "instance" else "from you"
        raise APIError(503, "service_unavailable", f"too many open event streams ({whose}); "
                       "poll GET /api/v1/comments instead", headers={"Retry-After": RETRY_AFTER})

    def give_back(self, client: str) -> None:
        with self._lock:
            self.total -= 1
            left = self._per_client.pop(client, 1) - 1
            if left:
                self._per_client[client] = left
        STREAMS.dec()


def init_app(app: Flask) -> None:
    app.extensions["widget_stream_slots"] = Slots()


def missed(thread_id: int | None, url: str, after: int) -> list[Change]:
    """The logged changes of ``url``'s thread after version ``after``, oldest first."""
    if thread_id is None:
        thread_id = db.session.execute(select(Thread.id).where(Thread.url == url)).scalar()
        if thread_id is None:
            return []
    rows = db.session.execute(select(ThreadChange).where(
        ThreadChange.thread_id == thread_id, ThreadChange.version > after)
        .order_by(ThreadChange.version).limit(1000)).scalars().all()
    db.session.rollback()  # end the read's transaction: a stream holds no connection while it waits
    return [Change.from_row(row) for row in rows]


def stream(app: Flask, url: str, version: tuple | None, last_event_id: int | None,
           client: str) -> Iterator[bytes]:
    """The event stream of ``url``'s thread, whose current (thread id, version) is ``version``.

    The caller has taken a slot for ``client`` (``Slots.take``); it is given back when the
    stream ends, however it ends. Subscribes before anything is read, so nothing falls between.
    """
    feed: Feed = app.extensions["widget_feed"]
    heard: queue.SimpleQueue = queue.SimpleQueue()

    def listener(change: Change | None) -> None:
        if change is None or change.url == url:
            heard.put(change)

    feed.subscribe(listener)
    _OPEN.add(heard)
    thread_id, current = version if version else (None, 0)
    last = current if last_event_id is None else min(last_event_id, current)
    heartbeat = float(app.config["STREAMS_HEARTBEAT"])
    lifetime = float(app.config["STREAMS_LIFETIME"])  # then the client reconnects with Last-Event-ID

    def events() -> Iterator[bytes]:
        nonlocal last, thread_id
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            if last < current:
                yield from send(_missed(app, thread_id, url, last))
            opened = written = time.monotonic()
            while time.monotonic() - opened < lifetime:
                try:
                    change = heard.get(timeout=heartbeat if feed.fresh() else OUTAGE_CHECK)
                except queue.Empty:
                    change = None if not feed.fresh() else False  # feed down: look at the log itself
                if change is _CLOSE:
                    return
                if time.monotonic() - written >= heartbeat:
                    written = time.monotonic()
                    yield b": heartbeat\n\n"
                if change is False:
                    continue
                if change is not None:
                    thread_id = change.thread_id
                    if change.version <= last:
                        continue
                    if change.version == last + 1:
                        yield from send([change])
                        continue
                yield from send(_missed(app, thread_id, url, last, shared=change is None))
        finally:
            _OPEN.discard(heard)
            feed.unsubscribe(listener)
            app.extensions["widget_stream_slots"].give_back(client)

    def send(changes: list[Change]) -> Iterator[bytes]:
        nonlocal last
        for change in changes:
            if change.version > last:
                last = change.version
                if change.events:
                    yield change.sse()

    return events()


_RECENT_LOCK = threading.Lock()


def _missed(app: Flask, thread_id: int | None, url: str, after: int, shared: bool = False) -> list[Change]:
    """``missed``; ``shared``: an answer a moment old will do (after the feed was lost or came
    back every open stream looks at once: one query per thread, not one per stream)."""
    key = (url, after)
    recent = app.extensions.setdefault("widget_stream_missed", {})  # this app's database only
    with _RECENT_LOCK:
        found = recent.get(key)
        if shared and found is not None and time.monotonic() - found[0] < OUTAGE_CHECK / 2:
            return found[1]
        with app.app_context():
            changes = missed(thread_id, url, after)
        if len(recent) > 10_000:
            recent.clear()
        recent[key] = (time.monotonic(), changes)
        return changes
