"""widget-server move: a thread follows its page; a merge keeps numbers in order; dry runs change nothing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support.app import SITE
from support.imports import flat, run, thread

from widget_server.extensions import db
from widget_server.models import AuditEntry, Thread

OLD = "https://old.example/blog/2020/hello"
NEW = "https://new.example/posts/2020/hello"


@pytest.fixture
def config_overrides():
    return {"ALLOWED_ORIGINS": [SITE, "https://old.example", "https://new.example"]}


def _numbers(client, url: str) -> list[tuple[int, str]]:
    return [(c["number"], c["html"]) for c in flat(thread(client, url)["comments"])]


def _audit(app) -> list[dict]:
    with app.app_context():
        return [{"target": e.target, **json.loads(e.details)} for e in
                db.session.execute(select(AuditEntry).where(AuditEntry.action == "move")).scalars()]


def test_a_thread_moves_to_a_new_address(app, client, post, runner):
    first = post("First", url=OLD, title="Hello")["comment"]
    post("A reply", url=OLD, parent_id=first["id"])
    before = thread(client, OLD)  # fills the read cache for the old address
    assert before["thread"]["comment_count"] == 2
    result = run(runner, "move", OLD, NEW)
    assert f"{OLD} -> {NEW}: move 2 comments" in result.output
    assert thread(client, OLD)["comments"] == []  # the cache saw the change
    moved = thread(client, NEW)
    assert [c["id"] for c in flat(moved["comments"])] == [c["id"] for c in flat(before["comments"])]
    assert flat(moved["comments"])[1]["parent_id"] == first["id"]
    with app.app_context():
        thread_id = db.session.execute(select(Thread.id).where(Thread.url == NEW)).scalar()
    assert _audit(app) == [{"target": f"thread {thread_id}", "old": OLD, "new": NEW, "comments": 2,
                            "merged": False}]


def test_moving_onto_an_existing_thread_merges_keeping_numbers_in_order(app, client, post, runner):
    for text in ("New one", "New two", "New three"):
        post(text, url=NEW)
    first = post("Old one", url=OLD)["comment"]
    post("Old two, a reply", url=OLD, parent_id=first["id"])
    post("Old three", url=OLD)
    with app.app_context():
        db.session.execute(db.update(Thread).where(Thread.url == OLD).values(locked=True))
        db.session.commit()
    cached = thread(client, NEW)
    result = run(runner, "move", OLD, NEW)
    assert "merge 3 comments into the thread there, numbered 4-6" in result.output
    assert sorted(_numbers(client, NEW)) == [
        (1, "<p>New one</p>"), (2, "<p>New two</p>"), (3, "<p>New three</p>"),
        (4, "<p>Old one</p>"), (5, "<p>Old two, a reply</p>"), (6, "<p>Old three</p>")]
    merged = thread(client, NEW)
    assert merged["thread"]["comment_count"] == 6 and merged != cached and merged["thread"]["locked"] is True
    reply = next(c for c in flat(merged["comments"]) if c["html"] == "<p>Old two, a reply</p>")
    assert reply["parent_id"] == first["id"]
    with app.app_context():
        assert db.session.execute(select(Thread).where(Thread.url == OLD)).first() is None
    (entry,) = _audit(app)
    assert entry["merged"] is True and entry["numbers"] == [4, 6] and entry["comments"] == 3
    with app.app_context():  # the next comment continues after the merged ones
        assert db.session.execute(select(Thread.last_number).where(Thread.url == NEW)).scalar() == 6


def test_a_bulk_map_moves_every_matching_thread_and_a_dry_run_changes_nothing(app, client, post, runner):
    for slug in ("a", "b", "c"):
        post(f"On {slug}", url=f"https://old.example/blog/{slug}")
    post("Elsewhere", url="https://old.example/about")
    post("Already at the new b", url="https://new.example/posts/b")
    rule = "https://old.example/blog/*=https://new.example/posts/*"
    dry = run(runner, "move", "--map", rule, "--dry-run")
    assert "dry run: 3 threads would move" in dry.output
    assert "https://old.example/blog/b -> https://new.example/posts/b: would merge 1 comment" in dry.output
    assert thread(client, "https://old.example/blog/a")["thread"]["comment_count"] == 1 and _audit(app) == []
    result = run(runner, "move", "--map", rule)
    assert "moved 3 threads" in result.output
    assert [h for _n, h in _numbers(client, "https://new.example/posts/b")] == [
        "<p>Already at the new b</p>", "<p>On b</p>"]
    assert thread(client, "https://new.example/posts/a")["thread"]["comment_count"] == 1
    assert thread(client, "https://old.example/about")["thread"]["comment_count"] == 1  # not matched
    assert len(_audit(app)) == 3


@pytest.mark.parametrize(("args", "message"), [
    ((OLD, NEW), "no thread at https://old.example/blog/2020/hello"),
    (("--map", "https://old.example/*"), "must be OLD=NEW"),
    (("--map", "https://old.example/*=https://new.example/"), "one * on each side"),
    ((OLD, "not a url"), "the new address"),
    ((OLD,), "give OLD NEW"),
])
def test_a_bad_move_is_refused_and_changes_nothing(app, runner, args, message):
    result = run(runner, "move", *args, expect_ok=False)
    assert result.exit_code != 0 and message in result.output
    assert _audit(app) == []


def test_a_move_to_a_site_that_is_not_allowed_is_done_with_a_warning(app, runner, post):
    post("Hello", url=OLD)
    result = run(runner, "move", OLD, "https://elsewhere.example/hello")
    assert "warning: https://elsewhere.example is not in WIDGET_ALLOWED_ORIGINS" in result.output
    assert "moved 1 thread\n" in result.output  # one thread, said as one
    quiet = run(runner, "move", "https://elsewhere.example/hello", NEW)
    assert "warning" not in quiet.output
