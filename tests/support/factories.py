"""Rows with sensible defaults, made through the services: tests name only what matters to them.

Call inside an app context (the ``db_session`` fixture gives one). Each factory
commits, as the API would, so HTTP tests see what it made; under ``db_session``
those commits are savepoints and the whole test is rolled back.
"""
from __future__ import annotations

import itertools

from support.app import PAGE
from widget_server.comments.post import Client, NewComment, post
from widget_server.extensions import db
from widget_server.models import AdminToken, Comment
from widget_server.moderation.auth import create_token

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
