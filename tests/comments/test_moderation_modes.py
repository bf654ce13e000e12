"""WIDGET_MODERATION=off|all|first: what is held, who sees it, and approval."""
from __future__ import annotations

import pytest
from support.app import PAGE

API = "/api/v1"


def public_ids(client, url=PAGE) -> list[int]:
    found, stack = [], list(client.get(f"{API}/comments", query_string={"url": url}).json["comments"])
    while stack:
        item = stack.pop()
        found.append(item["id"])
        stack.extend(item["replies"])
    return sorted(found)


def count(client, url=PAGE) -> int:
    return client.get(f"{API}/counts", query_string={"url": url}).json["counts"][url]


def approve(client, admin_token, comment_id: int):
    response = client.post(f"{API}/admin/comments/{comment_id}/approve",
                           headers={"Authorization": f"Bearer {admin_token}"}, json={})
    assert response.status_code == 200


@pytest.mark.parametrize(("config_overrides", "email", "status"), [
    ({"MODERATION": "off"}, None, 201),
    ({"MODERATION": "off"}, "a@example.org", 201),
    ({"MODERATION": "all"}, None, 202),
    ({"MODERATION": "all"}, "a@example.org", 202),
    ({"MODERATION": "first"}, None, 202),
    ({"MODERATION": "first"}, "a@example.org", 202),
], indirect=["config_overrides"])
def test_first_comment_status_per_mode(post, client, config_overrides, email, status):
    created = post("hello", email=email, expect=status)
    assert created["comment"]["state"] == ("published" if status == 201 else "pending")
    config = client.get(f"{API}/comments", query_string={"url": PAGE}).json["config"]
    assert config["moderation"] == config_overrides["MODERATION"]


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_a_held_comment_is_seen_only_by_its_author_until_approved(client, post, admin_token):
    held = post("wait for me", email="ann@example.org", expect=202)
    cid, token = held["comment"]["id"], held["edit_token"]
    # Other readers: not in the thread, not in the counts, not as a single comment.
    thread = client.get(f"{API}/comments", query_string={"url": PAGE}).json
    assert thread["comments"] == [] and thread["thread"]["comment_count"] == 0
    assert count(client) == 0
    assert client.get(f"{API}/comments/{cid}").status_code == 404
    assert client.get(f"{API}/comments/{cid}", headers={"X-Edit-Token": "wrong"}).status_code == 404
    # Its author (the widget keeps the edit token): visible, with its source text.
    own = client.get(f"{API}/comments/{cid}", headers={"X-Edit-Token": token})
    assert own.status_code == 200 and own.json["state"] == "pending" and own.json["text"] == "wait for me"
    approve(client, admin_token, cid)
    assert public_ids(client) == [cid] and count(client) == 1
    assert client.get(f"{API}/comments/{cid}").json["state"] == "published"


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_a_reply_to_a_held_comment_is_held_too_and_the_tree_stays_hidden(client, post, admin_token):
    parent = post("held parent", expect=202)["comment"]["id"]
    reply = post("held reply", parent_id=parent, expect=202)["comment"]["id"]
    assert public_ids(client) == []
    approve(client, admin_token, reply)
    # The approved reply is visible; its still-held parent shows only as a tombstone.
    top = client.get(f"{API}/comments", query_string={"url": PAGE}).json["comments"]
    assert [(c["id"], c["state"], c["html"]) for c in top] == [(parent, "deleted", "")]
    assert [r["id"] for r in top[0]["replies"]] == [reply]
    assert count(client) == 1


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "first"}], indirect=True)
def test_first_mode_trusts_an_email_with_an_approved_comment(client, post, admin_token):
    first = post("my first", email="Ann@Example.org", expect=202)["comment"]["id"]
    post("still unknown", email="ann@example.org", expect=202)  # pending is not approved
    approve(client, admin_token, first)
    post("now trusted", email="ANN@example.org", expect=201)   # case-insensitive
    post("a stranger", email="bob@example.org", expect=202)
    post("no e-mail at all", expect=202)


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "first"}], indirect=True)
def test_first_mode_does_not_trust_an_email_whose_only_comment_was_spam(client, post, admin_token):
    first = post("spammy", email="bot@example.org", expect=202)["comment"]["id"]
    client.post(f"{API}/admin/comments/{first}/spam", headers={"Authorization": f"Bearer {admin_token}"},
                json={})
    post("again", email="bot@example.org", expect=202)


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_the_admin_queue_lists_held_comments(client, post, admin_token):
    ids = [post(f"held {n}", expect=202)["comment"]["id"] for n in range(3)]
    queue = client.get(f"{API}/admin/comments", query_string={"state": "pending"},
                       headers={"Authorization": f"Bearer {admin_token}"}).json["comments"]
    assert sorted(c["id"] for c in queue) == ids


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_held_comments_stay_out_of_the_feeds_until_approved(client, post, admin_token):
    cid = post("a held secret", expect=202)["comment"]["id"]
    feeds = [("/api/v1/feed.atom", {"url": PAGE}), ("/api/v1/feeds/recent.atom", {})]
    for path, query in feeds:
        response = client.get(path, query_string=query)
        assert response.status_code == 200 and b"a held secret" not in response.data, path
    approve(client, admin_token, cid)
    for path, query in feeds:
        assert b"a held secret" in client.get(path, query_string=query).data, path


@pytest.mark.parametrize(("config_overrides", "body", "reason"), [
    ({"MODERATION": "all"}, {}, "every new comment waits for approval (moderation: all)"),
    ({"MODERATION": "first"}, {}, "no e-mail address, so no approved comment to go by (moderation: first)"),
    ({"MODERATION": "first"}, {"email": "new@example.org"},
     "the first comment from this e-mail address (moderation: first)"),
    ({"SPAM_MAX_LINKS": 1}, {"text": "https://a.example/ https://b.example/"}, "2 links (more than 1)"),
    ({"BLOCKED_WORDS": ["casino"]}, {"text": "best Casino deals"}, "blocked word \u201cCasino\u201d"),
    ({}, {"homepage": "https://bot.example/"}, "the hidden honeypot field was filled in (a bot)"),
], indirect=["config_overrides"])
def test_the_moderation_page_is_told_why_a_comment_was_held(client, admin_token, body, reason):
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "a comment", **body})
    assert response.status_code == 202
    listed = client.get("/api/v1/admin/comments", headers={"Authorization": f"Bearer {admin_token}"}).json
    assert listed["comments"][0]["held_reason"] == reason


def test_published_comments_have_no_reason(client, admin_token):
    assert client.post("/api/v1/comments", json={"url": PAGE, "text": "fine"}).status_code == 201
    listed = client.get("/api/v1/admin/comments", headers={"Authorization": f"Bearer {admin_token}"}).json
    assert listed["comments"][0]["held_reason"] is None
