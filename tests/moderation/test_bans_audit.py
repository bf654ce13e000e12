"""Bans (by IP hash or e-mail, with expiry) and the audit log of admin actions."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.app import PAGE, SITE

from widget_server.extensions import db
from widget_server.models import Comment, Thread

API = "/api/v1"
ADMIN = f"{API}/admin"
SPAMMER = {"REMOTE_ADDR": "203.0.113.7"}
NEIGHBOUR = {"REMOTE_ADDR": "203.0.113.8"}


@pytest.fixture
def auth(admin_token) -> dict:
    return {"Authorization": f"Bearer {admin_token}"}


def send(client, text, url=PAGE, environ=None, **fields):
    return client.post(f"{API}/comments", json={"url": url, "text": text, **fields},
                       environ_base=environ or SPAMMER)


def rows(app) -> tuple[int, int]:
    with app.app_context():
        comments = db.session.execute(select(func.count()).select_from(Comment)).scalar_one()
        threads = db.session.execute(select(func.count()).select_from(Thread)).scalar_one()
        return comments, threads


def ban(client, auth, **body):
    response = client.post(f"{ADMIN}/bans", headers=auth, json=body)
    assert response.status_code == 201, response.json
    return response.json["ban"]


# --- bans ----------------------------------------------------------------------------------


def test_an_ip_ban_refuses_the_poster_and_stores_nothing(client, app, auth):
    cid = send(client, "first spam").json["comment"]["id"]
    made = ban(client, auth, kind="ip", comment_id=cid, reason="link spam")
    assert made["kind"] == "ip" and len(made["value"]) == 32 and made["active"] is True
    assert made["created_by"] == "test-admin" and made["expires_at"] is None
    before = rows(app)
    for url in (PAGE, f"{SITE}/a-page-never-seen"):
        refused = send(client, "more spam", url=url)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "banned"
        assert "203.0.113" not in refused.get_data(as_text=True)
    assert rows(app) == before  # not even the new page's thread
    assert send(client, "a neighbour", environ=NEIGHBOUR).status_code == 201


@pytest.mark.parametrize(("banned", "returning"), [
    ("203.0.113.7", "::ffff:203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:5::1", "2001:0db8:0005:0000::0001"),
    ("2001:db8:5::1", "2001:db8:5::9:8:7:6"),  # a new host in the same /64
])
def test_an_ip_ban_holds_however_the_address_is_spelled(client, auth, banned, returning):
    cid = send(client, "first spam", environ={"REMOTE_ADDR": banned}).json["comment"]["id"]
    ban(client, auth, kind="ip", comment_id=cid)
    refused = send(client, "back again", environ={"REMOTE_ADDR": returning})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "banned"
    assert send(client, "the next /64", environ={"REMOTE_ADDR": "2001:db8:6::1"}).status_code == 201


def test_an_ipv6_ban_made_from_a_hash_of_an_earlier_release_still_holds(client, app, auth):
    """Before addresses were canonical, an IPv6 poster's hash was of the address as spelled."""
    import hashlib
    import hmac

    old = hmac.new(app.config["SECRET_KEY"].encode(), b"ip:2001:db8:5::1", hashlib.sha256).hexdigest()[:32]
    ban(client, auth, kind="ip", value=old)
    assert send(client, "same address", environ={"REMOTE_ADDR": "2001:db8:5::1"}).status_code == 403
    assert send(client, "another host", environ={"REMOTE_ADDR": "2001:db8:5::2"}).status_code == 201


def test_an_email_ban_is_case_insensitive_and_follows_the_poster(client, app, auth):
    cid = send(client, "hi", email="Troll@Example.org").json["comment"]["id"]
    ban(client, auth, kind="email", comment_id=cid)
    refused = send(client, "new address, same me", email="troll@EXAMPLE.org", environ=NEIGHBOUR)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "banned"
    assert send(client, "no e-mail given").status_code == 201  # the IP is not banned
    assert send(client, "someone else", email="friend@example.org").status_code == 201


def test_a_ban_by_value(client, auth):
    ban(client, auth, kind="email", value="Direct@Example.org")
    assert send(client, "x", email="direct@example.org").status_code == 403


def test_a_ban_expires(client, auth, frozen_clock):
    cid = send(client, "first").json["comment"]["id"]
    made = ban(client, auth, kind="ip", comment_id=cid, expires_in=3600)
    assert made["expires_at"] == "2026-11-27T10:00:00Z"
    frozen_clock.advance(seconds=3599)
    assert send(client, "too soon").status_code == 403
    frozen_clock.advance(seconds=1)
    assert send(client, "served my time").status_code == 201
    listed = client.get(f"{ADMIN}/bans", headers=auth).json["bans"]
    assert [(b["id"], b["active"]) for b in listed] == [(made["id"], False)]


def test_lifting_a_ban(client, auth):
    cid = send(client, "first").json["comment"]["id"]
    made = ban(client, auth, kind="ip", comment_id=cid)
    assert client.delete(f"{ADMIN}/bans/{made['id']}", headers=auth).status_code == 204
    assert client.get(f"{ADMIN}/bans", headers=auth).json["bans"] == []
    assert send(client, "welcome back").status_code == 201
    assert client.delete(f"{ADMIN}/bans/{made['id']}", headers=auth).status_code == 404


def test_the_ban_check_comes_before_the_honeypot(client, auth):
    cid = send(client, "first").json["comment"]["id"]
    ban(client, auth, kind="ip", comment_id=cid)
    assert send(client, "bot", homepage="x").status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"comment_id": 1}, "kind"),
    ({"kind": "phone", "comment_id": 1}, "kind"),
    ({"kind": "ip"}, "comment_id"),
    ({"kind": "ip", "comment_id": "1"}, "comment_id"),
    ({"kind": "ip", "comment_id": 1, "value": "x"}, "value"),
    ({"kind": "ip", "value": "10.0.0.1"}, "value"),  # raw addresses are never stored
    ({"kind": "email", "value": "not-an-address"}, "value"),
    ({"kind": "ip", "comment_id": 1, "expires_in": 5}, "expires_in"),
    ({"kind": "ip", "comment_id": 1, "expires_in": "1d"}, "expires_in"),
    ({"kind": "ip", "comment_id": 1, "reason": "x" * 301}, "reason"),
])
def test_ban_validation(client, auth, body, field):
    send(client, "first")
    response = client.post(f"{ADMIN}/bans", headers=auth, json=body)
    assert response.status_code == 400 and field in response.json["error"]["fields"]
    assert client.get(f"{ADMIN}/bans", headers=auth).json["bans"] == []


def test_banning_the_email_of_a_comment_without_one_is_a_conflict(client, auth):
    cid = send(client, "anonymous").json["comment"]["id"]
    response = client.post(f"{ADMIN}/bans", headers=auth, json={"kind": "email", "comment_id": cid})
    assert response.status_code == 409
    missing = client.post(f"{ADMIN}/bans", headers=auth, json={"kind": "ip", "comment_id": 99})
    assert missing.status_code == 404


# --- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_tells_the_story(client, auth, frozen_clock):
    first = send(client, "held?").json["comment"]["id"]
    second = send(client, "spam!", environ=NEIGHBOUR).json["comment"]["id"]
    thread_id = client.get(f"{ADMIN}/comments/{first}", headers=auth).json["comment"]["thread_id"]
    steps = [
        ("post", f"{ADMIN}/comments/{second}/spam", {}),
        ("post", f"{ADMIN}/comments/{first}/pin", {}),
        ("post", f"{ADMIN}/threads/{thread_id}/lock", {}),
        ("post", f"{ADMIN}/bans", {"kind": "ip", "comment_id": second, "reason": "spam"}),
        ("post", f"{ADMIN}/comments/bulk", {"action": "delete", "ids": [first, second]}),
    ]
    for method, path, body in steps:
        frozen_clock.advance(minutes=1)
        assert getattr(client, method)(path, headers=auth, json=body).status_code in (200, 201)
    entries = client.get(f"{ADMIN}/audit", headers=auth).json["entries"]
    story = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert story == [
        ("test-admin", "spam", f"comment {second}"),
        ("test-admin", "pin", f"comment {first}"),
        ("test-admin", "lock", f"thread {thread_id}"),
        ("test-admin", "ban", "ban 1"),
        ("test-admin", "delete", f"comment {first}"),
        ("test-admin", "delete", f"comment {second}"),
    ]
    spam = entries[-1]
    assert spam["at"] == "2026-11-27T09:01:00Z"
    assert spam["details"] == {"from": "published", "to": "spam", "url": PAGE, "number": 2, "token_id": 1}
    assert entries[0]["details"]["from"] == "spam" and entries[0]["details"]["to"] == "deleted"
    assert entries[2]["details"]["kind"] == "ip" and entries[2]["details"]["reason"] == "spam"
    assert all("203.0.113" not in str(e) and "@" not in str(e["details"]) for e in entries)


def test_the_audit_log_pages_newest_first(client, auth):
    ids = [send(client, f"c{n}").json["comment"]["id"] for n in range(5)]
    for cid in ids:
        client.post(f"{ADMIN}/comments/{cid}/spam", headers=auth, json={})
    first = client.get(f"{ADMIN}/audit", headers=auth, query_string={"limit": 3}).json
    rest = client.get(f"{ADMIN}/audit", headers=auth,
                      query_string={"limit": 3, "cursor": first["next_cursor"]}).json
    targets = [e["target"] for e in first["entries"] + rest["entries"]]
    assert targets == [f"comment {cid}" for cid in reversed(ids)] and rest["next_cursor"] is None
    bad = client.get(f"{ADMIN}/audit", headers=auth, query_string={"cursor": "x"})
    assert bad.status_code == 400


def test_unban_and_unlock_are_audited_too(client, auth):
    cid = send(client, "x").json["comment"]["id"]
    thread_id = client.get(f"{ADMIN}/comments/{cid}", headers=auth).json["comment"]["thread_id"]
    made = ban(client, auth, kind="ip", comment_id=cid)
    client.delete(f"{ADMIN}/bans/{made['id']}", headers=auth)
    client.post(f"{ADMIN}/threads/{thread_id}/unlock", headers=auth, json={})
    client.post(f"{ADMIN}/comments/{cid}/unpin", headers=auth, json={})
    actions = [e["action"] for e in client.get(f"{ADMIN}/audit", headers=auth).json["entries"]]
    assert actions == ["unpin", "unlock", "unban", "ban"]
