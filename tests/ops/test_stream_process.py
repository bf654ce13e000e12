"""The stream process as the compose file runs it: one gunicorn gevent worker holding event
streams, whose events are written to the sockets by one fan-out per change (comments/live.py,
``_Direct``), beside an app process that takes the posts; both on one SQLite file, hearing each
other through the polled log. What the streams read is the HTTP/1.1 chunked body gunicorn began
(http.client decodes it and fails on a broken frame), or for HTTP/1.0 the bare body.
"""
from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from urllib.parse import quote

import pytest
from support.app import SITE
from support.processes import Gunicorn, ThrowawayRedis, migrate, wait_for
from support.sse import EventStream


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream-process")
    url = f"sqlite:///{folder / 'shared.db'}"
    migrate(url, folder)
    env = {"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(folder), "WIDGET_SECRET_KEY": "s" * 32,
           "WIDGET_ALLOWED_ORIGINS": SITE, "WIDGET_RATELIMIT_ENABLED": "false",
           "WIDGET_SPAM_DUPLICATE_WINDOW": "0", "WIDGET_STREAMS_PER_CLIENT": "50"}
    app = Gunicorn(env, folder / "app.log", workers=1, threads=4).start(timeout=60)
    streams = Gunicorn({**env, "WIDGET_WORKER_CLASS": "gevent", "WIDGET_STREAMS_HEARTBEAT": "1"},
                       folder / "streams.log", workers=1, threads=1).start(timeout=60)
    yield app, streams
    app.stop()
    streams.stop()


def page() -> str:
    return f"{SITE}/stream-{uuid.uuid4().hex[:8]}"


def post(app: Gunicorn, url: str, text: str) -> None:
    answer = app.post("/api/v1/comments", {"url": url, "text": text})
    assert answer.status == 201, answer.json


def test_streams_of_two_threads_get_only_their_own_threads_events_each_once_in_order(servers):
    app, streams_server = servers
    first, second = page(), page()
    on_first = [EventStream(streams_server.port, first) for _ in range(4)]
    on_second = [EventStream(streams_server.port, second) for _ in range(3)]
    try:
        for n in range(3):
            post(app, first, f"first {n}")
            post(app, second, f"second {n}")
        post(app, first, "first 3")
        for stream in on_first:
            assert stream.comments(4) == [("1", "<p>first 0</p>"), ("2", "<p>first 1</p>"),
                                          ("3", "<p>first 2</p>"), ("4", "<p>first 3</p>")]
        for stream in on_second:
            assert stream.comments(3) == [("1", "<p>second 0</p>"), ("2", "<p>second 1</p>"),
                                          ("3", "<p>second 2</p>")]
        # The count that follows each comment came too, and then nothing else: no event twice.
        post(app, second, "second 3")
        for stream in on_second:
            assert stream.comments(1) == [("4", "<p>second 3</p>")]
        time.sleep(0.3)  # the poll period of the log (0.1 s) three times: a duplicate would be here
        for stream in on_first + on_second:
            rest = stream.nothing_more()
            assert [(name, data["change"]) for name, _id, data in rest] in ([], [("thread", "count")])
            assert not stream.failed
    finally:
        for stream in on_first + on_second:
            stream.close()


def test_last_event_id_resumes_with_every_event_missed_then_new_ones(servers):
    app, streams_server = servers
    url = page()
    for n in range(3):
        post(app, url, f"post {n}")
    wait_for(lambda: app.get(f"/api/v1/comments?url={quote(url, safe='')}").json["comments"], 5, "the posts")
    resumed = EventStream(streams_server.port, url, last_event_id="1")
    try:
        assert resumed.comments(2) == [("2", "<p>post 1</p>"), ("3", "<p>post 2</p>")]
        post(app, url, "post 3")
        assert resumed.comments(1) == [("4", "<p>post 3</p>")]
    finally:
        resumed.close()


def test_an_idle_stream_gets_heartbeats_through_the_fan_out(servers):
    _app, streams_server = servers
    stream = EventStream(streams_server.port, page())
    try:
        wait_for(lambda: stream.heartbeats >= 2, 10, "two heartbeats")
        assert not stream.failed
    finally:
        stream.close()


def test_an_http_1_0_client_gets_the_bare_body(servers):
    app, streams_server = servers
    url = page()
    with socket.create_connection(("127.0.0.1", streams_server.port), timeout=10) as client:
        client.sendall(f"GET /api/v1/events?url={quote(url, safe='')} HTTP/1.0\r\n"
                       "Host: 127.0.0.1\r\n\r\n".encode())
        received = b""
        while b"retry: 3000\n\n" not in received:
            received += client.recv(65536)
        post(app, url, "plain")
        while b"event: thread" not in received:
            received += client.recv(65536)
    head, body = received.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding" not in head
    assert body.startswith(b"retry: 3000\n\nevent: comment\nid: 1\ndata: ")
    assert b"<p>plain</p>" in body


@pytest.mark.parametrize(("worker_class", "sig"), [
    ("gevent", signal.SIGTERM),   # the stream process of the compose file, stopped
    ("gthread", signal.SIGTERM),  # one process serving everything (make run), stopped by systemd
    ("gthread", signal.SIGINT),   # ... or by Ctrl-C in its terminal (the master then sends SIGQUIT)
    ("gevent", signal.SIGQUIT),
])
def test_a_stop_ends_open_streams_cleanly_and_at_once(tmp_path, worker_class, sig):
    url = f"sqlite:///{tmp_path / 'alone.db'}"
    migrate(url, tmp_path)
    server = Gunicorn({"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(tmp_path),
                       "WIDGET_SECRET_KEY": "s" * 32, "WIDGET_ALLOWED_ORIGINS": SITE,
                       "WIDGET_WORKER_CLASS": worker_class}, tmp_path / "streams.log",
                      workers=1, threads=8).start(timeout=60)  # gthread: half the threads may stream
    streams = [EventStream(server.port, page()) for _ in range(3)]
    try:
        if sig == signal.SIGINT:  # Ctrl-C: the terminal signals master and worker alike
            for pid in [server.process.pid, *server.worker_pids()]:
                os.kill(pid, signal.SIGINT)
        else:
            server.process.send_signal(sig)
        for stream in streams:
            assert stream.ended.wait(5), stream.failed  # the last chunk came: a clean end
            # ... and then the connection closed, not kept alive (keepalive: 5 s) for a next
            # request that a shutting-down worker would wait for.
            stream.connection.sock.settimeout(3)
            assert stream.connection.sock.recv(1) == b""
        # Without close_all the worker would wait out graceful_timeout (20 s) and be killed.
        assert server.stop(sig, timeout=10) == 0
        assert "SIGKILL" not in server.log()
    finally:
        for stream in streams:
            stream.close()


def test_through_redis_killed_and_restarted_the_fanned_out_streams_lose_nothing(tmp_path):
    """The feed lost: each stream of the gevent process reads the log itself (once a second);
    the feed back: they look once more, and the fan-out takes over again, nothing twice."""
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate(url, tmp_path)
    env = {"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(tmp_path), "WIDGET_SECRET_KEY": "s" * 32,
           "WIDGET_ALLOWED_ORIGINS": SITE, "WIDGET_RATELIMIT_ENABLED": "false",
           "WIDGET_REDIS_URL": redis.url}
    app = Gunicorn(env, tmp_path / "app.log", workers=1, threads=4).start(timeout=60)
    streams_server = Gunicorn({**env, "WIDGET_WORKER_CLASS": "gevent"}, tmp_path / "streams.log",
                              workers=1).start(timeout=60)
    thread, streams = page(), []
    try:
        streams = [EventStream(streams_server.port, thread) for _ in range(2)]
        wait_for(lambda: "change feed up" in streams_server.log(), 10, "the stream process's feed")
        post(app, thread, "before")
        assert [s.comments(1) for s in streams] == [[("1", "<p>before</p>")]] * 2
        redis.stop()
        post(app, thread, "while redis is down")
        assert [s.comments(1) for s in streams] == [[("2", "<p>while redis is down</p>")]] * 2
        redis.start()
        wait_for(lambda: streams_server.log().count("change feed up") >= 2, 15, "the feed back")
        post(app, thread, "after")
        assert [s.comments(1) for s in streams] == [[("3", "<p>after</p>")]] * 2
        time.sleep(0.3)
        assert not [e for s in streams for e in s.nothing_more() if e[0] == "comment"]
        assert not [s.failed for s in streams if s.failed]
    finally:
        for stream in streams:
            stream.close()
        app.stop()
        streams_server.stop()
        redis.stop()
    assert "change feed lost" in streams_server.log()
