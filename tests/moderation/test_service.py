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


def _counted_from_comments(days: int) -> dict:
    """What stats() must say, counted the slow way: every comment by its day and state now."""
    from collections import Counter

    from widget_server.models import Comment

    found: Counter = Counter()
    for created_at, state in db.session.execute(select(Comment.created_at, Comment.state)):
        found[(created_at.date().isoformat(), state)] += 1
    return found


def test_stats_follow_every_change_and_fold_past_days(app, db_session, frozen_clock):
    """The trigger-kept counts equal a count of the comments after posts, state changes and
    deletes on several days; reading them folds past days into one row per day and state."""
    from sqlalchemy import delete, func

    from widget_server.models import Comment, CommentCount

    moderator = factories.admin()
    first = [factories.comment(f"day one {n}") for n in range(3)]
    frozen_clock.advance(days=1)
    second = [factories.comment(f"day two {n}", url=f"https://blog.example/p{n}") for n in range(2)]
    service.change_state(moderator, first[0], "spam")  # a past day's comment changes state today
    service.change_state(moderator, second[0], "delete")
    db.session.execute(delete(Comment).where(Comment.id == first[1].id))  # a row gone entirely
    frozen_clock.advance(days=1)
    stats = service.stats(3)
    expected = _counted_from_comments(3)
    for day in stats["days"]:
        assert {s: day[s] for s in ("published", "pending", "spam", "deleted")} == {
            s: expected[(day["date"], s)] for s in ("published", "pending", "spam", "deleted")}
    assert stats["totals"] == {"published": 2, "pending": 0, "deleted": 1, "spam": 1}
    rows = db.session.execute(select(CommentCount.day, CommentCount.state, func.count())
                              .group_by(CommentCount.day, CommentCount.state)).all()
    assert all(count == 1 for _day, _state, count in rows)  # folded
    assert service.stats(3) == stats  # folding changes no figure
