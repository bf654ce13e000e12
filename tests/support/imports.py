"""Helpers shared by the import, export and feed tests."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from support import factories
from support.app import PAGE, SITE
from widget_server import clock
from widget_server.extensions import db
from widget_server.models import PENDING, Comment, Thread, WebhookDelivery
from widget_server.moderation import auth
from widget_server.ops.cli import main

OTHER = f"{SITE}/2026/12/another-page"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def run(runner, *args, expect_ok: bool = True, **invoke):
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False, **invoke)
    if expect_ok:
        assert result.exit_code == 0, result.output
    return result


def thread(client, url: str) -> dict:
    response = client.get("/api/v1/comments", query_string={"url": url, "limit": 200})
    assert response.status_code == 200, response.json
    return response.json


def flat(comments: list[dict]) -> list[dict]:
    out: list[dict] = []
    stack = list(reversed(comments))
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(reversed(item["replies"]))
    return out


def by_text(body: dict) -> dict[str, dict]:
    return {c["html"]: c for c in flat(body["comments"])}


def counts(app) -> tuple[int, int]:
    with app.app_context():
        threads = db.session.execute(select(func.count(Thread.id))).scalar()
        comments = db.session.execute(select(func.count(Comment.id))).scalar()
        return threads, comments


def rows(app, url: str) -> list[Comment]:
    with app.app_context():
        found = db.session.execute(
            select(Comment).join(Thread).where(Thread.url == url).order_by(Comment.number)
        ).scalars().all()
        db.session.expunge_all()
        return found


def shared_fixtures() -> Path | None:
    root = os.environ.get("WIDGET_TEST_SHARED")
    return Path(root) / "fixtures" if root else None


def build_threads(client, post, app, admin_token) -> list[int]:
    """Two threads with comments in every state, a reply to a deleted one, likes, an edit, a lock."""
    first = post("First, with **markdown** and a link https://example.org", author="Ann",
                 email="ann@example.org", website="https://ann.example")
    c1 = first["comment"]["id"]
    post("A reply", parent_id=c1, author="Bob")
    regret = post("I will delete this", author="Cy")
    post("Reply to the deleted one", parent_id=regret["comment"]["id"])
    client.delete(f"/api/v1/comments/{regret['comment']['id']}",
                  headers={"X-Edit-Token": regret["edit_token"]})
    spam = post("Buy now", author="Spammer")
    client.post(f"/api/v1/admin/comments/{spam['comment']['id']}/spam", json={},
                headers={"Authorization": f"Bearer {admin_token}"})
    held = post("Held back", author="Dan")
    edited = post("Typo", author="Eve")
    client.patch(f"/api/v1/comments/{edited['comment']['id']}", json={"text": "Fixed"},
                 headers={"X-Edit-Token": edited["edit_token"]})
    for address in ("10.0.0.1", "10.0.0.2"):
        client.post(f"/api/v1/comments/{c1}/like", json={}, environ_base={"REMOTE_ADDR": address})
    # Reactions other than the like: one to a comment, one to the page itself.
    for body in ({"comment_id": c1, "emoji": "🎉"}, {"url": PAGE, "emoji": "😮"}):
        assert client.post("/api/v1/reactions", json=body,
                           environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 200
    other = post("On another page", url=OTHER, title="Another page", author="Fay")
    post("Anonymous reply", url=OTHER, parent_id=other["comment"]["id"])
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == held["comment"]["id"]).values(state=PENDING))
        db.session.execute(update(Thread).where(Thread.url == OTHER).values(locked=True))
        db.session.commit()
    return [first["comment"]["id"], edited["comment"]["id"], other["comment"]["id"]]


# A second site's secret settings (which an export holds only with --with-secrets).
SITE_SECRETS = {"webhook_secret": "shop-webhook-key-" + "w" * 24, "sso_secret": "shop-sso-key-" + "s" * 32}


def build_everything(client, post, app, admin_token) -> None:
    """Rows in every table an export holds: build_threads, plus an account with a provider identity,
    a reader's report, subscriptions, bans
    (with their audit entries), mail and webhooks both sent and still to send, and a second site
    (with secret settings, a thread, a token of its own and a webhook of its own)."""
    with app.app_context():
        shop = factories.site("shop", moderation="all", **SITE_SECRETS).id
        auth.create("shop-moderator", shop, "moderator")
        db.session.commit()
        factories.comment("On the shop", f"{factories.SHOP}/kettle")
    first = build_threads(client, post, app, admin_token)[0]
    headers = {"Authorization": f"Bearer {admin_token}"}
    assert client.post("/api/v1/admin/bans", json={"kind": "email", "value": "troll@example.org",
                                                   "reason": "trolling"}, headers=headers).status_code == 201
    assert client.post("/api/v1/admin/bans", json={"kind": "ip", "comment_id": first, "expires_in": 3600},
                       headers=headers).status_code == 201
    assert client.post(f"/api/v1/comments/{first}/report", json={"reason": "off_topic"},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 202
    with app.app_context():
        reader = factories.user("Ann Reader", password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
        db.session.execute(update(Comment).where(Comment.id == first).values(user_id=reader.id))
        db.session.commit()
        factories.identity(reader.id)
        factories.subscription(first, "ann@example.org")
        factories.subscription(first, "bob@example.org", confirmed=False)
        for sent in (False, True):
            factories.outbox(sent=sent)
            factories.webhook(sent=sent).site_id = None if sent else shop  # the one exported: the shop's
        # The shop's key turns the webhook sender on: its delivery waits, so no test's attempt
        # changes it between an export and the next.
        db.session.execute(update(WebhookDelivery).values(next_attempt_at=clock.now() + timedelta(days=1)))
        db.session.commit()
