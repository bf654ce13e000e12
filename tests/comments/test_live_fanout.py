"""The gevent stream process's fan-out (comments/live.py ``_Thread``, ``_Direct``), with fake
sockets: each stream gets each change of its thread once, in order, written at once while its
socket takes it and queued for its own greenlet, in order, once it does not; a gap or a lost
feed makes the stream read the log. Served for real by tests/ops/test_stream_process.py."""
from __future__ import annotations

import socket

import pytest
from flask import Flask

from widget_server.comments import live
from widget_server.delivery.feed import Change


class FakeSocket:
    """A gevent socket's shape: ``_sock`` is the OS socket, whose non-blocking ``send`` takes
    ``room`` bytes at most and raises BlockingIOError when full."""

    def __init__(self, room: int = 1 << 20):
        self.room, self.sent, self.shut = room, b"", False
        self._sock = self

    def send(self, data: bytes) -> int:
        if self.room <= 0:
            raise BlockingIOError
        taken = data[:self.room]
        self.sent += taken
        self.room -= len(taken)
        return len(taken)

    def shutdown(self, how: int) -> None:
        assert how == socket.SHUT_RDWR
        self.shut = True


def opened(sock: FakeSocket, last: int = 0, chunked: bool = True) -> live._Direct:
    one = live._Direct(sock, chunked, last)
    one.pending = None  # the headers are out
    return one


def change(version: int, text: str = "x") -> Change:
    return Change(1, "https://blog.example/p", version, [["comment", {"text": text}]])


def test_each_change_is_written_once_in_order_and_only_to_streams_at_the_version_before_it():
    group = live._Thread()
    behind, current, plain = FakeSocket(), FakeSocket(), FakeSocket()
    streams = [opened(behind, last=0), opened(current, last=1), opened(plain, last=1, chunked=False)]
    group.streams.update(streams)
    two, three = change(2, "two"), change(3, "three")
    for heard in (two, two, three):  # heard twice (the log polled again): written once
        group.hear(heard)
    assert current.sent == two.chunk() + three.chunk()
    assert plain.sent == two.sse() + three.sse()
    assert behind.sent == b"" and streams[0].check == live._GAP  # it missed 1: it reads the log
    assert [one.last for one in streams] == [0, 3, 3]


def test_a_full_socket_queues_the_rest_for_the_streams_own_greenlet_in_order():
    sock = FakeSocket(room=5)
    one = opened(sock)
    one.write(b"0123456789")
    one.write(b"next")
    assert sock.sent == b"01234"
    assert one.pending == [b"56789", b"next"] and one.wake.is_set()


def test_a_client_that_stops_reading_is_cut_off_and_one_that_is_gone_is_noticed():
    sock = FakeSocket(room=0)
    one = opened(sock)
    for n in range(live.PENDING_MAX + 1):
        assert not one.closed
        one.write(b"%d" % n)
    assert one.closed and sock.shut

    class Gone(FakeSocket):
        def send(self, data):
            raise BrokenPipeError

    one = opened(Gone())
    one.write(b"x")
    assert one.closed and one.wake.is_set() and one.pending is None


def test_a_lost_feed_makes_every_stream_of_the_thread_look_at_the_log():
    group = live._Thread()
    streams = [opened(FakeSocket()) for _ in range(3)]
    group.streams.update(streams)
    group.hear(None)
    assert all(one.check == live._LOOK and one.wake.is_set() for one in streams)


def test_close_all_ends_every_open_stream():
    ended: list[int] = []
    ends = [lambda: ended.append(1), lambda: ended.append(2)]
    live._OPEN.update(ends)
    try:
        live.close_all()
    finally:
        live._OPEN.difference_update(ends)
    assert sorted(ended) == [1, 2]


@pytest.mark.parametrize(("worker_class", "method", "protocol", "tls", "direct"), [
    ("gevent", "GET", "HTTP/1.1", False, True),
    ("gevent", "GET", "HTTP/1.0", False, True),
    ("gthread", "GET", "HTTP/1.1", False, False),  # a thread per stream: the queue
    ("gevent", "HEAD", "HTTP/1.1", False, False),  # no body may follow the headers
    ("gevent", "GET", "HTTP/2.0", False, False),   # not gunicorn's HTTP/1 framing
    ("gevent", "GET", "HTTP/1.1", True, False),    # TLS: the bytes must go through it
])
def test_a_stream_writes_its_socket_itself_only_under_gevent_on_plain_http_1(
        worker_class, method, protocol, tls, direct):
    gevent_socket = pytest.importorskip("gevent.socket")
    app = Flask("fanout")
    app.config["WORKER_CLASS"] = worker_class
    with gevent_socket.socket() as sock:
        given = sock
        if tls:
            given = type("TLSSocket", (), {"_sock": sock._sock, "do_handshake": lambda self: None})()
        environ = {"REQUEST_METHOD": method, "SERVER_PROTOCOL": protocol, "gunicorn.socket": given}
        assert (live._own_socket(app, environ) is given) == direct
    assert live._own_socket(app, None) is None
