"""The change feed: every committed change to a thread, heard by every instance.

Every thread version bump is recorded, described and logged to ``thread_changes``
in its transaction (delivery/changelog.py). After the commit the changes are
published:

- to this process at once (a write is seen by the next read here);
- with ``WIDGET_REDIS_URL``, by Redis pub/sub to every other process; a
  subscriber thread pings Redis and counts as alive only while answers come;
- without Redis, every process polls ``thread_changes`` (SQLite with several
  workers, or one PostgreSQL machine): one indexed query per ``POLL`` seconds.

``Feed.version(url)`` is what the read path asks instead of the database. It
answers only while the transport has proven itself within ``STALE_AFTER``
seconds; otherwise (Redis gone, a poll failing) the read path asks the
database per request, as before, and the loss is logged and shown in
``/metrics``. When the transport comes back the known versions are forgotten
(anything missed meanwhile is read again) and open streams fill their gaps
from ``thread_changes``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from ..extensions import db
from ..metrics import FEED_LOST, FEED_UP
from ..models import ThreadChange
from .changelog import Change, listen_to_sessions

__all__ = ["MISSING", "Change", "Feed", "init_app"]

log = logging.getLogger(__name__)

STALE_AFTER = 0.5  # seconds without proof of life before reads ask the database again
PING_EVERY = 0.1  # seconds between pings to Redis, and between polls of the database
GAP_WAIT = 2.0  # seconds a hole in the log's ids may still be filled by a slower commit
IDLE = 30.0  # seconds without a read or a stream after which the transport rests (restarted on use)
UNSENT_MOST = 10_000  # changes kept for Redis while it cannot be reached (older ones: readers look)
MISSING = object()  # "ask the database": not known, or the feed is not live


# --- one process's view of the feed ----------------------------------------------------------


class Feed:
    """The versions this process knows to be current, the transport that keeps them so,
    and the open streams' listeners."""

    def __init__(self, app: Flask):
        self.app = app
        self.redis_url = app.config.get("REDIS_URL")
        self.channel = f"{app.config.get('RATELIMIT_NAMESPACE') or 'widget'}:changes"
        self.mode = "redis" if self.redis_url else "database"
        self._versions: dict[str, tuple | None] = {}
        self.generation = 0  # moves on whenever what was missed cannot be known
        self.alive_at = 0.0
        self._up = False
        self._lock = threading.Lock()
        # Streams' listeners by thread URL: a change wakes only its own thread's streams.
        self._listeners: dict[str, set[Callable[[Change | None], None]]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._publisher = None
        self.used_at = time.monotonic()
        # Called by the transport's thread on every turn (about every PING_EVERY): work that
        # would otherwise fall on a request now and then (the sites registry's check).
        self.tickers: list[Callable[[], None]] = []
        self._unsent: list[Change] = []  # published here, not yet to Redis (``_send_unsent``)

    # the read path

    def fresh(self) -> bool:
        return time.monotonic() - self.alive_at < STALE_AFTER

    def version(self, url: str):
        """(thread id, version) or None (no thread) as the feed knows it, or MISSING."""
        self.used_at = time.monotonic()
        self.start()
        if not self.fresh():
            return MISSING
        return self._versions.get(url, MISSING)

    def remember(self, url: str, version: tuple | None, generation: int) -> None:
        """What the database said, unless the feed has moved on meanwhile."""
        with self._lock:
            if generation != self.generation or not self.fresh():
                return
            if len(self._versions) > 100_000:
                self._versions.clear()
            known = self._versions.get(url)
            if known is None or (version is not None and version > known):
                self._versions[url] = version

    # changes in

    def deliver(self, changes: list[Change]) -> None:
        with self._lock:
            for change in changes:
                known = self._versions.get(change.url)
                if known is None or known[1] < change.version:
                    self._versions[change.url] = (change.thread_id, change.version)
            heard = [(change, tuple(self._listeners.get(change.url, ()))) for change in changes]
        for change, listeners in heard:
            for listener in listeners:
                listener(change)

    def publish(self, changes: list[Change]) -> None:
        """After a commit here: this process at once, then the others."""
        self.deliver(changes)
        if self.mode != "redis":
            return  # the other processes read the log
        with self._lock:
            self._unsent.extend(changes)
            del self._unsent[:-UNSENT_MOST]
        self._send_unsent()

    def _send_unsent(self) -> None:
        """Publish what is waiting, oldest first. What could not be published stays and goes
        out with the next publish or the feed thread's next turn: a subscriber that never lost
        Redis (only this process could not reach it) would otherwise not hear of it until the
        thread's next change. Sent twice does no harm: versions only move forward."""
        with self._lock:
            waiting, self._unsent = self._unsent, []
        if not waiting:
            return
        try:
            if self._publisher is None:
                import redis

                self._publisher = redis.Redis.from_url(self.redis_url, socket_timeout=0.5,
                                                       socket_connect_timeout=0.25)
            while waiting:
                self._publisher.publish(self.channel, waiting[0].message())
                del waiting[0]
        except Exception as exc:  # noqa: BLE001 - Redis gone: kept for the next try
            with self._lock:
                self._unsent[:0] = waiting
                del self._unsent[:-UNSENT_MOST]
            self._lost(f"publishing failed: {exc}")

    # health

    def _alive(self) -> None:
        self.alive_at = time.monotonic()
        if not self._up:
            self._up = True
            FEED_UP.set(1)
            log.info("change feed up (%s): cached reads ask the database nothing", self.mode)

    def _lost(self, why: str) -> None:
        self.alive_at = 0.0
        if self._up:
            self._up = False
            FEED_UP.set(0)
            FEED_LOST.inc()
            log.warning("change feed lost (%s: %s): reads check versions per request until it is back",
                        self.mode, why)
            for listener in self._every_listener():
                listener(None)  # streams wake up and watch the log themselves meanwhile

    def _regained(self) -> None:
        """Anything may have been missed: forget what is known, and tell the streams to look."""
        with self._lock:
            self.generation += 1
            self._versions.clear()
        self._alive()
        for listener in self._every_listener():
            listener(None)

    # streams

    def subscribe(self, url: str, listener: Callable[[Change | None], None]) -> None:
        """``listener`` hears every change of ``url``'s thread, and None whenever the feed was
        lost or came back (anything may have been missed: look at the log)."""
        with self._lock:
            self._listeners.setdefault(url, set()).add(listener)
        self.used_at = time.monotonic()
        self.start()

    def unsubscribe(self, url: str, listener) -> None:
        with self._lock:
            listeners = self._listeners.get(url)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[url]

    def _every_listener(self) -> list:
        with self._lock:
            return [listener for listeners in self._listeners.values() for listener in listeners]

    # the transport, in a thread of its own (started in the serving process, after any fork)

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None:
                return
            target = self._run_redis if self.mode == "redis" else self._run_database
            self._thread = threading.Thread(target=target, name="widget-feed", daemon=True)
            self._thread.start()

    def stop(self, wait: float = 2.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def _resting(self) -> bool:
        """Whether to end the transport's thread: asked to, or nobody used the feed for IDLE s."""
        return self._stop.is_set() or (not self._listeners and time.monotonic() - self.used_at > IDLE)

    def _ended(self) -> None:
        with self._lock:
            self.alive_at, self._up, self._thread = 0.0, False, None
        FEED_UP.set(0)

    def _run_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_timeout=1, socket_connect_timeout=0.5)
        while not self._resting():
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                last_ping = 0.0
                while not self._resting():
                    now = time.monotonic()
                    if now - last_ping >= PING_EVERY:
                        pubsub.ping()
                        last_ping = now
                    if self._up and now - self.alive_at > 4 * STALE_AFTER:
                        raise TimeoutError("Redis stopped answering")
                    self._on_message(pubsub.get_message(timeout=PING_EVERY))
                    if self._unsent and self._up:
                        self._send_unsent()
                    self._tick()
            except Exception as exc:  # noqa: BLE001 - any failure: reads fall back, then retry
                self._lost(str(exc) or type(exc).__name__)
                self._stop.wait(PING_EVERY)
            finally:
                pubsub.close()
        client.close()
        self._ended()

    def _tick(self) -> None:
        for ticker in self.tickers:
            try:
                ticker()
            except Exception:  # noqa: BLE001 - a ticker's failure must not stop the feed
                log.debug("a feed ticker failed", exc_info=True)

    def _on_message(self, message) -> None:
        if message is None:
            return
        kind = message["type"]
        if kind == "subscribe":
            self._regained()
        elif kind == "message":
            self.deliver([Change.from_message(message["data"])])
            self._alive()
        elif kind == "pong":
            self._alive()

    def _run_database(self) -> None:
        with self.app.app_context():
            cursor: int | None = None
            gap_since: float | None = None
            while not self._resting():
                try:
                    with db.engine.connect() as connection:
                        if cursor is None:
                            cursor = connection.execute(select(func.max(ThreadChange.id))).scalar() or 0
                            self._regained()
                        rows = connection.execute(select(ThreadChange).where(ThreadChange.id > cursor)
                                                  .order_by(ThreadChange.id).limit(500)).all()
                        connection.rollback()
                    self._alive()
                except Exception as exc:  # noqa: BLE001 - the database is away: reads fail on their own
                    self._lost(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                    self._stop.wait(PING_EVERY)
                    continue
                if rows:
                    self.deliver([Change.from_row(row) for row in rows])
                cursor, gap_since = _advance(cursor, [row.id for row in rows], gap_since)
                self._tick()
                self._stop.wait(PING_EVERY)
        self._ended()


def _advance(cursor: int, ids: list[int], gap_since: float | None) -> tuple[int, float | None]:
    """Move the poll's cursor over consecutive ids only: on PostgreSQL a later id may commit
    first, so a hole is read again until it is filled or ``GAP_WAIT`` has passed (a rollback).
    Changes read twice do no harm: versions only move forward and streams skip what they sent."""
    for row_id in ids:
        if row_id != cursor + 1:
            now = time.monotonic()
            if gap_since is None:
                return cursor, now
            if now - gap_since < GAP_WAIT:
                return cursor, gap_since
        cursor, gap_since = row_id, None
    return cursor, gap_since


def init_app(app: Flask) -> None:
    listen_to_sessions()
    app.extensions["widget_feed"] = Feed(app)
