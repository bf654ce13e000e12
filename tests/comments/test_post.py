"""The write path without HTTP: ``NewComment.parse`` and the numbered steps of ``post()``."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support import factories
from support.app import PAGE

from widget_server.comments.post import Client, NewComment, identity, moderation_state, parent_for, post
from widget_server.errors import APIError, ValidationError
from widget_server.extensions import db
from widget_server.models import MAX_DEPTH, PENDING, PUBLISHED, SPAM, Comment, User, WebhookDelivery


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "hi"}, "url"),
    ({"url": PAGE}, "text"),
    ({"url": PAGE, "text": "hi", "parent_id": "1"}, "parent_id"),
    ({"url": PAGE, "text": "hi", "parent_id": True}, "parent_id"),
    ({"url": PAGE, "text": "hi", "email": "not an address"}, "email"),
    ({"url": PAGE, "text": "hi", "website": "javascript:alert(1)"}, "website"),
    ({"url": PAGE, "text": "hi", "author": "<b>"}, "author"),
    ({"url": PAGE, "text": "hi", "notify": "yes"}, "notify"),
])
def test_parse_refuses_each_bad_field_by_name(app_context, body, field):
    with pytest.raises(ValidationError) as refused:
        NewComment.parse(body)
    assert field in refused.value.fields


def test_parse_keeps_only_the_allowlist_and_reads_the_anti_spam_fields(app_context):
    new = NewComment.parse({"url": PAGE + "?utm_source=x", "text": "hi", "title": "<T>", "homepage": "x",
                            "form_token": "abc", "is_admin": True})
    assert new == NewComment(url=PAGE, text="hi", title="T", form_token="abc", honeypot=True)


def test_a_post_is_numbered_stored_and_announced(app, db_session):
    app.config.update(WEBHOOK_URLS=["https://hooks.example/in"], WEBHOOK_SECRET="s")
    first = factories.comment("first")
    reply, token = post(NewComment(url=PAGE, text="second", parent_id=first.id), None, Client("192.0.2.7"))
    assert (first.number, reply.number, reply.depth, reply.state) == (1, 2, 1, PUBLISHED)
    assert token and reply.edit_token_hash != token
    events = db.session.execute(select(WebhookDelivery.event).order_by(WebhookDelivery.id)).scalars().all()
    assert events == ["comment.created", "comment.created"]


def test_spam_is_stored_and_heard_of_by_nobody(app, db_session):
    app.config.update(WEBHOOK_URLS=["https://hooks.example/in"], WEBHOOK_SECRET="s")
    spam, _ = post(NewComment(url=PAGE, text="buy", honeypot=True), None, Client("192.0.2.7"))
    assert spam.state == SPAM
    assert db.session.execute(select(func.count(WebhookDelivery.id))).scalar_one() == 0


@pytest.mark.parametrize(("mode", "email", "known", "state"), [
    ("off", None, False, PUBLISHED),
    ("all", "a@b.example", True, PENDING),
    ("first", None, False, PENDING),
    ("first", "a@b.example", False, PENDING),
    ("first", "a@b.example", True, PUBLISHED),
])
def test_moderation_state(app, db_session, mode, email, known, state):
    if known:
        factories.comment("earlier", email="A@b.example")
    assert moderation_state(email, {"MODERATION": mode})[0] == state


def test_identity_keeps_registered_names_for_their_owners(app, db_session):
    db.session.add(User(email="r@b.example", display_name="Reader", name_key="reader", password_hash="x"))
    db.session.flush()
    with pytest.raises(ValidationError):
        identity(NewComment(url=PAGE, text="hi", author="READER"), None)
    app.config["ANONYMOUS_POSTING"] = False
    with pytest.raises(APIError) as refused:
        identity(NewComment(url=PAGE, text="hi"), None)
    assert refused.value.status == 403


def test_past_the_depth_cap_a_reply_joins_its_parents_replies(app, db_session):
    parent = factories.comment("top")
    for depth in range(MAX_DEPTH):
        parent = factories.comment(f"reply at depth {depth + 1}", parent_id=parent.id)
    assert parent.depth == MAX_DEPTH - 1
    assert parent_for(parent.thread.url, parent.id).id == parent.parent_id
    assert db.session.execute(select(func.max(Comment.depth))).scalar_one() == MAX_DEPTH - 1
