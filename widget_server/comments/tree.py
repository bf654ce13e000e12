"""The nested thread: build the reply tree, sort top-level comments, page them.

Pure functions over rows already loaded, so they are cheap to test and the read
path does one query for the whole thread.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..errors import ValidationError, problem
from ..models import DELETED, PUBLISHED, Comment
from ..pagination import decode_cursor, encode_cursor, whole_numbers
from .views import public_comment

SORTS = ("oldest", "newest", "top")


def build(comments: Iterable[Comment]) -> list[dict]:
    """Nest comments under their parents, oldest reply first.

    Unpublished comments are dropped unless they still have published
    descendants, in which case they stay as tombstones so the replies keep
    their context. A reply whose parent is gone entirely becomes top-level.
    """
    rows = sorted(comments, key=lambda c: c.number)
    children: dict[int | None, list[Comment]] = {}
    ids = {c.id for c in rows}
    for c in rows:
        parent = c.parent_id if c.parent_id in ids else None
        children.setdefault(parent, []).append(c)

    def node(c: Comment) -> dict | None:
        replies = [n for n in (node(r) for r in children.get(c.id, ())) if n is not None]
        if c.state != PUBLISHED and not replies:
            return None
        # A held parent of visible replies is a tombstone to readers, never its text.
        view = public_comment(c, state=None if c.state == PUBLISHED else DELETED)
        view["replies"] = replies
        return view

    # Iterative depth would only matter past Python's recursion limit; replies
    # are capped in depth by validation long before that.
    return [n for n in (node(c) for c in children.get(None, ())) if n is not None]


def sort_key(sort: str, item: dict) -> list:
    pinned = 0 if item["pinned"] else 1
    if sort == "newest":
        return [pinned, -item["number"]]
    if sort == "top":
        return [pinned, -item["likes"], item["number"]]
    return [pinned, item["number"]]


def sort_key_of(sort: str):
    shape = whole_numbers(3 if sort == "top" else 2)

    def checked(key):
        try:
            return shape(key)
        except ValueError:
            raise ValidationError({"cursor": problem("invalid",
                                                     "does not belong to this sort order")}) from None

    return checked


def page(top_level: list[dict], sort: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """One page of top-level comments in ``sort`` order, and the next cursor."""
    keyed = sorted(((sort_key(sort, item), item) for item in top_level), key=lambda p: p[0])
    if cursor:
        after = decode_cursor(cursor, sort_key_of(sort))
        keyed = [p for p in keyed if p[0] > after]
    chunk = keyed[:limit]
    next_cursor = encode_cursor(chunk[-1][0]) if len(keyed) > limit else None
    return [item for _key, item in chunk], next_cursor


def count_visible(top_level: list[dict]) -> int:
    total, stack = 0, list(top_level)
    while stack:
        item = stack.pop()
        total += item["state"] == PUBLISHED
        stack.extend(item["replies"])
    return total
