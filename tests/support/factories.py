"""Rows with sensible defaults, made through the services: tests name only what matters to them.

Call inside an app context (the ``db_session`` fixture gives one). Each factory
commits, as the API would, so HTTP tests see what it made; under ``db_session``
those commits are savepoints and the whole test is rolled back.
"""
from __future__ import annotations

import itertools
import json

from support.app import PAGE
from widget_server import clock, names
from widget_server.comments.post import Client, NewComment, post
from widget_server.extensions import db
from widget_server.models import (
    AdminToken,
    Comment,
    Identity,
    OutboxMessage,
    Subscription,
    User,
    WebhookDelivery,
)
from widget_server.moderation.auth import create_token
from widget_server.sites import service as sites

SHOP = "https://shop.example"  # a second site's origin (support.app.SITE is the default site's)

_names = itertools.count(1)


def admin_token(name: str = "test-admin") -> str:
    """A new admin token (the secret; only its hash is stored)."""
    token = create_token(name)
    db.session.commit()
    return token


def admin(name: str | None = None) -> AdminToken:
    """An admin token's row, as a moderation service sees the acting moderator."""
    token = AdminToken(name=name or f"moderator-{next(_names)}", token_hash=f"{next(_names):064x}")
    db.session.add(token)
    db.session.commit()
    return token


def comment(text: str = "A comment", url: str = PAGE, *, client: str = "192.0.2.1", **fields) -> Comment:
    """A reader's comment through the real write path (``post``), without HTTP."""
    new = NewComment(url=url, text=text, **fields)
    stored, _token = post(new, None, Client(client))
    db.session.commit()
    return stored


def stored_comment(text: str = "A comment", url: str = PAGE, *, state: str = "published",
                   address: str = "192.0.2.1", **fields) -> Comment:
    """A comment from ``address``, then put in ``state`` as a moderator or a rule would."""
    stored = comment(text, url, client=address, **fields)
    stored.state = state
    db.session.commit()
    return stored


STAND_IN_HASH = "$argon2id$stand-in"  # noqa: S105 - not a password: no password matches it


def user(name: str | None = None, *, email: str | None = None, password_hash: str = STAND_IN_HASH) -> User:
    """A reader account as a confirmed sign-up leaves it (the hash is a stand-in unless given)."""
    name = name or f"Reader {next(_names)}"
    row = User(email=email or f"{name.lower().replace(' ', '.')}@example.org", display_name=name,
               name_key=names.name_key(name), name_skeleton=names.name_skeleton(name),
               password_hash=password_hash, created_at=clock.now())
    db.session.add(row)
    db.session.commit()
    return row


def identity(user_id: int, provider: str = "mastodon", subject: str = "https://example.social/1", *,
             handle: str | None = "@ann@example.social") -> Identity:
    """A reader's way in through a sign-in provider (issue 18)."""
    found = Identity(user_id=user_id, provider=provider, subject=subject, handle=handle)
    db.session.add(found)
    db.session.commit()
    return found


def subscription(comment_id: int, email: str, *, confirmed: bool = True) -> Subscription:
    row = Subscription(comment_id=comment_id, email=email, confirmed=confirmed)
    db.session.add(row)
    db.session.commit()
    return row


def outbox(recipient: str = "reader@example.org", *, sent: bool = False) -> OutboxMessage:
    """A composed mail waiting in the outbox (or, ``sent``, one delivered already)."""
    row = OutboxMessage(kind="reply", recipient=recipient, subject="A reply", text_body="Hello",
                        html_body="<p>Hello</p>", sent_at=clock.now() if sent else None)
    db.session.add(row)
    db.session.commit()
    return row


def webhook(event: str = "comment.created", *, sent: bool = False) -> WebhookDelivery:
    row = WebhookDelivery(delivery_id=f"{next(_names):032x}", event=event, url="https://hooks.example/in",
                          body=json.dumps({"event": event}), sent_at=clock.now() if sent else None)
    db.session.add(row)
    db.session.commit()
    return row


def site(name: str = "shop", origins: tuple[str, ...] = (SHOP,), **settings):
    """A site with its origins and the settings it overrides (``moderation="all"``), in force in
    this process at once (as after ``widget-server site add``)."""
    row = sites.add(name, origins, settings)
    db.session.commit()
    sites.changed()
    return row
