"""The change feed across real instances: a post through one reaches an open event stream and a
read on the other within the bound (one second); Redis killed and restarted loses nothing and
leaves no read stale beyond it; the same on one SQLite file without Redis.

Each test starts its own gunicorn instances (two workers each); the Redis that is killed is
this test's own (support.processes.ThrowawayRedis), never the shared one.
"""
from __future__ import annotations

import time
import uuid

import pytest
from support.app import PG_URL, SITE, require_service, scratch_postgres_database
from support.processes import Gunicorn, ThrowawayRedis, migrate, wait_for
from support.sse import EventStream

BOUND = 1.0  # seconds: docs/live.md
METRICS_TOKEN = "metrics-token-for-live-tests"


def env_for(database_url: str, instance, **extra: str) -> dict[str, str]:
    return {"WIDGET_DATABASE_URL": database_url, "WIDGET_INSTANCE_PATH": str(instance),
            "WIDGET_SECRET_KEY": "shared-secret", "WIDGET_ALLOWED_ORIGINS": SITE,
            "WIDGET_RATELIMIT_ENABLED": "false", "WIDGET_METRICS_TOKEN": METRICS_TOKEN, **extra}


def post(server: Gunicorn, page: str, text: str) -> float:
    """Post; the moment the 201 came back."""
    answer = server.post("/api/v1/comments", {"url": page, "text": text})
    assert answer.status == 201, answer.json
    return time.monotonic()


def texts(server: Gunicorn, page: str) -> list[str]:
    return [c["html"] for c in server.get(f"/api/v1/comments?url={page}").json["comments"]]


def read_within_bound(server: Gunicorn, page: str, expected: list[str], since: float) -> float:
    """Read until every expected comment is there; how long after ``since`` that was."""
    wait_for(lambda: texts(server, page) == expected, 5, f"{expected} through {server.url}", interval=0.01)
    return time.monotonic() - since


def metric(server: Gunicorn, name: str) -> float:
    body = server.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).body.decode()
    return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))


def page() -> str:
    return f"{SITE}/live-{uuid.uuid4().hex[:8]}"


def warm(server: Gunicorn, url: str) -> None:
    """Read the page through every worker a few times: the read is cached and the feed is live."""
    for _ in range(6):
        server.get(f"/api/v1/comments?url={url}")
    def every_worker_live() -> bool:
        # A worker starts its feed with its first read: go on reading while waiting, since which
        # worker takes a connection is the kernel's choice (six reads may all reach one).
        server.get(f"/api/v1/comments?url={url}")
        return metric(server, "widget_feed_up") == 1

    wait_for(every_worker_live, 10, "the feed in every worker")
    for _ in range(6):
        server.get(f"/api/v1/comments?url={url}")


@pytest.fixture
def postgres_url():
    server = require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    with scratch_postgres_database(server) as url:
        yield url


def test_postgres_and_redis_a_post_reaches_the_other_instance_and_its_streams_within_the_bound(
        postgres_url, tmp_path):
    redis = ThrowawayRedis(tmp_path)
    redis.start()
    migrate(postgres_url, tmp_path)
    env = env_for(postgres_url, tmp_path, WIDGET_REDIS_URL=redis.url)
    a = Gunicorn(env, tmp_path / "a.log").start()
    b = Gunicorn(env, tmp_path / "b.log").start()
    url, streams = page(), []
    try:
        warm(b, url)
        assert texts(b, url) == []
        streams.append(EventStream(b.port, url))
        answered = post(a, url, "first")
        event_id, data, heard = streams[0].next_comment()
        assert (event_id, data["change"]) == ("1", "created")
        assert heard - answered < BOUND
        assert read_within_bound(b, url, ["<p>first</p>"], answered) < BOUND

        # Redis killed: posts go on, reads on b fall back to the database at once.
        redis.stop()
        answered = post(a, url, "while redis is down")
        assert read_within_bound(b, url, ["<p>first</p>", "<p>while redis is down</p>"], answered) < BOUND
        wait_for(lambda: metric(b, "widget_feed_up") == 0, 5, "the loss in /metrics")
        assert metric(b, "widget_feed_lost_total") >= 1
        # The open stream looks at the log itself while the feed is down.
        assert streams[0].next_comment()[0] == "2"
        # A client that reconnects resumes from its last id and misses nothing.
        streams.append(EventStream(b.port, url, last_event_id="1"))
        assert streams[1].next_comment()[0] == "2"

        # Redis back: the feed comes back, and nothing is lost or stale.
        redis.start()
        wait_for(lambda: metric(b, "widget_feed_up") == 1, 10, "the feed back in every worker")
        answered = post(a, url, "after the restart")
        assert [s.next_comment()[0] for s in streams] == ["3", "3"]
        assert read_within_bound(b, url, ["<p>first</p>", "<p>while redis is down</p>",
                                          "<p>after the restart</p>"], answered) < BOUND
    finally:
        for stream in streams:
            stream.close()
        a.stop()
        b.stop()
        redis.stop()
    assert "change feed lost" in b.log() and "change feed up" in b.log()


def test_one_sqlite_file_without_redis_two_instances_hear_each_other_through_the_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate(url, tmp_path)
    env = env_for(url, tmp_path)
    a = Gunicorn(env, tmp_path / "a.log").start()
    b = Gunicorn(env, tmp_path / "b.log").start()
    thread, stream = page(), None
    try:
        warm(b, thread)
        stream = EventStream(b.port, thread)
        expected = []
        for n in range(3):
            answered = post(a, thread, f"post {n}")
            expected.append(f"<p>post {n}</p>")
            event_id, _data, heard = stream.next_comment()
            assert event_id == str(n + 1) and heard - answered < BOUND
            assert read_within_bound(b, thread, expected, answered) < BOUND
        resumed = EventStream(b.port, thread, last_event_id="1")
        assert [resumed.next_comment()[0] for _ in range(2)] == ["2", "3"]
        resumed.close()
    finally:
        if stream is not None:
            stream.close()
        a.stop()
        b.stop()
