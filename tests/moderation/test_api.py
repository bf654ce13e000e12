"""Admin endpoints: every action, every refusal, and what readers see afterwards."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from support import factories
from support.app import PAGE, REDIS_URL, SITE, base_config, require_service, wipe

from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import AuditEntry, Comment
from widget_server.ops.cli import main

API = "/api/v1"
ADMIN = f"{API}/admin"
OTHER_PAGE = f"{SITE}/2026/12/other"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(admin_token) -> dict:
    return bearer(admin_token)


def thread(client, url=PAGE) -> dict:
    return client.get(f"{API}/comments", query_string={"url": url}).json


def visible_ids(client, url=PAGE) -> list[int]:
    ids, stack = [], list(thread(client, url)["comments"])
    while stack:
        item = stack.pop()
        if item["state"] == "published":
            ids.append(item["id"])
        stack.extend(item["replies"])
    return sorted(ids)


def states(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Comment.id, Comment.state)).all())


def audit_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


# --- listing -----------------------------------------------------------------------------


def test_list_is_newest_first_with_the_admin_fields(client, auth, post, frozen_clock):
    first = post("first", author="Ann", email="ann@example.org")["comment"]["id"]
    frozen_clock.advance(seconds=10)
    reply = post("a reply", parent_id=first)["comment"]["id"]
    listed = client.get(f"{ADMIN}/comments", headers=auth).json
    assert [c["id"] for c in listed["comments"]] == [reply, first]
    assert listed["next_cursor"] is None
    top = listed["comments"][1]
    assert top["url"] == PAGE and top["text"] == "first" and top["email"] == "ann@example.org"
    assert len(top["ip_hash"]) == 32 and top["thread_id"] and top["thread_locked"] is False
    assert listed["comments"][0]["parent"] == {"id": first, "number": 1, "author": "Ann",
                                               "state": "published", "excerpt": "first"}


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "BANANA"}, ["banana bread"]),
    ({"q": "ann@"}, ["from ann"]),
    ({"q": "bob"}, ["from bob"]),
    ({"q": "100%"}, ["100% sure"]),          # LIKE wildcards are literal
    ({"q": "_"}, []),
    ({"url": OTHER_PAGE}, ["elsewhere"]),
    ({"url": f"{SITE}/never-commented"}, []),
    ({"state": "spam"}, ["from bob"]),
    ({"state": "spam", "q": "ann"}, []),
])
def test_list_filters(client, auth, post, query, expected):
    post("banana bread")
    post("from ann", email="ann@example.org")
    bob = post("from bob", author="Bob")["comment"]["id"]
    post("100% sure")
    post("elsewhere", url=OTHER_PAGE)
    client.post(f"{ADMIN}/comments/{bob}/spam", headers=auth, json={})
    listed = client.get(f"{ADMIN}/comments", headers=auth, query_string=query)
    assert listed.status_code == 200
    assert sorted(c["text"] for c in listed.json["comments"]) == sorted(expected)


def test_list_pages_with_a_cursor(client, auth, post, frozen_clock):
    ids = []
    for n in range(5):
        ids.append(post(f"comment {n}")["comment"]["id"])
        if n != 2:  # two comments in the same second: the id breaks the tie
            frozen_clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        page = client.get(f"{ADMIN}/comments", headers=auth,
                          query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).json
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize("query", [{"state": "gone"}, {"limit": "0"}, {"limit": "x"},
                                   {"cursor": "nonsense"}, {"url": "ftp://x"}, {"q": "x" * 201}])
def test_list_rejects_bad_parameters(client, auth, query):
    response = client.get(f"{ADMIN}/comments", headers=auth, query_string=query)
    assert response.status_code == 400 and response.json["error"]["code"] == "validation_error"


# --- approve, spam, delete, bulk ------------------------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_approve_publishes_a_held_comment(client, auth, post):
    held = post("wait for me", expect=202)["comment"]["id"]
    assert visible_ids(client) == []
    response = client.post(f"{ADMIN}/comments/{held}/approve", headers=auth, json={})
    assert response.status_code == 200 and response.json["comment"]["state"] == "published"
    assert visible_ids(client) == [held]
    assert client.get(f"{API}/counts", query_string={"url": PAGE}).json["counts"][PAGE] == 1


def test_spam_hides_the_comment_but_keeps_it(client, auth, post, app):
    cid = post("buy things")["comment"]["id"]
    response = client.post(f"{ADMIN}/comments/{cid}/spam", headers=auth, json={})
    assert response.status_code == 200 and response.json["comment"]["state"] == "spam"
    assert visible_ids(client) == []
    assert client.get(f"{API}/comments/{cid}").status_code == 404
    assert states(app)[cid] == "spam"
    listed = client.get(f"{ADMIN}/comments", headers=auth, query_string={"state": "spam"}).json
    assert listed["comments"][0]["text"] == "buy things"


def test_spam_then_approve_restores_it(client, auth, post):
    cid = post("false positive")["comment"]["id"]
    client.post(f"{ADMIN}/comments/{cid}/spam", headers=auth, json={})
    client.post(f"{ADMIN}/comments/{cid}/approve", headers=auth, json={})
    assert visible_ids(client) == [cid]


def test_delete_keeps_replies_readable_under_a_tombstone(client, auth, post):
    parent = post("parent", author="Ann")["comment"]["id"]
    reply = post("reply", parent_id=parent)["comment"]["id"]
    lonely = post("no replies")["comment"]["id"]
    assert client.delete(f"{ADMIN}/comments/{parent}", headers=auth).status_code == 204
    assert client.delete(f"{ADMIN}/comments/{lonely}", headers=auth).status_code == 204
    comments = thread(client)["comments"]
    assert [c["id"] for c in comments] == [parent]  # the lonely one disappears entirely
    tombstone = comments[0]
    assert tombstone["state"] == "deleted" and tombstone["html"] == "" and tombstone["author"]["name"] == ""
    assert [r["id"] for r in tombstone["replies"]] == [reply]
    assert tombstone["replies"][0]["html"] == "<p>reply</p>"
    assert thread(client)["thread"]["comment_count"] == 1


def test_a_deleted_comment_cannot_be_approved(client, auth, post):
    cid = post("gone")["comment"]["id"]
    client.delete(f"{ADMIN}/comments/{cid}", headers=auth)
    response = client.post(f"{ADMIN}/comments/{cid}/approve", headers=auth, json={})
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"


@pytest.mark.parametrize(("action", "expected_state"), [
    ("delete", "deleted"), ("spam", "spam"), ("approve", "published"),
])
@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_bulk(client, auth, post, app, action, expected_state):
    ids = [post(f"bulk {n}", expect=202)["comment"]["id"] for n in range(3)]
    keep = post("not in the batch", expect=202)["comment"]["id"]
    response = client.post(f"{ADMIN}/comments/bulk", headers=auth,
                           json={"action": action, "ids": [*ids, ids[0], 99999]})
    assert response.status_code == 200 and response.json == {"affected": 3}
    after = states(app)
    assert [after[i] for i in ids] == [expected_state] * 3 and after[keep] == "pending"
    again = client.post(f"{ADMIN}/comments/bulk", headers=auth, json={"action": action, "ids": ids})
    assert again.json == {"affected": 0}


@pytest.mark.parametrize("body", [
    {}, {"action": "explode", "ids": [1]}, {"action": "delete"}, {"action": "delete", "ids": []},
    {"action": "delete", "ids": ["1"]}, {"action": "delete", "ids": [True]}, {"action": "delete", "ids": 1},
    {"action": "delete", "ids": list(range(1, 502))},
])
def test_bulk_rejects_bad_bodies(client, auth, post, app, body):
    cid = post("stays")["comment"]["id"]
    response = client.post(f"{ADMIN}/comments/bulk", headers=auth, json=body)
    assert response.status_code == 400 and "fields" in response.json["error"]
    assert states(app)[cid] == "published"


@pytest.mark.parametrize("path", ["approve", "spam", "pin", "unpin"])
def test_unknown_comment_is_404(client, auth, path):
    response = client.post(f"{ADMIN}/comments/4242/{path}", headers=auth, json={})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_admin_view_of_one_comment(client, auth, post):
    cid = post("look", email="x@example.org")["comment"]["id"]
    response = client.get(f"{ADMIN}/comments/{cid}", headers=auth)
    assert response.status_code == 200 and response.json["comment"]["email"] == "x@example.org"
    assert client.get(f"{ADMIN}/comments/999", headers=auth).status_code == 404


# --- pins and locks ----------------------------------------------------------------------


def test_pin_sorts_first_and_unpin_restores_order(client, auth, post):
    ids = [post(f"top {n}")["comment"]["id"] for n in range(3)]
    response = client.post(f"{ADMIN}/comments/{ids[2]}/pin", headers=auth, json={})
    assert response.status_code == 200 and response.json["comment"]["pinned"] is True
    listed = thread(client)["comments"]
    assert [c["id"] for c in listed] == [ids[2], ids[0], ids[1]] and listed[0]["pinned"] is True
    client.post(f"{ADMIN}/comments/{ids[2]}/unpin", headers=auth, json={})
    assert [c["id"] for c in thread(client)["comments"]] == ids


def test_only_published_top_level_comments_can_be_pinned(client, auth, post):
    top = post("top")["comment"]["id"]
    reply = post("reply", parent_id=top)["comment"]["id"]
    assert client.post(f"{ADMIN}/comments/{reply}/pin", headers=auth, json={}).status_code == 409
    client.post(f"{ADMIN}/comments/{top}/spam", headers=auth, json={})
    assert client.post(f"{ADMIN}/comments/{top}/pin", headers=auth, json={}).status_code == 409


def test_lock_stops_new_comments_and_keeps_old_ones(client, auth, post):
    old = post("before the lock")["comment"]["id"]
    thread_id = client.get(f"{ADMIN}/comments/{old}", headers=auth).json["comment"]["thread_id"]
    response = client.post(f"{ADMIN}/threads/{thread_id}/lock", headers=auth, json={})
    assert response.status_code == 200 and response.json["thread"]["locked"] is True
    shown = thread(client)
    assert shown["thread"]["locked"] is True and [c["id"] for c in shown["comments"]] == [old]
    refused = client.post(f"{API}/comments", json={"url": PAGE, "text": "after the lock"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "thread_locked"
    reply = client.post(f"{API}/comments", json={"url": PAGE, "text": "reply", "parent_id": old})
    assert reply.status_code == 403
    client.post(f"{ADMIN}/threads/{thread_id}/unlock", headers=auth, json={})
    assert thread(client)["thread"]["locked"] is False
    post("after the unlock", expect=201)


def test_lock_unknown_thread_is_404(client, auth):
    assert client.post(f"{ADMIN}/threads/77/lock", headers=auth, json={}).status_code == 404


def test_thread_list_counts_published_and_pending(client, auth, post):
    post("one")
    post("two")
    held = post("three")["comment"]["id"]
    client.post(f"{ADMIN}/comments/bulk", headers=auth, json={"action": "spam", "ids": [held]})
    post("elsewhere", url=OTHER_PAGE, title="Other")
    listed = client.get(f"{ADMIN}/threads", headers=auth).json
    assert [(t["url"], t["published"]) for t in listed["threads"]] == [(OTHER_PAGE, 1), (PAGE, 2)]
    found = client.get(f"{ADMIN}/threads", headers=auth, query_string={"q": "other"}).json["threads"]
    assert [t["title"] for t in found] == ["Other"]
    first = client.get(f"{ADMIN}/threads", headers=auth, query_string={"limit": 1}).json
    rest = client.get(f"{ADMIN}/threads", headers=auth,
                      query_string={"limit": 1, "cursor": first["next_cursor"]}).json
    assert [t["url"] for t in rest["threads"]] == [PAGE] and rest["next_cursor"] is None


# --- readers' caches move on ---------------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "spam", "delete", "pin", "lock"])
@pytest.mark.parametrize("config_overrides", [{"MODERATION": "first"}], indirect=True)
def test_every_admin_action_invalidates_the_cached_thread(client, auth, post, action):
    post("published", email="known@example.org", expect=202)
    cid = client.get(f"{ADMIN}/comments", headers=auth).json["comments"][0]["id"]
    if action != "approve":
        client.post(f"{ADMIN}/comments/{cid}/approve", headers=auth, json={})
    before = client.get(f"{API}/comments", query_string={"url": PAGE})
    etag = before.headers["ETag"]
    thread_id = client.get(f"{ADMIN}/comments/{cid}", headers=auth).json["comment"]["thread_id"]
    request = {"approve": ("post", f"{ADMIN}/comments/{cid}/approve"),
               "spam": ("post", f"{ADMIN}/comments/{cid}/spam"),
               "delete": ("delete", f"{ADMIN}/comments/{cid}"),
               "pin": ("post", f"{ADMIN}/comments/{cid}/pin"),
               "lock": ("post", f"{ADMIN}/threads/{thread_id}/lock")}[action]
    method, path = request
    kwargs = {} if method == "delete" else {"json": {}}
    assert getattr(client, method)(path, headers=auth, **kwargs).status_code in (200, 204)
    after = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


# --- refusals: authentication and media type ------------------------------------------------

WRITES = [
    ("post", "/comments/{id}/approve", {}),
    ("post", "/comments/{id}/spam", {}),
    ("delete", "/comments/{id}", None),
    ("post", "/comments/bulk", {"action": "delete", "ids": ["{id}"]}),
    ("post", "/comments/{id}/pin", {}),
    ("post", "/threads/{thread}/lock", {}),
    ("post", "/bans", {"kind": "ip", "comment_id": "{id}"}),
]
READS = ["/comments", "/comments/{id}", "/threads", "/bans", "/audit", "/stats"]


def _fill(template, cid: int, thread_id: int):
    if isinstance(template, str):
        filled = template.replace("{id}", str(cid)).replace("{thread}", str(thread_id))
        return int(filled) if filled.isdigit() and template.startswith("{") else filled
    if isinstance(template, list):
        return [_fill(v, cid, thread_id) for v in template]
    if isinstance(template, dict):
        return {k: _fill(v, cid, thread_id) for k, v in template.items()}
    return template


@pytest.fixture
def revoked_token(app, runner) -> str:
    with app.app_context():
        token = factories.admin_token("leaver")
    result = runner.invoke(main, ["token", "revoke", "1"], catch_exceptions=False)
    assert result.exit_code == 0
    return token


@pytest.mark.parametrize("who", ["none", "wrong", "revoked", "not-bearer"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_writes_without_a_valid_token_are_401_and_change_nothing(client, post, app, revoked_token,
                                                                  who, method, path, body):
    cid = post("untouched")["comment"]["id"]
    with app.app_context():
        thread_id = db.session.get(Comment, cid).thread_id
    headers = {"none": {}, "wrong": bearer("not-a-token"), "revoked": bearer(revoked_token),
               "not-bearer": {"Authorization": f"Basic {revoked_token}"}}[who]
    before = (states(app), thread(client))
    kwargs = {} if body is None else {"json": _fill(body, cid, thread_id)}
    response = getattr(client, method)(ADMIN + _fill(path, cid, thread_id), headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert (states(app), thread(client)) == before
    assert audit_count(app) == 0
    assert client.get(f"{ADMIN}/bans", headers=bearer(create_token_in(app))).json["bans"] == []


def create_token_in(app) -> str:
    with app.app_context():
        return factories.admin_token("checker")


@pytest.mark.parametrize("who", ["none", "wrong", "revoked"])
@pytest.mark.parametrize("path", READS)
def test_reads_without_a_valid_token_are_401(client, post, revoked_token, who, path):
    cid = post("secret e-mail inside", email="private@example.org")["comment"]["id"]
    headers = {"none": {}, "wrong": bearer("x" * 43), "revoked": bearer(revoked_token)}[who]
    response = client.get(ADMIN + _fill(path, cid, 1), headers=headers)
    assert response.status_code == 401
    assert b"private@example.org" not in response.data


@pytest.mark.parametrize(("method", "path", "body"), [w for w in WRITES if w[2] is not None])
def test_admin_writes_must_be_json(client, auth, post, app, method, path, body):
    cid = post("untouched")["comment"]["id"]
    with app.app_context():
        thread_id = db.session.get(Comment, cid).thread_id
    response = getattr(client, method)(ADMIN + _fill(path, cid, thread_id), headers=auth,
                                       data=json.dumps(_fill(body, cid, thread_id)),
                                       content_type="text/plain")
    assert response.status_code == 415
    assert states(app)[cid] == "published" and audit_count(app) == 0


def test_a_delete_with_a_non_json_body_is_refused(client, auth, post, app):
    cid = post("untouched")["comment"]["id"]
    response = client.delete(f"{ADMIN}/comments/{cid}", headers=auth, data="x", content_type="text/plain")
    assert response.status_code == 415 and states(app)[cid] == "published"


def test_several_named_tokens_each_work_and_revoking_one_leaves_the_other(app, client, runner, post):
    with app.app_context():
        alice, bob = factories.admin_token("alice"), factories.admin_token("bob")
    cid = post("hello")["comment"]["id"]
    listing = runner.invoke(main, ["token", "list"], catch_exceptions=False).output
    assert "alice" in listing and "bob" in listing and alice not in listing and bob not in listing
    runner.invoke(main, ["token", "revoke", "1"], catch_exceptions=False)
    assert client.post(f"{ADMIN}/comments/{cid}/spam", headers=bearer(alice), json={}).status_code == 401
    assert client.post(f"{ADMIN}/comments/{cid}/spam", headers=bearer(bob), json={}).status_code == 200
    entries = client.get(f"{ADMIN}/audit", headers=bearer(bob)).json["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [("bob", "spam")]


# --- failed authentication is rate-limited ------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, database_url, tmp_path):
    overrides = {"RATELIMIT_ENABLED": True, "RATELIMIT_ADMIN_AUTH": "3 per minute"}
    if request.param == "redis":
        overrides["REDIS_URL"] = require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")
    app = create_app(base_config(database_url, tmp_path, **overrides))
    yield app
    wipe(app)


def test_failed_admin_auth_is_rate_limited(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        good = factories.admin_token("real")
    # Successful requests are not counted.
    for _ in range(5):
        assert client.get(f"{ADMIN}/stats", headers=bearer(good)).status_code == 200
    for _ in range(3):
        assert client.get(f"{ADMIN}/stats", headers=bearer("guess")).status_code == 401
    blocked = client.get(f"{ADMIN}/stats", headers=bearer("guess"))
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) >= 1
    # Once the budget is spent, even the right token waits: guessing gains nothing.
    assert client.get(f"{ADMIN}/stats", headers=bearer(good)).status_code == 429
    # Another client is not affected.
    other = client.get(f"{ADMIN}/stats", headers=bearer(good), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200


# --- statistics and the OpenAPI description ---------------------------------------------------


def test_stats_counts_comments_per_day(client, auth, post, frozen_clock):
    post("day one a")
    post("day one b")
    frozen_clock.advance(days=1)
    spam = post("day two")["comment"]["id"]
    client.post(f"{ADMIN}/comments/{spam}/spam", headers=auth, json={})
    stats = client.get(f"{ADMIN}/stats", headers=auth, query_string={"days": 3}).json
    assert [d["date"] for d in stats["days"]] == ["2026-11-26", "2026-11-27", "2026-11-28"]
    assert [(d["published"], d["spam"]) for d in stats["days"]] == [(0, 0), (2, 0), (0, 1)]
    assert stats["totals"] == {"published": 2, "pending": 0, "deleted": 0, "spam": 1}
    assert client.get(f"{ADMIN}/stats", headers=auth, query_string={"days": 0}).status_code == 400


def test_every_admin_route_is_in_the_openapi_description(app, client):
    document = client.get(f"{API}/openapi.json").json
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/admin"):
            continue
        path = rule.rule.replace("<int:comment_id>", "{id}").replace("<int:thread_id>", "{id}") \
                        .replace("<int:ban_id>", "{id}").replace("<name>", "{name}")
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            assert operation["security"] == [{"adminToken": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
