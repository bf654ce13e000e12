"""Faults: PostgreSQL restarted under load, Redis gone or hung, SIGTERM during a request.

Each test breaks a PostgreSQL or Redis of its OWN (started here on a free port
in a temporary folder): the shared servers on 5432 and 6379 are in use by
everyone else and are never stopped. Each test is bounded to well under 30 s.
"""
from __future__ import annotations

import json
import signal
import socket
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from support.app import SITE
from support.pow import payload
from support.processes import Gunicorn, ThrowawayPostgres, ThrowawayRedis, http, migrate, wait_for


def env_for(database_url: str, instance, **extra: str) -> dict[str, str]:
    return {"WIDGET_DATABASE_URL": database_url, "WIDGET_INSTANCE_PATH": str(instance),
            "WIDGET_SECRET_KEY": "fault-secret", "WIDGET_ALLOWED_ORIGINS": SITE,
            "WIDGET_TRUSTED_PROXIES": "1", **extra}


class Load:
    """Client threads posting (and reading) until stopped; every answer is recorded."""

    def __init__(self, server: Gunicorn, page: str, writers: int = 3):
        self.server, self.page = server, page
        self.answers: list[tuple[float, str, int, dict | None]] = []  # (time, kind, status, json)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(n,)) for n in range(writers)]
        self._threads.append(threading.Thread(target=self._read))

    def _record(self, kind: str, response) -> None:
        try:
            body = response.json
        except ValueError:
            body = {"not json": response.body[:300].decode(errors="replace")}
        with self._lock:
            self.answers.append((time.monotonic(), kind, response.status, body))

    def _write(self, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            try:
                response = self.server.post(
                    "/api/v1/comments", {"url": self.page, "text": f"w{n} #{i}"},
                    headers={"X-Forwarded-For": f"10.1.{n}.{i % 250 + 1}"}, timeout=15)
                self._record("post", response)
            except OSError as exc:  # a connection reset or a hang is a failure of the service
                self.failures.append(f"post: {exc!r}")
            i += 1
            time.sleep(0.01)

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self._record("read", self.server.get(f"/api/v1/comments?url={self.page}", timeout=15))
            except OSError as exc:
                self.failures.append(f"read: {exc!r}")
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(20)

    def count(self, kind: str, status: int) -> int:
        return sum(1 for _, k, s, _ in self.answers if k == kind and s == status)


def test_postgres_restarted_under_load(tmp_path):
    pg = ThrowawayPostgres().init()
    pg.start()
    server = None
    try:
        migrate(pg.url, tmp_path)
        server = Gunicorn(env_for(pg.url, tmp_path, WIDGET_RATELIMIT_ENABLED="false"), tmp_path / "g.log",
                          workers=2, threads=4).start()
        page = f"{SITE}/restart-{uuid.uuid4().hex[:6]}"
        with Load(server, page) as load:
            time.sleep(1.5)
            pg.stop("immediate")  # a crash, not a polite shutdown
            outage_started = time.monotonic()
            time.sleep(0.5)
            ready_during_outage = server.get("/readyz")
            health_during_outage = server.get("/healthz")
            time.sleep(1.5)
            pg.start()
            back = time.monotonic()
            # Recovers by itself: no restart of gunicorn, no manual step.
            wait_for(lambda: any(t > back and k == "post" and s == 201 for t, k, s, _ in list(load.answers)),
                     10, "a successful post after PostgreSQL came back")
            recovered = time.monotonic()
            time.sleep(1.5)
        assert not load.failures, load.failures[:5]
        statuses = {(k, s) for _, k, s, _ in load.answers}
        assert statuses <= {("post", 201), ("post", 503), ("read", 200), ("read", 503)}, statuses
        outage = [(k, s, j) for t, k, s, j in load.answers if s == 503]
        assert outage, "no request saw the outage"
        assert all(t >= outage_started - 0.5 for t, _, s, _ in load.answers if s == 503)
        for _, _, body in outage:
            assert body == {"error": {"code": "service_unavailable",
                                      "message": "the database is unavailable; try again shortly"}}
        assert ready_during_outage.status == 503 and health_during_outage.status == 503
        assert server.get("/readyz").status == 200
        # Once recovered, it stays recovered: every later post and read succeeded.
        later = [s for t, _, s, _ in load.answers if t > recovered + 0.5]
        assert len(later) > 10 and set(later) <= {200, 201}, later
        # Every comment that was answered 201 is still there, exactly once.
        created = [j["comment"]["id"] for _, k, s, j in load.answers if k == "post" and s == 201]
        engine = create_engine(pg.url)
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT id FROM comments")).scalars())
        engine.dispose()
        assert len(created) == len(set(created)) > 20
        assert set(created) <= stored
    finally:
        if server:
            server.stop()
        pg.cleanup()


@pytest.fixture
def redis_and_server(tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url, tmp_path)
    # One worker process: the per-instance memory fallback is then exact and testable.
    server = Gunicorn(env_for(url, tmp_path, WIDGET_REDIS_URL=redis.url, WIDGET_RATELIMIT_ENABLED="true",
                              WIDGET_RATELIMIT_POST="3 per minute"),
                      tmp_path / "g.log", workers=1, threads=4).start()
    try:
        yield redis, server
    finally:
        server.stop()
        redis.stop()


def burst(server: Gunicorn, ip: str, n: int = 4) -> list[int]:
    page = f"{SITE}/redis-{uuid.uuid4().hex[:6]}"
    return [server.post("/api/v1/comments", {"url": page, "text": f"{ip} says {i}"},
                        headers={"X-Forwarded-For": ip}).status for i in range(n)]


FALLBACK = "Rate limit storage unreachable - falling back to in-memory storage"


def limiter_messages(server: Gunicorn) -> list[str]:
    return [r["msg"] for r in server.log_records() if r.get("logger") == "flask-limiter"]


def test_redis_gone_service_keeps_serving_and_limits_fall_back_to_memory(redis_and_server):
    redis, server = redis_and_server
    assert burst(server, "10.2.0.1") == [201, 201, 201, 429]  # limits kept in Redis
    redis.stop()
    started = time.monotonic()
    page = f"{SITE}/2026/what-redis"
    assert server.get(f"/api/v1/comments?url={page}").status == 200
    # Posting goes on; the limit still holds, now in this instance's memory.
    assert burst(server, "10.2.0.2") == [201, 201, 201, 429]
    assert time.monotonic() - started < 5
    assert server.get("/healthz").status == 200
    assert FALLBACK in limiter_messages(server)
    record = next(r for r in server.log_records() if "falling back" in r.get("msg", ""))
    assert record["level"] == "warning" and record["logger"] == "flask-limiter"
    assert "10.2.0.1" not in server.log() and "10.2.0.2" not in server.log()  # no client addresses

    # Redis comes back: after the limiter's back-off it uses Redis again, and says so.
    redis.start()  # the same port again

    def recovered():
        burst(server, f"10.2.1.{int(time.monotonic() * 10) % 250}", 1)
        return "Rate limit storage recovered" in limiter_messages(server)

    wait_for(recovered, 15, "the limiter to use Redis again", interval=0.5)


def test_a_hung_redis_costs_a_second_not_a_hang(redis_and_server):
    redis, server = redis_and_server
    assert burst(server, "10.3.0.1", 1) == [201]
    redis.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        started = time.monotonic()
        statuses = burst(server, "10.3.0.2")
        elapsed = time.monotonic() - started
        assert statuses == [201, 201, 201, 429]
        assert elapsed < 6, f"four posts took {elapsed:.1f} s with Redis hung"
        assert FALLBACK in limiter_messages(server)
    finally:
        redis.process.send_signal(signal.SIGCONT)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path):
    """Graceful shutdown: a request being received when SIGTERM arrives still gets its 201."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate(url, tmp_path)
    server = Gunicorn(env_for(url, tmp_path, WIDGET_RATELIMIT_ENABLED="false"), tmp_path / "g.log",
                      workers=1, threads=2).start()
    altcha = payload(server.get("/api/v1/challenge").json)
    body = json.dumps({"url": f"{SITE}/2026/slow-upload", "text": "sent in two halves",
                       "altcha": altcha}).encode()
    head = (f"POST /api/v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head + body[:10])
        time.sleep(0.5)  # the worker is now inside the app, reading the body
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        # New connections are no longer accepted ...
        with pytest.raises(OSError):
            http("GET", server.url + "/healthz", timeout=2)
        # ... but the request in flight is finished.
        sock.sendall(body[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert server.stop() == 0  # already stopping: this only waits for the exit
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM comments")).scalars().all() == ["sent in two halves"]
    engine.dispose()
