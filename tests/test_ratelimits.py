"""Rate limits (Flask-Limiter), in memory and on Redis, keyed on the real client: one IPv4 address
or IPv6 /64 however it is spelled, stored only as a keyed hash."""
from __future__ import annotations

import logging
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


def test_reactions_spend_the_likes_budget(client):
    cid = burst(client, 1)[0].json["comment"]["id"]
    statuses = [client.post(f"{API}/reactions", json={"comment_id": cid, "emoji": "🎉"}).status_code,
                client.post(f"{API}/comments/{cid}/like", json={}).status_code,
                client.delete(f"{API}/reactions", json={"url": PAGE, "emoji": "😮"}).status_code]
    assert statuses == [200, 200, 429]


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


# --- one client, however its address is spelled (tests/test_security.py has the tables) -------


@pytest.mark.parametrize("spellings", [
    ("2001:db8::1", "2001:0db8:0:0::1", "2001:DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1%eth0"),
    ("10.0.0.1", "::ffff:10.0.0.1", "::FFFF:a00:1", "0:0:0:0:0:ffff:10.0.0.1"),
])
def test_one_client_cannot_multiply_its_budget_by_spelling_its_address(client, spellings):
    statuses = [client.post(f"{API}/comments", json={"url": PAGE, "text": f"x {uuid.uuid4()}"},
                            environ_base={"REMOTE_ADDR": spellings[n % len(spellings)]}).status_code
                for n in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_hosts_of_one_ipv6_64_share_a_budget_and_the_next_64_has_its_own(client):
    def from_(address):
        return client.post(f"{API}/comments", json={"url": PAGE, "text": f"x {uuid.uuid4()}"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [from_(f"2001:db8:1:2::{n:x}") for n in range(1, 5)] == [201, 201, 201, 429]
    assert from_("2001:db8:1:3::1") == 201


# --- edits and deletions of own comments ---------------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_EDIT": "3 per minute"}], indirect=True)
def test_edits_and_deletions_share_one_budget(client):
    posted = [r.json for r in burst(client, 3)]
    client.application.config["RATELIMIT_POST"] = "100 per minute"  # only the edit budget matters now

    def edit(n, token=None):
        path = f"{API}/comments/{posted[n]['comment']['id']}"
        return client.patch(path, json={"text": f"v {uuid.uuid4()}"},
                            headers={"X-Edit-Token": token or posted[n]["edit_token"]}).status_code

    def delete(n):
        return client.delete(f"{API}/comments/{posted[n]['comment']['id']}",
                             headers={"X-Edit-Token": posted[n]["edit_token"]}).status_code

    # A wrong token spends the budget too: guessing tokens gets nowhere.
    assert [edit(0), edit(1, token="guess"), delete(2)] == [200, 403, 204]
    refused = client.patch(f"{API}/comments/{posted[0]['comment']['id']}", json={"text": "once more"},
                           headers={"X-Edit-Token": posted[0]["edit_token"]})
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert delete(1) == 429
    # Another client has its own budget.
    other = client.patch(f"{API}/comments/{posted[0]['comment']['id']}", json={"text": "from elsewhere"},
                         headers={"X-Edit-Token": posted[0]["edit_token"]},
                         environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_EDIT": "2 per minute"}], indirect=True)
def test_an_editors_own_mistakes_do_not_spend_the_edit_budget(client):
    posted = burst(client, 1)[0].json
    path, token = f"{API}/comments/{posted['comment']['id']}", {"X-Edit-Token": posted["edit_token"]}
    mistakes = [client.patch(path, json={"text": ""}, headers=token).status_code for _ in range(3)]
    mistakes.append(client.patch(path, data="text=x", content_type="text/plain", headers=token).status_code)
    assert mistakes == [400, 400, 400, 415]
    assert [client.patch(path, json={"text": f"v{n}"}, headers=token).status_code for n in range(3)] == \
        [200, 200, 429]


# --- failed admin authentication: one budget per client across every admin endpoint ---------


ADMIN_REQUESTS = [("get", "/admin/comments"), ("post", "/admin/bans"), ("get", "/admin/audit"),
                  ("delete", "/admin/comments/1"), ("post", "/admin/comments/bulk"), ("get", "/admin/stats")]


def test_failed_admin_authentication_is_counted_across_endpoints(client, admin_token):
    wrong = {"Authorization": "Bearer wrong"}

    def call(n, headers):
        method, path = ADMIN_REQUESTS[n % len(ADMIN_REQUESTS)]
        return getattr(client, method)(f"{API}{path}", headers=headers, json={}).status_code

    # The budget is 2: failures spread over different endpoints spend the same one.
    statuses = [call(n, wrong) for n in range(len(ADMIN_REQUESTS))]
    assert statuses == [401, 401] + [429] * (len(ADMIN_REQUESTS) - 2)
    assert call(2, {"Authorization": f"Bearer {admin_token}"}) == 429  # the page's own calls wait too
    # Spellings of one address are one client here as well; another client is not affected.
    assert client.get(f"{API}/admin/audit", headers=wrong,
                      environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 429
    assert client.get(f"{API}/admin/audit", headers=wrong,
                      environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 401


# --- nothing in the rate-limit storage names an address --------------------------------------


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
@pytest.mark.parametrize("config_overrides", [{"ACCOUNTS": True, "PUBLIC_URL": "https://comments.blog.example",
                                               "RATELIMIT_LIKE": "1 per minute"}],
                         indirect=True)
def test_redis_keys_hold_no_raw_address(app, client, admin_token, caplog):
    import redis

    caplog.set_level(logging.INFO, logger="flask-limiter")
    addresses = ("203.0.113.77", "2001:db8:77::5")
    for address in addresses:
        environ = {"REMOTE_ADDR": address}
        posted = client.post(f"{API}/comments", json={"url": PAGE, "text": f"from {address}"},
                             environ_base=environ).json
        path = f"{API}/comments/{posted['comment']['id']}"
        statuses = [client.post(f"{path}/like", json={}, environ_base=environ).status_code for _ in range(2)]
        assert statuses == [200, 429]  # a refusal is logged by the limiter: with the key it refused
        client.patch(path, json={"text": "edited"}, headers={"X-Edit-Token": posted["edit_token"]},
                     environ_base=environ)
        client.post(f"{API}/preview", json={"text": "x"}, environ_base=environ)
        client.get(f"{API}/admin/audit", headers={"Authorization": "Bearer wrong"}, environ_base=environ)
        login = client.post(f"{API}/auth/login", json={"email": "Someone@Example.org", "password": "guess"},
                            environ_base=environ)
        assert login.status_code == 401

    namespace = app.config["RATELIMIT_NAMESPACE"]
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"*{namespace}*")]
    assert len(keys) >= 2 * 5 + 1, keys  # post, like, edit, preview, admin auth per client; the account
    stored = "\n".join(keys) + "\n" + caplog.text
    for raw in (*addresses, "2001:db8", "someone@example.org"):
        assert raw not in stored.lower()
