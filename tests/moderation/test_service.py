"""Moderation without HTTP: the acting moderator is a parameter, every change is audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support import factories

from widget_server.errors import APIError
from widget_server.extensions import db
from widget_server.models import DELETED, PENDING, PUBLISHED, SPAM, AuditEntry, WebhookDelivery
from widget_server.moderation import service


def audit_log() -> list[tuple[str, str, dict]]:
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
    return [(e.actor, e.action, json.loads(e.details)) for e in entries]


@pytest.mark.parametrize(("action", "state"), [("approve", PUBLISHED), ("spam", SPAM), ("delete", DELETED)])
def test_a_change_is_made_in_the_actors_name(app, db_session, action, state):
    app.config["MODERATION"] = "all"
    moderator = factories.admin("alice")
    comment = factories.comment("held")
    assert comment.state == PENDING
    assert service.change_state(moderator, comment, action) is True
    assert comment.state == state
    (actor, logged, details), = audit_log()
    assert (actor, logged, details["from"], details["to"], details["token_id"]) == (
        "alice", action, PENDING, state, moderator.id)
    assert service.change_state(moderator, comment, action) is False  # nothing to change: no entry
    assert len(audit_log()) == 1


def test_the_command_line_acts_as_the_system(app, db_session):
    comment = factories.comment("by a reader")
    service.set_pinned(None, comment, True)
    assert audit_log() == [("system", "pin", {"url": comment.thread.url, "number": 1})]


def test_publishing_a_held_comment_is_announced_once(app, db_session):
    app.config.update(MODERATION="all", WEBHOOK_URLS=["https://hooks.example/in"], WEBHOOK_SECRET="s")
    comment = factories.comment("held")
    service.change_state(factories.admin(), comment, "approve")
    events = db.session.execute(select(WebhookDelivery.event).order_by(WebhookDelivery.id)).scalars().all()
    assert events == ["comment.created", "comment.approved"]


def test_a_deleted_comment_cannot_be_restored(app, db_session):
    comment = factories.comment("gone")
    service.change_state(None, comment, "delete")
    with pytest.raises(APIError) as refused:
        service.change_state(None, comment, "approve")
    assert refused.value.status == 409


def test_bulk_skips_what_cannot_change(app, db_session):
    moderator = factories.admin()
    one, two = factories.comment("one"), factories.comment("two")
    service.change_state(moderator, two, "delete")
    assert service.bulk(moderator, "spam", [one.id, two.id, 999]) == 1
    assert (one.state, two.state) == (SPAM, DELETED)
