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


def _assert_every_sites_stats_are_counted(days: int) -> None:
    """Each site's stats (and the server's) equal a count of the comments by the site of their
    thread now (a NULL site is the default's), their day and their state."""
    from collections import Counter

    from widget_server import sites
    from widget_server.models import STATES, Comment, Site, Thread

    default = sites.default().id
    counted: Counter = Counter()
    for created_at, state, site_id in db.session.execute(
            select(Comment.created_at, Comment.state, Thread.site_id).join(Comment.thread)):
        counted[(site_id or default, created_at.date().isoformat(), state)] += 1
    everyone = db.session.execute(select(Site.id)).scalars().all()
    for site_id in (None, *everyone):
        mine = Counter()
        for (site, day, state), n in counted.items():
            if site_id in (None, site):
                mine[(day, state)] += n
                mine[state] += n
        found = service.stats(days, site_id)
        db.session.commit()
        assert found["totals"] == {state: mine[state] for state in STATES}, site_id
        for day in found["days"]:
            assert {s: day[s] for s in STATES} == {s: mine[(day["date"], s)] for s in STATES}, (site_id, day)


def test_each_sites_stats_follow_posts_moves_and_origin_changes(app, runner, frozen_clock):
    """A site's figures come from comment_counts (its site column): after posts, state changes,
    deletes, a thread moved and merged to another site's page (``widget-server move``), a
    thread of before sites (NULL site), a site taking threads on its origins, a site's origin
    change and a site's data deleted, they equal a count of its comments, on every fold."""
    from sqlalchemy import delete, func, text
    from support.app import PAGE
    from support.imports import run

    from widget_server.models import Comment, CommentCount
    from widget_server.sites import service as sites_service

    shop = "https://shop.example"
    app.config["ALLOWED_ORIGINS"] = ["https://blog.example", shop, "https://news.example"]
    with app.app_context():
        shop_id = factories.site("shop", (shop,)).id
        moderator = factories.admin()
        home = [factories.comment(f"home {n}") for n in range(3)]
        factories.comment("elsewhere", url="https://blog.example/elsewhere")
        sold = [factories.comment(f"shop {n}", url=f"{shop}/a") for n in range(2)]
        factories.comment("news, before its site", url="https://news.example/1")
        _assert_every_sites_stats_are_counted(3)
        frozen_clock.advance(days=1)
        factories.comment("shop, day two", url=f"{shop}/b")
        service.change_state(moderator, db.session.get(Comment, home[0].id), "spam")  # a past day's
        service.change_state(moderator, db.session.get(Comment, sold[0].id), "delete")
        db.session.execute(delete(Comment).where(Comment.id == home[1].id))  # a row gone entirely
        db.session.commit()
        _assert_every_sites_stats_are_counted(3)
        # A thread from before sites: its NULL site is the default's.
        db.session.execute(text("UPDATE threads SET site_id = NULL WHERE url = 'https://blog.example/elsewhere'"))
        db.session.commit()
        _assert_every_sites_stats_are_counted(3)
        db.session.remove()
    frozen_clock.advance(days=1)
    run(runner, "move", PAGE, f"{shop}/moved")  # to a new address on the shop's origin
    run(runner, "move", "https://blog.example/elsewhere", f"{shop}/b")  # merged into the shop's thread
    with app.app_context():
        _assert_every_sites_stats_are_counted(4)
        factories.site("news", ("https://news.example",))  # takes the default site's thread there
        _assert_every_sites_stats_are_counted(4)
        sites_service.update_site("shop", origins=["https://new.shop.example"])  # its threads go home
        db.session.commit()
        sites_service.changed()
        _assert_every_sites_stats_are_counted(4)
        sites_service.update_site("shop", origins=[shop])  # and back
        db.session.commit()
        sites_service.changed()
        _assert_every_sites_stats_are_counted(4)
        frozen_clock.advance(days=1)
        factories.comment("shop, day four", url=f"{shop}/a")
        _assert_every_sites_stats_are_counted(5)
        sites_service.delete_data(shop_id)  # the threads' delete counts their comments out
        db.session.commit()
        _assert_every_sites_stats_are_counted(5)
        past = frozen_clock().date().isoformat()
        rows = db.session.execute(
            select(CommentCount.day, CommentCount.state, CommentCount.site_id, func.count())
            .where(CommentCount.day < past)
            .group_by(CommentCount.day, CommentCount.state, CommentCount.site_id)).all()
        db.session.remove()
    assert rows and all(count == 1 for *_key, count in rows)  # folded per day, state and site


# PostgreSQL only (SQLite has one writer at a time: two transactions cannot interleave).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("first", ["state", "site"])
def test_a_state_change_and_a_concurrent_move_to_another_site_are_counted_one_after_the_other(app, first):
    """PostgreSQL: a comment's state changes while its thread moves to another site, in two
    transactions, either one first. The comment trigger reads the thread FOR SHARE, so the
    second waits for the first and counts what it left: the counts stay true for both sites."""
    import threading

    from sqlalchemy import text
    from support.app import PAGE

    with app.app_context():
        shop = factories.site("shop", ("https://shop.example",)).id
        comment = factories.comment("moved while judged", url=PAGE)
        statements = {"state": ("UPDATE comments SET state = 'spam' WHERE id = :id", {"id": comment.id}),
                      "site": ("UPDATE threads SET site_id = :site WHERE id = :id",
                               {"site": shop, "id": comment.thread_id})}
        engine = db.engine
        db.session.remove()
    second = "site" if first == "state" else "state"
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(text(statements[first][0]), statements[first][1])  # not committed yet
        pid = waiter.execute(text("SELECT pg_backend_pid()")).scalar_one()
        waiter.commit()

        def run_second():
            waiter.execute(text(statements[second][0]), statements[second][1])
            waiter.commit()

        running = threading.Thread(target=run_second)
        running.start()
        waiting = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p")
        with engine.connect() as watch:  # until the second is done, or waits for the first's lock
            while running.is_alive() and not watch.execute(waiting, {"p": pid}).scalar_one():
                watch.rollback()
                running.join(0.01)
        holder.commit()
        running.join()
    with app.app_context():
        _assert_every_sites_stats_are_counted(1)
        db.session.remove()


def test_a_previous_releases_fold_is_refused_and_the_sites_stay(app, frozen_clock):
    """The previous release, still serving while stats_2 runs, folds a past day's rows of every
    site into one row without a site: that insert is refused, so its transaction (and its
    DELETE) rolls back and each site keeps its figures."""
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    from widget_server.models import CommentCount

    with app.app_context():
        factories.site("shop", ("https://shop.example",))
        factories.comment("home")
        factories.comment("sold", url="https://shop.example/a")
        day = frozen_clock().date().isoformat()
        frozen_clock.advance(days=1)
        table = CommentCount.__table__
        removed = db.session.execute(delete(table).where(table.c.day == day, table.c.state == PUBLISHED)
                                     .returning(table.c.n)).scalars().all()
        assert len(removed) == 2  # one row per site: what the old fold would merge
        with pytest.raises(DBAPIError, match="stats_2"):  # the old fold's insert: no site
            db.session.execute(table.insert().values(day=day, state=PUBLISHED, n=sum(removed)))
        db.session.rollback()
        _assert_every_sites_stats_are_counted(2)
        db.session.remove()
