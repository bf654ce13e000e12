"""A thread's tree built once per version: the same pages as tree.page, one build per version
however many pages and sorts are read, one build when many readers arrive at once."""
from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import pytest
from support.app import PAGE

from widget_server.comments import tree, trees
from widget_server.models import PUBLISHED, Comment

WHEN = datetime(2026, 11, 27, 9, tzinfo=UTC)


def rows(count: int, seed: int = 7) -> list[Comment]:
    rng = random.Random(seed)
    made = []
    for n in range(1, count + 1):
        parent = rng.choice([None, None, rng.randint(1, n - 1)]) if n > 1 else None
        made.append(Comment(id=n, parent_id=parent, number=n, state=PUBLISHED, likes=rng.randint(0, 3),
                            pinned=n == 5 and parent is None, author="A", email=None, website=None,
                            html="<p>x</p>", created_at=WHEN, ip_hash="h"))
    return made


@pytest.mark.parametrize("sort", tree.SORTS)
@pytest.mark.parametrize("limit", [1, 7, 500])
def test_every_page_is_the_one_tree_page_cuts(app_context, sort, limit):
    top_level = tree.build(rows(120))
    built = trees.Built(top_level)
    cursor, theirs_cursor = None, None
    while True:
        ours, cursor = built.page(sort, limit, cursor)
        theirs, theirs_cursor = tree.page(top_level, sort, limit, theirs_cursor)
        assert ours == theirs and cursor == theirs_cursor
        if cursor is None:
            break


def test_one_build_per_version_whatever_is_read(app_context):
    cache = trees.ThreadTrees(1 << 20)
    loads = []

    def load():
        loads.append(1)
        return rows(30)

    for sort in tree.SORTS:
        for cursor in (None,):
            cache.get(1, 4, load).page(sort, 5, cursor)
    assert len(loads) == 1
    cache.get(1, 5, load)  # a new version: built again, once
    cache.get(1, 5, load)
    assert len(loads) == 2


def test_readers_arriving_together_wait_for_one_build(app_context):
    cache = trees.ThreadTrees(1 << 20)
    started, release, loads = threading.Event(), threading.Event(), []

    def slow_load():
        loads.append(1)
        started.set()
        release.wait(5)
        return rows(10)

    results = []

    def read():
        with app_context.app_context():  # views need the app (the avatar's key)
            results.append(cache.get(9, 1, slow_load))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    started.wait(5)
    release.set()
    for reader in readers:
        reader.join(5)
    assert len(loads) == 1 and len(results) == 4 and all(r is results[0] for r in results)


def test_the_read_path_builds_a_thread_once_per_version(app, client, post, monkeypatch):
    builds = []
    real = trees.build
    monkeypatch.setattr(trees, "build", lambda *args: builds.append(1) or real(*args))
    for n in range(3):
        post(f"comment {n}")
    for sort in tree.SORTS:
        for limit in (1, 2):
            assert client.get("/api/v1/comments", query_string={"url": PAGE, "sort": sort,
                                                                "limit": limit}).status_code == 200
    assert len(builds) == 1
    post("one more")
    answer = client.get("/api/v1/comments", query_string={"url": PAGE, "sort": "newest", "limit": 1}).json
    assert answer["comments"][0]["html"] == "<p>one more</p>" and answer["thread"]["comment_count"] == 4
    assert len(builds) == 2
