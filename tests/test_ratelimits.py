"""Rate limits (Flask-Limiter), in memory and on Redis, keyed on the real client address."""
from __future__ import annotations

import uuid

import pytest
from support.app import PAGE, REDIS_URL, require_service

API = "/api/v1"


LIMITS = {"RATELIMIT_ENABLED": True, "RATELIMIT_POST": "3 per minute;10 per hour",
          "RATELIMIT_LIKE": "2 per minute", "RATELIMIT_PREVIEW": "2 per minute",
          "RATELIMIT_ADMIN_AUTH": "2 per minute"}


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> dict:
    if request.param == "redis":
        return {"REDIS_URL": require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")}
    return {}


@pytest.fixture
def config_overrides(request, storage):
    return {**LIMITS, **storage, **getattr(request, "param", {})}


def burst(client, n, **kwargs):
    return [client.post(f"{API}/comments", json={"url": PAGE, "text": f"message {uuid.uuid4()}"}, **kwargs)
            for _ in range(n)]


def test_posting_burst_gets_429_with_retry_after(client):
    responses = burst(client, 4)
    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    refused = responses[-1]
    assert refused.json["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get(f"{API}/comments", query_string={"url": PAGE}).json["thread"]["comment_count"] == 3


def test_a_readers_own_mistakes_do_not_spend_the_budget(client):
    mistakes = [client.post(f"{API}/comments", json={"url": PAGE, "text": ""}).status_code for _ in range(4)]
    mistakes.append(client.post(f"{API}/comments", data="text=x", content_type="text/plain").status_code)
    assert mistakes == [400, 400, 400, 400, 415]
    assert [r.status_code for r in burst(client, 4)] == [201, 201, 201, 429]


def test_limits_are_per_client(client):
    burst(client, 3)
    other = burst(client, 1, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other[0].status_code == 201


def test_client_cannot_dodge_limits_with_forwarded_for(client):
    statuses = [client.post(f"{API}/comments", json={"url": PAGE, "text": f"x{n}"},
                            headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_likes_and_previews_are_limited(client):
    cid = burst(client, 1)[0].json["comment"]["id"]
    likes = [client.post(f"{API}/comments/{cid}/like", json={}).status_code for _ in range(3)]
    previews = [client.post(f"{API}/preview", json={"text": "x"}).status_code for _ in range(3)]
    assert likes == [200, 200, 429] and previews == [200, 200, 429]


def test_failed_admin_authentication_is_limited_but_success_is_not_counted(client, admin_token):
    good = {"Authorization": f"Bearer {admin_token}"}
    for _ in range(3):  # successful requests do not spend the failure budget
        assert client.delete(f"{API}/admin/comments/999", headers=good).status_code == 404
    bad = [client.delete(f"{API}/admin/comments/1", headers={"Authorization": "Bearer wrong"}).status_code
           for _ in range(3)]
    assert bad == [401, 401, 429]
    # Once spent, even a right token waits: a guesser cannot keep going.
    assert client.delete(f"{API}/admin/comments/999", headers=good).status_code == 429


def test_reads_are_not_limited(client):
    statuses = {client.get(f"{API}/comments", query_string={"url": PAGE}).status_code for _ in range(20)}
    assert statuses == {200}


@pytest.mark.parametrize("config_overrides", [{"TRUSTED_PROXIES": 1, "RATELIMIT_POST": "2 per minute"}],
                         indirect=True)
def test_trusted_proxy_hop_identifies_the_client(client):
    def post_from(ip):
        return client.post(f"{API}/comments", json={"url": PAGE, "text": f"from {ip} {uuid.uuid4()}"},
                           headers={"X-Forwarded-For": ip}).status_code

    assert [post_from("203.0.113.1") for _ in range(3)] == [201, 201, 429]
    assert post_from("203.0.113.2") == 201


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": False,
                                               "RATELIMIT_POST": "1 per minute"}], indirect=True)
def test_switch_turns_every_limit_off(client):
    assert {r.status_code for r in burst(client, 5)} == {201}
