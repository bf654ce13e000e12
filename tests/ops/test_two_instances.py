"""The compose topology without Docker: several gunicorn instances, one database.

Two instances (two worker processes each) on different ports share PostgreSQL
and Redis, as the replicas behind the proxy in docker-compose.yml do; and two
instances share one SQLite file, the single-machine setup, where several
processes write at once.
"""
from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from support.app import PG_URL, REDIS_URL, SITE, require_service, scratch_postgres_database
from support.processes import Gunicorn, http, migrate


def page(name: str) -> str:
    return f"{SITE}/{name}-{uuid.uuid4().hex[:8]}"


def client_ip() -> str:
    """A fresh client address per test: rate-limit keys in the shared Redis never collide."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def env_for(database_url: str, instance, **extra: str) -> dict[str, str]:
    return {"WIDGET_DATABASE_URL": database_url, "WIDGET_INSTANCE_PATH": str(instance),
            "WIDGET_SECRET_KEY": "shared-secret", "WIDGET_ALLOWED_ORIGINS": SITE,
            "WIDGET_TRUSTED_PROXIES": "1", **extra}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two instances behind an imaginary proxy, sharing PostgreSQL and Redis."""
    server = require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    redis_url = require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")
    folder = tmp_path_factory.mktemp("pair")
    with scratch_postgres_database(server) as url:
        migrate(url, folder)
        env = env_for(url, folder, WIDGET_REDIS_URL=redis_url, WIDGET_RATELIMIT_ENABLED="true",
                      WIDGET_RATELIMIT_POST="4 per minute", WIDGET_RATELIMIT_LIKE="100 per minute")
        a = Gunicorn(env, folder / "a.log").start()
        b = Gunicorn(env, folder / "b.log").start()
        try:
            yield a, b, url
        finally:
            a.stop()
            b.stop()


def test_a_comment_posted_through_one_is_read_through_the_other_at_once(pair):
    a, b, _ = pair
    url, ip = page("fresh"), client_ip()
    headers = {"X-Forwarded-For": ip, "Accept-Encoding": "identity"}
    before = b.get(f"/api/v1/comments?url={url}", headers=headers)
    assert before.status == 200 and before.json["comments"] == []
    assert b.get(f"/api/v1/comments?url={url}", headers=headers).json["comments"] == []  # now cached in b

    posted = a.post("/api/v1/comments", {"url": url, "text": "through **a**"}, headers=headers)
    assert posted.status == 201, posted.json
    after = b.get(f"/api/v1/comments?url={url}", headers=headers)
    assert [c["html"] for c in after.json["comments"]] == ["<p>through <strong>a</strong></p>"]
    assert after.headers["ETag"] != before.headers["ETag"]
    # A CDN revalidating with the old ETag gets the new body, not a 304.
    thread = f"/api/v1/comments?url={url}"
    assert b.get(thread, headers={**headers, "If-None-Match": before.headers["ETag"]}).status == 200
    assert b.get(thread, headers={**headers, "If-None-Match": after.headers["ETag"]}).status == 304

    # An edit through b is seen through a at once, too.
    comment_id, token = posted.json["comment"]["id"], posted.json["edit_token"]
    edited = http("PATCH", f"{b.url}/api/v1/comments/{comment_id}", {"text": "edited through b"},
                  headers={**headers, "X-Edit-Token": token})
    assert edited.status == 200, edited.json
    assert a.get(f"/api/v1/comments?url={url}", headers=headers).json["comments"][0]["html"] == \
        "<p>edited through b</p>"


def test_the_rate_limit_budget_is_shared(pair):
    a, b, _ = pair
    url, ip = page("burst"), client_ip()
    statuses = []
    for i in range(6):
        # The proxy appends the address it saw; what a client wrote before it is not trusted.
        spoofed = f"192.0.2.{i}, {ip}"
        instance = (a, b)[i % 2]
        response = instance.post("/api/v1/comments", {"url": url, "text": f"burst {i}"},
                                 headers={"X-Forwarded-For": spoofed})
        statuses.append(response.status)
        if response.status == 429:
            assert response.json["error"]["code"] == "rate_limited"
            assert int(response.headers["Retry-After"]) >= 1
    # 4 per minute in all, not 4 per instance (which would let all 6 through).
    assert statuses == [201, 201, 201, 201, 429, 429]
    # Another client still has its own budget.
    assert b.post("/api/v1/comments", {"url": url, "text": "someone else"},
                  headers={"X-Forwarded-For": client_ip()}).status == 201


def test_a_like_is_counted_once_across_both(pair):
    a, b, _ = pair
    url = page("likes")
    posted = a.post("/api/v1/comments", {"url": url, "text": "like me"},
                    headers={"X-Forwarded-For": client_ip()})
    comment_id = posted.json["comment"]["id"]
    reader = {"X-Forwarded-For": client_ip()}
    assert a.post(f"/api/v1/comments/{comment_id}/like", {}, headers=reader).json == {"likes": 1}
    assert b.post(f"/api/v1/comments/{comment_id}/like", {}, headers=reader).json == {"likes": 1}
    # Both at once, from both instances.
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda inst: inst.post(f"/api/v1/comments/{comment_id}/like", {}, headers=reader), [a, b, a, b]))
    assert {r.json["likes"] for r in answers} == {1}
    assert b.get(f"/api/v1/comments?url={url}").json["comments"][0]["likes"] == 1
    someone_else = {"X-Forwarded-For": client_ip()}
    assert b.post(f"/api/v1/comments/{comment_id}/like", {}, headers=someone_else).json == {"likes": 2}
    assert a.get(f"/api/v1/comments?url={url}").json["comments"][0]["likes"] == 2


def test_a_reaction_is_counted_once_across_both(pair):
    """Issue 19: the same reader's reaction through both instances, at once, counts once."""
    a, b, _ = pair
    url = page("reactions")
    comment_id = a.post("/api/v1/comments", {"url": url, "text": "react to me"},
                        headers={"X-Forwarded-For": client_ip()}).json["comment"]["id"]
    reader = {"X-Forwarded-For": client_ip()}
    party = {"comment_id": comment_id, "emoji": "🎉"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda inst: inst.post("/api/v1/reactions", party, headers=reader),
                                [a, b, a, b]))
    assert [r.json for r in answers] == [{"reactions": {"🎉": 1}}] * 4
    page_reaction = {"url": url, "emoji": "😮"}
    assert b.post("/api/v1/reactions", page_reaction, headers=reader).json == {"reactions": {"😮": 1}}
    assert a.post("/api/v1/reactions", page_reaction, headers=reader).json == {"reactions": {"😮": 1}}
    thread = a.get(f"/api/v1/comments?url={url}").json
    assert thread["thread"]["reactions"] == {"😮": 1} and thread["comments"][0]["reactions"] == {"🎉": 1}
    someone_else = {"X-Forwarded-For": client_ip()}
    assert a.post("/api/v1/reactions", page_reaction, headers=someone_else).json == {"reactions": {"😮": 2}}
    assert b.get(f"/api/v1/comments?url={url}").json["thread"]["reactions"] == {"😮": 2}


def test_two_instances_write_one_sqlite_file_at_once(tmp_path):
    """Four worker processes, 32 threads, one SQLite file: every post 201, none lost."""
    posts = 64
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate(url, tmp_path)
    env = env_for(url, tmp_path, WIDGET_RATELIMIT_ENABLED="false")
    a = Gunicorn(env, tmp_path / "a.log", workers=2, threads=8).start()
    b = Gunicorn(env, tmp_path / "b.log", workers=2, threads=8).start()
    pages = [page("busy"), page("busier")]
    try:
        def write(n: int):
            instance = (a, b)[n % 2]
            return instance.post("/api/v1/comments", {"url": pages[n % 3 == 0], "text": f"post number {n}"},
                                 headers={"X-Forwarded-For": client_ip()}).status

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(write, range(posts)))
        assert statuses == [201] * posts
        counts = a.get("/api/v1/counts?" + "&".join(f"url={p}" for p in pages)).json["counts"]
        assert sum(counts.values()) == posts
    finally:
        a.stop()
        b.stop()
    assert "database is locked" not in a.log() + b.log()
    engine = create_engine(url)
    with engine.connect() as conn:
        texts = conn.execute(text("SELECT text FROM comments")).scalars().all()
        numbers = conn.execute(text("SELECT thread_id, number FROM comments")).all()
    engine.dispose()
    assert sorted(texts) == sorted(f"post number {n}" for n in range(posts))
    assert len(set(numbers)) == posts  # per-thread numbers are unique: 1, 2, 3 ... without gaps
    by_thread: dict[int, list[int]] = {}
    for thread_id, number in numbers:
        by_thread.setdefault(thread_id, []).append(number)
    assert all(sorted(ns) == list(range(1, len(ns) + 1)) for ns in by_thread.values())
