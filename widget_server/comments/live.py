"""Live updates: one thread's changes as Server-Sent Events, from the change feed.

A stream listens to this process's ``delivery.feed``; each change of its thread is sent as the
feed made it (``Change.sse``: once per process), with the thread's version as the event id.
Versions are consecutive per thread, so a stream that sees one skipped (or hears that the feed
was lost and is back) reads what it missed from ``thread_changes``; so does a client that
reconnects with ``Last-Event-ID``. While the feed is down a stream looks at the log once a second.
Streams are capped per process and per client (``slots``): with gthread workers at most half the
threads may hold one, so ordinary requests always have threads left (docs/architecture.md).
"""
from __future__ import annotations

import _socket  # the OS socket's type, which gevent's socket wraps (socket.socket is gevent's then)
import contextlib
import functools
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from flask import Flask
from sqlalchemy import select

from ..delivery.feed import Change, Feed
from ..errors import APIError
from ..extensions import db
from ..metrics import STREAMS, STREAMS_REFUSED
from ..models import Thread, ThreadChange

RETRY_MS = 3000  # what EventSource waits before it reconnects by itself
OUTAGE_CHECK = 1.0  # seconds between looks at the log while the feed is down
RETRY_AFTER, RETRY = "10", f"retry: {RETRY_MS}\n\n".encode()
HEARTBEAT = b": heartbeat\n\n"
PENDING_MAX = 256  # writes a stream may fall behind before it is cut (it resumes with Last-Event-ID)
_CLOSE = object()  # put in every open stream's queue when the process shuts down
_OPEN: set[Callable[[], None]] = set()  # how to end each open stream of this process


def close_all() -> None:
    """End every open stream of this process now (gunicorn's SIGTERM, ops/gunicorn_conf.py):
    a graceful shutdown need not wait for them, and their clients reconnect elsewhere with
    Last-Event-ID. Safe in a signal handler: SimpleQueue.put is reentrant, and under gevent
    the handler runs in a greenlet of its own."""
    for _attempt in range(3):
        try:
            for end in tuple(_OPEN):
                end()
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
    app.extensions["widget_stream_threads"] = {}  # url -> _Thread, under gevent only


def missed(thread_id: int | None, url: str, after: int) -> list[Change]:
    """The logged changes of ``url``'s thread after version ``after``, oldest first. When the log
    no longer holds the first of them (it keeps a week: delivery/changelog.py ``KEEP_LOG``; a restore
    starts it anew), a ``resync`` event comes first: the client reads the thread again."""
    if thread_id is None:
        thread_id = db.session.execute(select(Thread.id).where(Thread.url == url)).scalar()
        if thread_id is None:
            return []
    rows = db.session.execute(select(ThreadChange).where(
        ThreadChange.thread_id == thread_id, ThreadChange.version > after)
        .order_by(ThreadChange.version).limit(1000)).scalars().all()
    if rows:
        unlogged_until = rows[0].version - 1
    else:
        current = db.session.execute(select(Thread.version).where(Thread.id == thread_id)).scalar()
        unlogged_until = current or 0
    db.session.rollback()  # end the read's transaction: a stream holds no connection while it waits
    changes = [Change.from_row(row) for row in rows]
    if unlogged_until > after:
        changes.insert(0, Change(thread_id, url, unlogged_until,
                                 [["thread", {"change": "resync", "thread": {"url": url}}]]))
    return changes


def stream(app: Flask, url: str, read_version: Callable[[], tuple | None], last_event_id: int | None,
           client: str, environ: Mapping[str, object] | None = None) -> Iterator[bytes]:
    """The event stream of ``url``'s thread; ``read_version`` tells its current (thread id, version).

    The caller has taken a slot for ``client`` (``Slots.take``); it is given back when the
    stream ends, however it ends. Subscribes before the version is read, so nothing falls between.
    Under gunicorn's gevent worker the stream's socket is written by the fan-out (``_Direct``);
    elsewhere (gthread, the test client) each stream waits on a queue of its own.
    """
    feed: Feed = app.extensions["widget_feed"]
    sock = _own_socket(app, environ)
    try:
        if sock is not None:
            return _direct(app, feed, url, read_version, last_event_id, client, sock,
                           chunked=environ["SERVER_PROTOCOL"] == "HTTP/1.1")  # type: ignore[index]
        return _queued(app, feed, url, read_version, last_event_id, client)
    except BaseException:
        app.extensions["widget_stream_slots"].give_back(client)
        raise


def _queued(app: Flask, feed: Feed, url: str, read_version, last_event_id: int | None,
            client: str) -> Iterator[bytes]:
    """One queue and one generator step per change: for threaded workers (at most
    ``THREADS // 2`` streams) and the test client."""
    heard: queue.SimpleQueue = queue.SimpleQueue()
    feed.subscribe(url, heard.put)
    close = functools.partial(heard.put, _CLOSE)
    _OPEN.add(close)
    try:
        version = read_version()
    except BaseException:
        _OPEN.discard(close)
        feed.unsubscribe(url, heard.put)
        raise
    thread_id, current = version if version else (None, 0)
    last = current if last_event_id is None else min(last_event_id, current)
    heartbeat = float(app.config["STREAMS_HEARTBEAT"])
    lifetime = float(app.config["STREAMS_LIFETIME"])  # then the client reconnects with Last-Event-ID

    def events() -> Iterator[bytes]:
        nonlocal last, thread_id
        try:
            yield RETRY
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
                    yield HEARTBEAT
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
            _OPEN.discard(close)
            feed.unsubscribe(url, heard.put)
            app.extensions["widget_stream_slots"].give_back(client)

    def send(changes: list[Change]) -> Iterator[bytes]:
        nonlocal last
        for change in changes:
            if change.version > last:
                last = change.version
                if change.events:
                    yield change.sse()

    return events()


# --- under gevent: one fan-out per change writes the ready bytes to every socket of its thread --


def _own_socket(app: Flask, environ: Mapping[str, object] | None):
    """The client's socket, when the stream may write to it itself: gunicorn's gevent worker, a
    plain HTTP/1.x GET (gunicorn then frames the body with chunks for 1.1, with none for 1.0, and
    never changes it on the way), a gevent socket over the OS one (not TLS)."""
    if environ is None or app.config.get("WORKER_CLASS") != "gevent":
        return None
    sock = environ.get("gunicorn.socket")
    if (environ.get("REQUEST_METHOD") != "GET"
            or environ.get("SERVER_PROTOCOL") not in ("HTTP/1.1", "HTTP/1.0")
            or sock is None or hasattr(sock, "do_handshake")  # TLS: its bytes are not ours to send
            or not isinstance(getattr(sock, "_sock", None), _socket.socket)):
        return None
    return sock


_GAP, _LOOK = 1, 2  # why a stream must read the log: a version skipped; the feed lost or back


class _Direct:
    """One open stream, written to by whoever has its next bytes first: the fan-out while the
    socket takes them at once, else (``pending``) its own greenlet, in order."""

    __slots__ = ("send", "sock", "chunked", "last", "pending", "wake", "check", "closed", "ending")

    def __init__(self, sock, chunked: bool, last: int):
        self.sock = sock._sock
        self.send = self.sock.send  # the OS socket, non-blocking: never waits, raises instead
        self.chunked = chunked
        self.last = last
        self.pending: list[bytes] | None = []  # until the headers are out
        self.wake = threading.Event()
        self.check = 0
        self.closed = self.ending = False

    def write(self, data: bytes) -> None:
        if self.pending is not None:
            self.pending.append(data)
            if len(self.pending) > PENDING_MAX and not self.closed:  # a client that does not read
                self.closed = True
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)  # its greenlet's send fails now: it ends
                self.wake.set()
            return
        try:
            sent = self.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:  # the client is gone
            self.closed = True
            self.wake.set()
            return
        if sent < len(data):
            self.pending = [data[sent:]]
            self.wake.set()

    def look(self, why: int) -> None:
        self.check |= why
        self.wake.set()

    def end(self) -> None:
        self.ending = True
        self.wake.set()


class _Thread:
    """The open streams of one thread in this process, and the feed's one listener for them."""

    __slots__ = ("streams", "thread_id")

    def __init__(self):
        self.streams: set[_Direct] = set()
        self.thread_id: int | None = None

    def hear(self, change: Change | None) -> None:
        if change is None:
            for one in self.streams:
                one.look(_LOOK)
            return
        self.thread_id = change.thread_id
        version, sse = change.version, change.sse()
        framed = change.chunk()
        for one in self.streams:  # nothing here waits, so the set cannot change meanwhile
            if version != one.last + 1:
                if version > one.last:
                    one.look(_GAP)
                continue
            one.last = version
            if sse:
                one.write(framed if one.chunked else sse)


def _direct(app: Flask, feed: Feed, url: str, read_version, last_event_id: int | None, client: str,
            sock, chunked: bool) -> Iterator[bytes]:
    threads: dict[str, _Thread] = app.extensions["widget_stream_threads"]
    group = threads.get(url)
    if group is None:
        group = threads[url] = _Thread()
        feed.subscribe(url, group.hear)
    one = _Direct(sock, chunked, 0)
    group.streams.add(one)
    _OPEN.add(one.end)

    def leave() -> None:
        _OPEN.discard(one.end)
        group.streams.discard(one)
        if not group.streams and threads.get(url) is group:
            del threads[url]
            feed.unsubscribe(url, group.hear)

    try:
        version = read_version()
    except BaseException:
        leave()
        raise
    thread_id, current = version if version else (None, 0)
    group.thread_id = group.thread_id or thread_id
    one.last = current if last_event_id is None else min(last_event_id, current)
    if one.last < current:
        one.check = _GAP
    heartbeat = float(app.config["STREAMS_HEARTBEAT"])
    lifetime = float(app.config["STREAMS_LIFETIME"])
    beat_bytes = _frame(HEARTBEAT) if chunked else HEARTBEAT

    def fill(changes: list[Change]) -> None:
        for change in changes:
            if change.version > one.last:
                one.last = change.version
                if change.events:
                    one.write(change.chunk() if chunked else change.sse())

    def events() -> Iterator[bytes]:
        try:
            yield RETRY  # through gunicorn: the headers go out with it, then this stream's own bytes
            opened = beat = time.monotonic()
            while True:
                one.wake.clear()
                pending = one.pending
                while pending:  # behind: this greenlet sends, waiting for the client as it must
                    sock.sendall(pending[0])
                    del pending[0]
                one.pending = None
                if one.closed:
                    return
                if one.check:  # first what was missed (before a lifetime of 0 ends the stream)
                    shared, one.check = one.check == _LOOK, 0
                    fill(_missed(app, group.thread_id, url, one.last, shared=shared))
                    continue
                if one.ending:
                    # The process is shutting down: after gunicorn's last chunk the connection
                    # must close, not wait keepalive's seconds for a next request (SIGTERM would).
                    with contextlib.suppress(OSError):
                        one.sock.shutdown(socket.SHUT_RD)
                    return
                now = time.monotonic()
                if now - opened >= lifetime:
                    return
                if now - beat >= heartbeat:
                    beat = now
                    one.write(beat_bytes)
                    continue
                timeout = min(beat + heartbeat, opened + lifetime) - now
                if not feed.fresh():
                    timeout = min(timeout, OUTAGE_CHECK)
                if not one.wake.wait(timeout) and not feed.fresh():
                    one.look(_LOOK)  # feed down: look at the log itself
        except OSError:  # the client is gone (gunicorn's own last write fails too, and ends it)
            return
        finally:
            leave()
            app.extensions["widget_stream_slots"].give_back(client)

    return events()


def _frame(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


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
