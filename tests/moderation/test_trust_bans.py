"""Trust, temporary bans and shadow bans (issue 14), all in the audit log."""
from __future__ import annotations

import pytest
from support import accounts as account_support
from support.accounts import account_config
from support.app import PAGE

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader
POSTER = {"REMOTE_ADDR": "203.0.113.40"}
SOMEONE_ELSE = {"REMOTE_ADDR": "203.0.113.41"}


def send(client, text, environ=POSTER, headers=None):
    return client.post("/api/v1/comments", json={"url": PAGE, "text": text}, environ_base=environ,
                       headers=headers or {})


def admin(client, token, method, path, **kw):
    return client.open(f"/api/v1/admin{path}", method=method,
                       headers={"Authorization": f"Bearer {token}"}, **kw)


def public_ids(client) -> list[int]:
    return [c["id"] for c in client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"]]


def audit_actions(client, token) -> list[dict]:
    return admin(client, token, "GET", "/audit").json["entries"]


def test_a_temporary_ban_ends_by_itself(client, admin_token, frozen_clock):
    first = send(client, "Rude words").json
    ban = admin(client, admin_token, "POST", "/bans",
                json={"kind": "ip", "comment_id": first["comment"]["id"], "expires_in": 3600,
                      "reason": "cool off"})
    assert ban.status_code == 201 and ban.json["ban"]["shadow"] is False
    assert send(client, "Still rude").status_code == 403
    assert send(client, "Not me", environ=SOMEONE_ELSE).status_code == 201
    frozen_clock.advance(seconds=3601)
    assert send(client, "Calmer now").status_code == 201
    listed = admin(client, admin_token, "GET", "/bans").json["bans"]
    assert listed[0]["active"] is False
    entry = next(e for e in audit_actions(client, admin_token) if e["action"] == "ban")
    assert entry["details"]["expires_at"] == "2026-11-27T10:00:00Z" and entry["details"]["shadow"] is False


def test_a_shadow_banned_poster_sees_their_comments_published_and_nobody_else_does(client, admin_token):
    before = send(client, "Before the ban").json["comment"]["id"]
    ban = admin(client, admin_token, "POST", "/bans",
                json={"kind": "ip", "comment_id": before, "shadow": True, "reason": "troll"})
    assert ban.status_code == 201 and ban.json["ban"]["shadow"] is True
    posted = send(client, "Nobody will read this")
    assert posted.status_code == 201  # exactly the answer of a published comment
    assert posted.json["comment"]["state"] == "published"
    shadow_id = posted.json["comment"]["id"]
    assert public_ids(client) == [before]
    assert client.get(f"/api/v1/comments/{shadow_id}").status_code == 404
    own = client.get(f"/api/v1/comments/{shadow_id}", headers={"X-Edit-Token": posted.json["edit_token"]})
    assert own.status_code == 200 and own.json["state"] == "published"
    assert own.headers["Cache-Control"] == "private, no-store" and "X-Edit-Token" in own.headers["Vary"]
    edited = client.patch(f"/api/v1/comments/{shadow_id}", json={"text": "Edited, still unseen"},
                          headers={"X-Edit-Token": posted.json["edit_token"]})
    assert edited.status_code == 200 and edited.json["comment"]["state"] == "published"
    assert public_ids(client) == [before]
    held = admin(client, admin_token, "GET", "/comments", query_string={"state": "spam"}).json["comments"]
    assert [c["id"] for c in held] == [shadow_id] and held[0]["held_reason"].startswith("shadow ban")
    assert send(client, "Another reader", environ=SOMEONE_ELSE).status_code == 201
    assert next(e for e in audit_actions(client, admin_token) if e["action"] == "ban")["details"]["shadow"]


def test_a_real_ban_wins_over_a_shadow_ban(client, admin_token):
    cid = send(client, "Trouble").json["comment"]["id"]
    for shadow in (True, False):
        assert admin(client, admin_token, "POST", "/bans",
                     json={"kind": "ip", "comment_id": cid, "shadow": shadow}).status_code == 201
    assert send(client, "Refused outright").status_code == 403


@pytest.mark.parametrize("shadow", ["yes", 1, None])
def test_a_bad_shadow_flag_is_refused(client, admin_token, shadow):
    cid = send(client, "Trouble").json["comment"]["id"]
    refused = admin(client, admin_token, "POST", "/bans",
                    json={"kind": "ip", "comment_id": cid, "shadow": shadow})
    assert refused.status_code == 400 and "shadow" in refused.json["error"]["fields"]


class TestTrust:
    @pytest.fixture
    def config_overrides(self, smtp_server):
        return account_config(smtp_server.url, MODERATION="all", TRUST_MIN_APPROVED=2)

    def test_an_account_with_enough_approved_comments_skips_pre_moderation(self, client, admin_token,
                                                                         make_reader):
        reader = make_reader()
        held = [send(client, f"Held comment {n}", headers=reader.auth) for n in range(2)]
        assert [h.status_code for h in held] == [202, 202]
        assert admin(client, admin_token, "POST", f"/comments/{held[0].json['comment']['id']}/approve",
                     json={}).status_code == 200
        assert send(client, "Still one short", headers=reader.auth).status_code == 202
        assert admin(client, admin_token, "POST", f"/comments/{held[1].json['comment']['id']}/approve",
                     json={}).status_code == 200
        trusted = send(client, "Now trusted", headers=reader.auth)
        assert trusted.status_code == 201
        # Anonymous posts are not the account's, however many it has.
        assert send(client, "Anonymous again", environ=SOMEONE_ELSE).status_code == 202

    def test_spam_takes_trust_away(self, client, admin_token, make_reader):
        reader = make_reader()
        ids = [send(client, f"Comment {n}", headers=reader.auth).json["comment"]["id"] for n in range(3)]
        for cid in ids[:2]:
            admin(client, admin_token, "POST", f"/comments/{cid}/approve", json={})
        admin(client, admin_token, "POST", f"/comments/{ids[2]}/spam", json={})
        assert send(client, "After the spam", headers=reader.auth).status_code == 202
