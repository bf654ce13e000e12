"""A large thread's new version built from the one before (comments/trees.py) is the full build,
comment for comment and page for page: over random changes of every kind, in memory, and through
the service with the database's revision trigger on both backends."""
from __future__ import annotations

import json
import random
from collections import namedtuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from support.app import PAGE

from widget_server.comments import threads, tree, trees
from widget_server.extensions import db
from widget_server.models import DELETED, PENDING, PUBLISHED, SPAM, Comment

WHEN = datetime(2026, 11, 27, 9, tzinfo=UTC)
# A row as trees' queries return it: every column of the view, then the revision.
Row = namedtuple("Row", [c.key for c in trees._FULL.selected_columns])


class Source:
    """trees.ThreadRows over rows in memory; counts what it was asked."""

    def __init__(self):
        self.rows: dict[int, Row] = {}
        self.asked: list[str] = []

    def all(self):
        self.asked.append("all")
        return sorted(self.rows.values(), key=lambda r: r.number)

    def fingerprints(self):
        self.asked.append("fingerprints")
        return [(r.id, r.parent_id, r.revision) for r in sorted(self.rows.values(), key=lambda r: r.number)]

    def some(self, ids):
        self.asked.append(f"some {len(ids)}")
        return [self.rows[i] for i in ids if i in self.rows]


def change(source: Source, rng: random.Random, made: list[int]) -> None:
    """One change of any kind a thread sees, each update moving the revision as the trigger does."""
    rows = source.rows

    def updated(row: Row, **values) -> None:
        rows[row.id] = row._replace(revision=row.revision + 1, **values)

    kind = rng.choice(["post", "post", "reply", "state", "edit", "like", "pin", "gone", "dangling"])
    existing = list(rows.values())
    if kind in ("post", "reply") or not existing:
        made[0] += 1
        parent = rng.choice(existing).id if kind == "reply" and existing else None
        rows[made[0]] = Row(made[0], parent, made[0], rng.choice([PUBLISHED] * 4 + [PENDING, SPAM]),
                            f"author {made[0]}", None, None, "h", None, None, f"<p>{made[0]}</p>",
                            WHEN + timedelta(minutes=made[0]), None, 0, False, 0)
        return
    row = rng.choice(existing)
    if kind == "state":
        updated(row, state=rng.choice([PUBLISHED, PENDING, SPAM, DELETED]))
    elif kind == "edit":
        updated(row, html=f"<p>edited {rng.random()}</p>", edited_at=WHEN + timedelta(days=1))
    elif kind == "like":
        updated(row, likes=row.likes + 1)
    elif kind == "pin":
        updated(row, pinned=not row.pinned)
    elif kind == "gone":  # a row deleted: the database sets its replies' parent to null
        del rows[row.id]
        for reply in [r for r in rows.values() if r.parent_id == row.id]:
            updated(reply, parent_id=None)
    else:  # a row deleted where nothing set its replies' parent to null: they stand alone
        del rows[row.id]


def same_as_a_full_build(built: trees.Built, rows: list[Row]) -> None:
    full = tree.build(rows)
    assert json.dumps(built.top_level) == json.dumps(full)
    assert built.visible == tree.count_visible(full)
    for sort in tree.SORTS:
        cursor, theirs = None, None
        while True:
            ours, cursor = built.page(sort, 7, cursor)
            expected, theirs = tree.page(full, sort, 7, theirs)
            assert json.dumps(ours) == json.dumps(expected) and cursor == theirs
            if cursor is None:
                break


@pytest.mark.parametrize("seed", range(6))
def test_every_version_built_from_the_one_before_is_the_full_build(app_context, seed, monkeypatch):
    monkeypatch.setattr(trees, "INCREMENTAL_FROM", 1)
    rng = random.Random(seed)
    source, made = Source(), [0]
    cache = trees.ThreadTrees(64 << 20)
    for _ in range(60):
        change(source, rng, made)
    version = 1
    cache.get(1, version, source)
    for _ in range(80):
        for _ in range(rng.choice([1, 1, 1, 2, 5])):
            change(source, rng, made)
        version += rng.choice([1, 1, 2])  # a version this process never built is no matter
        built = cache.get(1, version, source)
        same_as_a_full_build(built, sorted(source.rows.values(), key=lambda r: r.number))
    assert source.asked.count("all") == 1, "every version after the first from the one before"


def test_a_new_version_asks_only_for_the_comments_that_changed(app_context, monkeypatch):
    monkeypatch.setattr(trees, "INCREMENTAL_FROM", 1)
    source, made = Source(), [0]
    rng = random.Random(3)
    for _ in range(300):
        change(source, random.Random(rng.random()), made)
    cache = trees.ThreadTrees(64 << 20)
    first = cache.get(1, 1, source)
    source.asked.clear()
    made[0] += 1
    source.rows[made[0]] = Row(made[0], None, made[0], PUBLISHED, "new", None, None, "h", None, None,
                               "<p>new</p>", WHEN, None, 0, False, 0)
    second = cache.get(1, 2, source)
    assert source.asked == ["fingerprints", "some 1"]
    kept = [i for i in first.nodes if i != made[0] and first.nodes[i] is second.nodes.get(i)]
    assert len(kept) == len(first.nodes), "every other comment's node is the one built before"


@pytest.fixture
def many(app, post, monkeypatch) -> list[int]:
    """A thread taken as large (the threshold lowered), with replies and a held comment."""
    monkeypatch.setattr(trees, "INCREMENTAL_FROM", 1)
    ids = [post(f"comment {n}")["comment"]["id"] for n in range(4)]
    ids.append(post("a reply", parent_id=ids[0])["comment"]["id"])
    ids.append(post("a reply to the reply", parent_id=ids[-1])["comment"]["id"])
    return ids


def read_all(client) -> list:
    return [client.get("/api/v1/comments", query_string={"url": PAGE, "sort": sort, "limit": 2}).json
            for sort in tree.SORTS]


def test_through_the_service_every_change_reads_as_a_full_build(app, client, post, many):
    """The revision trigger moves on at every update, on SQLite and PostgreSQL alike: each read
    after a change equals the read with every cache emptied (a full build)."""
    steps = [
        lambda: post("one more", parent_id=many[1]),
        lambda: client.post(f"/api/v1/comments/{many[2]}/like"),
        lambda: db.session.execute(update(Comment).where(Comment.id == many[4]).values(state=PENDING)),
        lambda: db.session.execute(update(Comment).where(Comment.id == many[3]).values(html="<p>hand</p>")),
        lambda: db.session.execute(delete(Comment).where(Comment.id == many[0])),
    ]
    with app.app_context():
        thread_id = db.session.execute(select(Comment.thread_id).where(Comment.id == many[1])).scalar_one()
        db.session.remove()
    read_all(client)
    for step in steps:
        with app.app_context():
            step()
            threads.touch(thread_id)  # what the services do; here for the changes made by hand
            db.session.commit()
        ours = read_all(client)
        app.extensions["widget_read_cache"].clear()
        app.extensions["widget_tree_cache"].store.clear()
        assert ours == read_all(client)


def test_the_trigger_moves_the_revision_at_every_update(app, many):
    with app.app_context():
        before = db.session.execute(select(Comment.revision).where(Comment.id == many[1])).scalar_one()
        db.session.execute(update(Comment).where(Comment.id == many[1]).values(likes=Comment.likes + 1))
        db.session.execute(update(Comment).where(Comment.id == many[1]).values(likes=Comment.likes + 1))
        db.session.commit()
        after = db.session.execute(select(Comment.revision).where(Comment.id == many[1])).scalar_one()
        db.session.remove()
    assert after == before + 2
