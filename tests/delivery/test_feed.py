"""The change feed: each committed thread change logged with its event, heard by every app
sharing the database (polled, or through Redis), and reads that ask the database nothing
while it is live and ask it again as soon as it is not."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import factories
from support.app import PAGE, REDIS_URL, base_config, require_service, wipe
from support.processes import wait_for
from support.sql import statements

from widget_server import create_app
from widget_server.comments import service, threads
from widget_server.delivery import changelog
from widget_server.delivery import feed as feed_module
from widget_server.extensions import db
from widget_server.models import PUBLISHED, Comment, Thread, ThreadChange
from widget_server.moderation import service as moderation

THREAD = f"/api/v1/comments?url={PAGE}"


def logged(app) -> list[tuple[int, str, str, list]]:
    with app.app_context():
        rows = db.session.execute(select(ThreadChange).order_by(ThreadChange.id)).scalars().all()
        return [(r.version, r.kind, r.change, json.loads(r.data)) for r in rows]


def live_feed(app):
    feed = app.extensions["widget_feed"]
    feed.start()
    wait_for(feed.fresh, 10, "the change feed")
    return feed


def _edit(c):
    service.edit(c, "edited text")


def _approve(c):
    service.set_state(c, "spam")
    db.session.commit()
    moderation.change_state(None, c, "approve")


def _unpin(c):
    moderation.set_pinned(None, c, True)
    db.session.commit()
    moderation.set_pinned(None, c, False)


def _unlock(c):
    moderation.set_locked(None, db.session.get(Thread, c.thread_id), True)
    db.session.commit()
    moderation.set_locked(None, db.session.get(Thread, c.thread_id), False)


@pytest.mark.parametrize(("act", "kind", "change"), [
    (lambda c: None, "comment", "created"),
    (_edit, "comment", "edited"),
    (lambda c: service.remove(c), "comment", "deleted"),
    (_approve, "comment", "approved"),
    (lambda c: moderation.set_pinned(None, c, True), "comment", "pinned"),
    (_unpin, "comment", "unpinned"),
    (lambda c: moderation.set_locked(None, db.session.get(Thread, c.thread_id), True), "thread", "locked"),
    (_unlock, "thread", "unlocked"),
])
def test_each_committed_change_is_logged_with_its_event_under_the_next_version(app, act, kind, change):
    with app.app_context():
        comment = factories.comment("first words")
        act(comment)
        db.session.commit()
        version = db.session.execute(select(Thread.version)).scalar_one()
        comment_id = comment.id
    last = logged(app)[-1]
    assert last[:3] == (version, kind, change)
    name, data = last[3][0]
    assert (name, data["change"]) == (kind, change)
    if kind == "comment":
        assert data["comment"]["id"] == comment_id and "email" not in data["comment"]
        assert last[3][1][1]["change"] == "count"  # the page's count follows
    else:
        assert data["thread"] == {"url": PAGE, "locked": change == "locked"}
    # One row per version, consecutive: a stream can tell when it missed one.
    assert [row[0] for row in logged(app)] == list(range(1, version + 1))


def test_a_change_rolled_back_is_neither_logged_nor_published(app):
    with app.app_context():
        comment = factories.comment()
        before = logged(app)
        service.edit(comment, "never stored")
        db.session.rollback()
    assert logged(app) == before


def test_a_held_comment_bumps_the_version_but_tells_open_pages_nothing(app):
    app.config["MODERATION"] = "all"
    with app.app_context():
        factories.comment()
    assert [(v, kind, events) for v, kind, _c, events in logged(app)] == [(1, "", [])]


def test_a_cached_read_and_a_304_ask_the_database_nothing_while_the_feed_is_live(app, client, post):
    post("hello")
    first = client.get(THREAD)
    live_feed(app)
    client.get(THREAD)  # the version is now the feed's
    client.get(f"/api/v1/counts?url={PAGE}")  # counted once
    with statements(app) as seen:
        again = client.get(THREAD)
        revalidated = client.get(THREAD, headers={"If-None-Match": first.headers["ETag"]})
        counted = client.get(f"/api/v1/counts?url={PAGE}")
        counted_again = client.get(f"/api/v1/counts?url={PAGE}")
    assert again.json == first.json and revalidated.status_code == 304
    assert counted.json == counted_again.json == {"counts": {PAGE: 1}}
    assert seen == []


def test_a_write_is_read_at_once_on_the_instance_that_made_it(app, client, post):
    post("one")
    live_feed(app)
    assert len(client.get(THREAD).json["comments"]) == 1
    post("two")  # published to this process before the answer
    assert len(client.get(THREAD).json["comments"]) == 2


def test_the_feeds_thread_keeps_the_sites_checked_so_no_read_asks_for_them(app, client, post):
    post("hello")
    live_feed(app)
    client.get(THREAD)
    with statements(app) as seen:
        for _ in range(8):  # two seconds: four times the sites registry's CHECK_EVERY
            assert client.get(THREAD).status_code == 200
            time.sleep(0.25)
    assert seen == []


def test_while_the_feed_is_lost_every_read_asks_the_database(app, client, post, caplog):
    post("hello")
    feed = live_feed(app)
    client.get(THREAD)
    feed._lost("a test cut it")
    with statements(app) as seen:
        client.get(THREAD)
    assert len(seen) == 1  # the version query, then the cached body
    assert "change feed lost" in caplog.text


@pytest.fixture
def second_app(database_url, tmp_path):
    other = create_app(base_config(database_url, tmp_path / "b"))
    yield other
    close(other)


def close(other) -> None:
    """An app that is not the fixture's: its feed stopped, its connections closed."""
    other.extensions["widget_feed"].stop()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_another_app_on_the_same_database_hears_of_a_change_from_the_log(app, second_app, post):
    post("hello")
    reader = second_app.test_client()
    assert len(reader.get(THREAD).json["comments"]) == 1
    feed = live_feed(second_app)
    reader.get(THREAD)
    known = feed.version(PAGE)
    post("another")
    wait_for(lambda: feed.version(PAGE) != known, 5, "the change in the other app")
    assert len(reader.get(THREAD).json["comments"]) == 2


def test_through_redis_another_app_hears_of_a_change(database_url, tmp_path):
    redis_url = require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")
    config = base_config(database_url, tmp_path, REDIS_URL=redis_url)
    writer, reader = create_app(config), create_app({**config, "INSTANCE_PATH": str(tmp_path / "b")})
    try:
        assert writer.extensions["widget_feed"].mode == "redis"
        feed = live_feed(reader)
        with writer.app_context():
            factories.comment("through redis")
        wait_for(lambda: feed.version(PAGE) not in (feed_module.MISSING, None), 5, "the change via Redis")
        assert [c["html"] for c in reader.test_client().get(THREAD).json["comments"]] == \
            ["<p>through redis</p>"]
    finally:
        close(reader)
        wipe(writer)


def test_a_change_this_process_could_not_publish_goes_out_with_the_next_try(app):
    """Only this process lost Redis (a subscriber elsewhere did not): what it could not publish
    is kept and published first the next time, in order, nothing dropped."""
    feed = feed_module.Feed(app)
    feed.mode = "redis"
    sent: list[int] = []

    class Publisher:
        down = True

        def publish(self, _channel, message):
            if self.down:
                raise ConnectionError("no route to Redis")
            sent.append(json.loads(message)["v"])

    feed._publisher = Publisher()
    feed.publish([feed_module.Change(1, PAGE, 1)])
    feed.publish([feed_module.Change(1, PAGE, 2)])
    assert sent == [] and not feed.fresh()
    feed._publisher.down = False
    feed.publish([feed_module.Change(1, PAGE, 3)])
    assert sent == [1, 2, 3]
    feed.publish([feed_module.Change(1, PAGE, 4)])
    assert sent == [1, 2, 3, 4]  # nothing twice


@pytest.mark.parametrize(("cursor", "ids", "gap_age", "expected_cursor", "holds_gap"), [
    (0, [], None, 0, False),
    (0, [1, 2, 3], None, 3, False),
    (3, [4, 6], None, 4, True),            # 5 may still commit: read from 4 again
    (4, [6], 0.5, 4, True),                # still within GAP_WAIT
    (4, [6, 7], feed_module.GAP_WAIT + 1, 7, False),  # 5 was rolled back: move on
    (4, [5, 6], 1.0, 6, False),            # the hole filled
])
def test_the_poll_moves_over_consecutive_ids_and_waits_a_while_at_a_hole(
        cursor, ids, gap_age, expected_cursor, holds_gap):
    since = None if gap_age is None else time.monotonic() - gap_age
    moved, gap = feed_module._advance(cursor, ids, since)
    assert moved == expected_cursor and (gap is not None) == holds_gap


def test_publishing_counts_only_published_comments(app):
    app.config["MODERATION"] = "first"
    with app.app_context():
        factories.comment("held: no address")
        published = factories.comment("published", email="known@example.org")
        assert published.state != PUBLISHED  # the first from this address is held too
        moderation.change_state(None, published, "approve")
        db.session.commit()
        assert db.session.execute(select(Comment.state)).scalars().all().count(PUBLISHED) == 1
    count = logged(app)[-1][3][-1][1]
    assert count == {"change": "count", "thread": {"url": PAGE, "comment_count": 1}}


def test_the_count_is_written_into_the_log_whatever_the_comment_says(app, client, post):
    """The count goes into the row's JSON in SQL, at a marker (the last ``"__count__"``): a name
    that is the marker, which the JSON holds as the very same string, changes neither the
    comment nor the count."""
    post("first")
    tricky = '`"__count__"` and {"comment_count": "__count__"}'
    made = post(tricky, author="__count__")["comment"]
    *_, (_version, _kind, _change, events) = logged(app)
    assert [name for name, _ in events] == ["comment", "thread"]
    shown = events[0][1]["comment"]
    assert shown["id"] == made["id"] and shown["author"]["name"] == "__count__"
    assert "<code>&quot;__count__&quot;</code>" in shown["html"]
    assert events[1][1] == {"change": "count", "thread": {"url": PAGE, "comment_count": 2}}
    with app.app_context():
        assert db.session.get(Comment, made["id"]).text == tricky


def test_a_bump_tells_a_thread_the_session_holds_its_new_numbers(app):
    """The bump is a Core UPDATE … RETURNING: a Thread already loaded learns its new version and
    number as it did from the ORM's update, without a query and without a write of its own."""
    with app.app_context():
        factories.comment("one")
        db.session.commit()
        thread = db.session.execute(select(Thread)).scalar_one()
        before = thread.version
        version = threads.touch(thread.id)
        claimed, number = threads.claim_number(thread.url)
        assert claimed is thread and version == before + 1
        assert (thread.version, thread.last_number) == (before + 2, number)
        assert not db.session.dirty
        db.session.commit()
        assert db.session.execute(select(Thread.version, Thread.last_number)).one() == (before + 2, number)
        db.session.remove()


def test_the_log_keeps_a_week_and_is_pruned_by_the_writers(app, frozen_clock, monkeypatch):
    monkeypatch.setattr(changelog, "_pruned_at", None)
    with app.app_context():
        comment = factories.comment("old words")
        service.edit(comment, "old words, edited")
        db.session.commit()
        frozen_clock.current += changelog.KEEP_LOG - timedelta(minutes=1)
        service.edit(comment, "still within the week")
        db.session.commit()
        assert [v for v, *_ in logged(app)] == [1, 2, 3]  # pruned at most once an hour per process

        monkeypatch.setattr(changelog, "_pruned_at", None)  # an hour later
        frozen_clock.advance(minutes=2)
        service.edit(comment, "a week on")
        db.session.commit()
    assert [v for v, *_ in logged(app)] == [3, 4]  # the first two are more than a week old


def test_a_change_reaches_only_the_listeners_of_its_own_thread(app):
    feed = app.extensions["widget_feed"]
    heard: dict[str, list] = {"a": [], "b": []}
    a, b = heard["a"].append, heard["b"].append
    feed.subscribe(f"{PAGE}/a", a)
    feed.subscribe(f"{PAGE}/b", b)
    try:
        change = feed_module.Change(1, f"{PAGE}/a", 1, [["comment", {}]])
        feed.deliver([change])
        assert heard == {"a": [change], "b": []}
        feed._alive()
        feed._lost("test")  # a loss is every stream's business: each looks at the log
        assert heard == {"a": [change, None], "b": [None]}
    finally:
        feed.unsubscribe(f"{PAGE}/a", a)
        feed.unsubscribe(f"{PAGE}/b", b)
    assert not feed._listeners


def test_a_changes_chunk_is_its_events_in_http_chunked_framing():
    change = feed_module.Change(1, PAGE, 7, [["comment", {"a": "é"}]])
    sse = change.sse()
    assert change.chunk() == f"{len(sse):x}\r\n".encode() + sse + b"\r\n"
    assert feed_module.Change(1, PAGE, 8).chunk() == b""  # no events: nothing to write
