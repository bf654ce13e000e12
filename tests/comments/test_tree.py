"""The reply tree and its pages, over rows already loaded (no database)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from widget_server.comments import tree
from widget_server.errors import ValidationError
from widget_server.models import DELETED, PENDING, PUBLISHED, Comment

WHEN = datetime(2026, 11, 27, 9, tzinfo=UTC)


def row(id, parent=None, state=PUBLISHED, likes=0, pinned=False) -> Comment:
    return Comment(id=id, parent_id=parent, number=id, state=state, likes=likes, pinned=pinned,
                   author="A", email=None, website=None, html="<p>x</p>", created_at=WHEN, ip_hash="h")


def shape(nodes: list[dict]) -> list:
    return [(n["id"], n["state"], shape(n["replies"])) if n["replies"] else (n["id"], n["state"])
            for n in nodes]


def test_replies_nest_under_their_parents_oldest_first(app_context):
    built = tree.build([row(3, parent=1), row(1), row(2), row(4, parent=3)])
    assert shape(built) == [(1, PUBLISHED, [(3, PUBLISHED, [(4, PUBLISHED)])]), (2, PUBLISHED)]
    assert tree.count_visible(built) == 4


@pytest.mark.parametrize("hidden", [DELETED, PENDING])
def test_a_hidden_parent_of_visible_replies_is_a_tombstone_and_otherwise_gone(app_context, hidden):
    built = tree.build([row(1, state=hidden), row(2, parent=1), row(3, state=hidden)])
    assert shape(built) == [(1, DELETED, [(2, PUBLISHED)])]
    assert built[0]["html"] == "" and built[0]["author"]["name"] == ""
    assert tree.count_visible(built) == 1


def test_a_reply_whose_parent_is_gone_becomes_top_level(app_context):
    assert shape(tree.build([row(5, parent=99)])) == [(5, PUBLISHED)]


@pytest.mark.parametrize(("sort", "order"), [
    ("oldest", [4, 1, 2, 3]), ("newest", [4, 3, 2, 1]), ("top", [4, 2, 1, 3]),
])
def test_pages_visit_every_top_level_comment_once_pinned_first(app_context, sort, order):
    top = tree.build([row(1, likes=1), row(2, likes=5), row(3), row(4, pinned=True)])
    seen, cursor = [], None
    while True:
        items, cursor = tree.page(top, sort, 1, cursor)
        seen += [item["id"] for item in items]
        if cursor is None:
            break
    assert seen == order


def test_a_cursor_of_another_sort_order_is_refused(app_context):
    top = tree.build([row(1), row(2)])
    _items, cursor = tree.page(top, "oldest", 1, None)
    with pytest.raises(ValidationError) as refused:
        tree.page(top, "top", 1, cursor)
    assert refused.value.fields == {"cursor": "does not belong to this sort order"}
