"""Signed webhooks to a local receiver: every event verifies, failures are retried with backoff."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import accounts as account_support
from support.accounts import PASSWORD, account_config, send_outbox
from support.app import PAGE, base_config

from widget_server import create_app
from widget_server.config import ConfigError
from widget_server.delivery import webhooks
from widget_server.extensions import db
from widget_server.models import Comment, WebhookDelivery

SECRET = "whsec-test-0123456789"
smtp_server = account_support.smtp_server
webhook_receiver = account_support.webhook_receiver
make_reader = account_support.make_reader


@pytest.fixture
def config_overrides(request, smtp_server, webhook_receiver):
    return account_config(smtp_server.url, WEBHOOK_URLS=[webhook_receiver.url], WEBHOOK_SECRET=SECRET,
                          **getattr(request, "param", {}))


def receiver_verifies(request: dict, now: int, secret: str = SECRET, tolerance: int = 300) -> bool:
    """An independent receiver-side check, written from the documentation (not webhooks.verify)."""
    header = request["headers"]["X-Widget-Signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    signed = f"{timestamp}.".encode() + request["body"]
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts["v1"])


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_comment_created_is_signed_and_delivered(client, app, post, webhook_receiver, frozen_clock):
    created = post("Hello <b>hooks</b>", author="Bob", email="bob@example.org",
                   website="https://bob.example/")["comment"]
    assert webhook_receiver.requests == []  # nothing on the request path
    frozen_clock.advance(seconds=42)  # signed when sent, not when queued
    assert send_outbox(app) == 1
    (request,) = webhook_receiver.requests
    now = int(frozen_clock().timestamp())
    assert receiver_verifies(request, now)
    assert request["headers"]["X-Widget-Signature"].startswith(f"t={now},v1=")
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Widget-Event"] == "comment.created"
    body = json.loads(request["body"])
    assert request["headers"]["X-Widget-Delivery"] == body["id"]
    assert body["event"] == "comment.created"
    comment = body["comment"]
    assert comment["id"] == created["id"] and comment["state"] == "published"
    assert comment["url"] == PAGE and comment["link"] == f"{PAGE}#comment-{created['number']}"
    assert comment["text"] == "Hello <b>hooks</b>"
    assert comment["author"] == {"name": "Bob", "website": "https://bob.example/", "verified": False}
    raw = request["body"].decode()
    assert "bob@example.org" not in raw and "ip_hash" not in raw  # never the address or IP hash


def test_tampered_or_stale_signatures_fail_verification(app, post, webhook_receiver, frozen_clock):
    post("hello")
    send_outbox(app)
    (request,) = webhook_receiver.requests
    now = int(frozen_clock().timestamp())
    header = request["headers"]["X-Widget-Signature"]
    assert webhooks.verify(SECRET, header, request["body"], now)
    assert not webhooks.verify(SECRET, header, request["body"] + b" ", now)
    assert not webhooks.verify("another secret", header, request["body"], now)
    assert not webhooks.verify(SECRET, header, request["body"], now + 301)
    assert not webhooks.verify(SECRET, "garbage", request["body"], now)
    assert not receiver_verifies({**request, "body": request["body"].replace(b"hello", b"HELLO")}, now)


def test_failed_deliveries_are_retried_with_backoff(app, post, webhook_receiver, frozen_clock):
    webhook_receiver.statuses = [500, 503]
    post("hello")
    assert send_outbox(app) == 0
    (row,) = deliveries(app)
    assert row.attempts == 1 and "500" in row.last_error
    assert row.next_attempt_at == frozen_clock() + timedelta(seconds=30)
    frozen_clock.advance(seconds=31)
    assert send_outbox(app) == 0
    assert deliveries(app)[0].next_attempt_at == frozen_clock() + timedelta(seconds=60)
    frozen_clock.advance(seconds=61)
    assert send_outbox(app) == 1
    assert [r["status"] for r in webhook_receiver.requests] == [500, 503, 200]
    ids = {json.loads(r["body"])["id"] for r in webhook_receiver.requests}
    assert len(ids) == 1  # the same delivery id each time: receivers can deduplicate
    now = int(frozen_clock().timestamp())
    assert receiver_verifies(webhook_receiver.requests[-1], now)


def test_a_redirect_is_a_failed_delivery(app, post, webhook_receiver):
    webhook_receiver.statuses = [302]
    post("hello")
    assert send_outbox(app) == 0
    assert "302" in deliveries(app)[0].last_error


def test_unreachable_receiver_is_retried(app, post, webhook_receiver):
    webhook_receiver.stop()
    post("hello")
    assert send_outbox(app) == 0
    (row,) = deliveries(app)
    assert row.attempts == 1 and row.sent_at is None and row.last_error


def test_deleted_by_author(client, app, post, webhook_receiver, frozen_clock):
    created = post("oops")
    response = client.delete(f"/api/v1/comments/{created['comment']['id']}",
                             headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 204
    send_outbox(app)
    assert webhook_receiver.events() == ["comment.created", "comment.deleted"]
    deleted = json.loads(webhook_receiver.requests[1]["body"])["comment"]
    assert deleted["state"] == "deleted" and deleted["text"] == ""
    now = int(frozen_clock().timestamp())
    assert all(receiver_verifies(r, now) for r in webhook_receiver.requests)


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_admin_approve_and_delete_emit_events(client, app, post, admin_token, webhook_receiver, frozen_clock):
    held = post("held", expect=202)["comment"]
    admin = {"Authorization": f"Bearer {admin_token}"}
    assert client.post(f"/api/v1/admin/comments/{held['id']}/approve", json={},
                       headers=admin).status_code == 200
    assert client.delete(f"/api/v1/admin/comments/{held['id']}", headers=admin).status_code == 204
    send_outbox(app)
    assert webhook_receiver.events() == ["comment.created", "comment.approved", "comment.deleted"]
    bodies = [json.loads(r["body"])["comment"]["state"] for r in webhook_receiver.requests]
    assert bodies == ["pending", "published", "deleted"]
    now = int(frozen_clock().timestamp())
    assert all(receiver_verifies(r, now) for r in webhook_receiver.requests)


def test_account_posts_are_marked_verified_and_removal_is_a_delete_event(client, app, make_reader,
                                                                          webhook_receiver):
    reader = make_reader()
    client.post("/api/v1/comments", json={"url": PAGE, "text": "mine"}, headers=reader.auth)
    client.post("/api/v1/account/delete", json={"password": PASSWORD, "comments": "remove"},
                headers=reader.auth)
    send_outbox(app)
    assert webhook_receiver.events() == ["comment.created", "comment.deleted"]
    first = json.loads(webhook_receiver.requests[0]["body"])["comment"]
    assert first["author"]["verified"] is True and first["author"]["name"] == "Mary Smith"


def test_unknown_event_is_a_programming_error(app, post):
    post("hello")
    with app.test_request_context():
        comment = db.session.execute(select(Comment)).scalar_one()
        with pytest.raises(ValueError, match="unknown webhook event"):
            webhooks.emit("comment.liked", comment)


def test_every_configured_url_gets_its_own_delivery(app, post, webhook_receiver):
    second = account_support.WebhookReceiver().start()
    try:
        app.config["WEBHOOK_URLS"] = [webhook_receiver.url, second.url]
        post("hello")
        assert send_outbox(app) == 2
        assert len(webhook_receiver.requests) == len(second.requests) == 1
    finally:
        second.stop()


@pytest.mark.parametrize(("settings", "message"), [
    ({"WEBHOOK_URLS": ["https://hooks.example/x"]}, "WIDGET_WEBHOOK_SECRET"),
    ({"WEBHOOK_URLS": ["ftp://hooks.example/x"], "WEBHOOK_SECRET": "s"}, "not an http"),
])
def test_webhook_settings_are_checked_at_start(database_url, tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        create_app(base_config(database_url, tmp_path, **settings))


def test_no_urls_no_deliveries(app, post):
    app.config["WEBHOOK_URLS"] = []
    post("hello")
    assert deliveries(app) == []
