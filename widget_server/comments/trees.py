"""A thread's tree, built once per thread version; every page and sort order is cut from it.

Without this, each page and each sort of a large thread loaded and nested the whole thread again
after every change (a 5,000-comment thread: a quarter to half a second of a worker each). Built
trees are kept by (thread id, version) in a byte-bounded store (cache.py); while one request
builds a version, the others asking for it wait for that build instead of repeating it.

A new version of a large thread is built from the one before (``_since``): which comments
changed is read as ``(id, parent_id, revision)`` from one index (a trigger moves ``revision`` on
at every update of a row: migration scale_3), the full rows of those comments only are loaded,
and only they and their ancestors are nested again; every other node is the previous version's
own object, every unchanged view reused. So a post to a 5,000-comment thread costs its next
reader an index-only read and a pass over 5,000 triples, not loading and serializing 5,000
comments again; the result is the full build's, node for node
(tests/comments/test_trees_incremental.py; docs/performance.md, "Large threads").
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter

from sqlalchemy import select

from ..cache import ByteLRU
from ..models import DELETED, PUBLISHED, Comment
from ..pagination import decode_cursor, encode_cursor
from . import tree
from .views import LIKE, public_comment

# Roughly what one comment weighs in memory besides its html: its row, its view, the dicts.
_PER_COMMENT = 1500
# Below this many comments a thread is simply loaded again: two queries would cost more than one.
INCREMENTAL_FROM = 200
# Past this many changed comments one full load is cheaper than asking for each by id.
_MOST_CHANGED = 1000
_CHUNK = 500  # ids per IN list

_C = Comment.__table__
# What the reader's view is made of (tree.build, views.public_comment).
_VIEW = (_C.c.id, _C.c.parent_id, _C.c.number, _C.c.state, _C.c.author, _C.c.website, _C.c.email,
         _C.c.ip_hash, _C.c.user_id, _C.c.verified_via, _C.c.html, _C.c.created_at, _C.c.edited_at,
         _C.c.likes, _C.c.pinned)
# What tells that a comment changed: its revision, which a trigger moves on at every update of
# its row (migration scale_3), and its parent (set to null by the database when a parent row
# goes). Read from one index alone (ix_comments_thread_tree), never the comment's row.
_FINGERPRINT = (_C.c.id, _C.c.parent_id, _C.c.revision)
_ROWS = select(*_VIEW, _C.c.revision)
# In the thread's number order (ix_comments_thread_tree's): the tree nests in that order.
_FULL = _ROWS.order_by(_C.c.number)
_LIGHT = select(*_FINGERPRINT).order_by(_C.c.number)
_fingerprint_of = itemgetter(0, 1, len(_VIEW))  # id, parent_id, revision of a _FULL row
_PARENT = 1  # in a fingerprint


class ThreadRows:
    """Where a thread's rows come from: all of them, their fingerprints, or some by id."""

    def __init__(self, session, thread_id: int):
        self.session, self.thread_id = session, thread_id

    def all(self) -> Sequence:
        return self.session.execute(_FULL.where(_C.c.thread_id == self.thread_id)).all()

    def fingerprints(self) -> Sequence[tuple]:
        """The fingerprint of every comment of the thread, in number order: the driver's plain
        tuples (no row objects; integers only, so nothing to process)."""
        result = self.session.execute(_LIGHT.where(_C.c.thread_id == self.thread_id))
        try:
            return result.cursor.fetchall()
        finally:
            result.close()

    def some(self, ids: list[int]) -> list:
        found = []
        for start in range(0, len(ids), _CHUNK):
            found += self.session.execute(_ROWS.where(_C.c.thread_id == self.thread_id,
                                                      _C.c.id.in_(ids[start:start + _CHUNK]))).all()
        return found


class Built:
    """One version of a thread: its top-level comments (replies nested) and orders cut lazily.

    What the next version is built from: ``rows`` (id → (fingerprint, row)), ``nodes`` (id → the
    comment's node with its replies, or None where it is not shown) and ``views`` (id → (row,
    state, view)). None of them, nor any node, is changed once built: versions share them.
    Reactions (issue 19) are the version's own (``react``): a reaction to a comment leaves its row,
    and so its node, as it was, so pages get them as they are cut."""

    def __init__(self, top_level: list[dict], rows: dict | None = None, nodes: dict | None = None,
                 views: dict | None = None, tally: tuple[int, int] | None = None):
        self.top_level = top_level
        self.rows, self.nodes, self.views = rows or {}, nodes or {}, views or {}
        if tally is not None:
            self.visible, self.weight = tally
        elif rows:
            self.visible, self.weight = _tally(rows.values())
        else:
            self.visible, self.weight = tree.count_visible(top_level), 0
            stack = list(top_level)
            while stack:
                item = stack.pop()
                self.weight += _PER_COMMENT + len(item["html"])
                stack.extend(item["replies"])
        self._orders: dict[str, list[dict]] = {}
        self.order: Sequence[str] = ()
        self.reactions: Mapping[int | None, Mapping[str, int]] = {}
        self.page_reactions: dict[str, int] = {}

    def react(self, order: Sequence[str], reactions: Mapping[int | None, Mapping[str, int]]) -> Built:
        """This version's reactions (before it is shared): counts by comment id, the page's under
        None, likes aside (a comment's 👍 is its likes); ``order``: the configured emoji."""
        self.order, self.reactions = order, reactions
        self.page_reactions = {e: reactions[None][e] for e in order if reactions.get(None, {}).get(e)}
        return self

    def _reacted(self, item: dict) -> dict:
        """``item`` and its replies, copied, each with its ``reactions`` (none on a tombstone)."""
        made = {**item, "replies": [self._reacted(reply) for reply in item["replies"]]}
        if item["state"] != DELETED:
            found = {**self.reactions.get(item["id"], {}), LIKE: item["likes"]}
            made["reactions"] = {e: found[e] for e in self.order if found.get(e)}
        return made

    def _ordered(self, sort: str) -> list[dict]:
        """The top-level comments in ``sort`` order. They are built in number order, so oldest
        and newest only put the pinned first (a stable partition); top is sorted."""
        found = self._orders.get(sort)
        if found is None:
            items = self.top_level[::-1] if sort == "newest" else self.top_level
            if sort == "top":
                found = sorted(items, key=lambda item: tree.sort_key(sort, item))
            else:
                found = ([item for item in items if item["pinned"]]
                         + [item for item in items if not item["pinned"]])
            self._orders[sort] = found
        return found

    def page(self, sort: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        """Exactly ``tree.page(self.top_level, ...)``, by bisection in an order sorted once."""
        items = self._ordered(sort)
        start = 0
        if cursor:
            after = decode_cursor(cursor, tree.sort_key_of(sort))
            start = bisect.bisect_right(items, after, key=lambda item: tree.sort_key(sort, item))
        end = start + limit
        next_cursor = encode_cursor(tree.sort_key(sort, items[end - 1])) if len(items) > end else None
        cut = items[start:end]
        return ([self._reacted(item) for item in cut] if self.order else cut), next_cursor


EMPTY = Built([])


def _tally(pairs: Iterable[tuple]) -> tuple[int, int]:
    """(published comments, weight) of (fingerprint, row) pairs: every published comment is shown."""
    visible = weight = 0
    for _fp, row in pairs:
        visible += row.state == PUBLISHED
        weight += _PER_COMMENT + len(row.html)
    return visible, weight


def _parent(links: dict, comment_id: int) -> int | None:
    found = links.get(comment_id)
    return found[0][_PARENT] if found is not None else None


def _dirty(rows: dict, old: dict, moved: list[int]) -> set[int]:
    """The comments whose node may differ from the previous version's: every changed, new or gone
    one (``moved``) and all their ancestors, before and after (a new reply changes its parent)."""
    dirty = set(moved)
    for comment_id in moved:
        for links in (rows, old):
            parent = _parent(links, comment_id)
            for _ in range(100):  # deeper than any thread may nest; no loop can hold it
                if parent is None:
                    break
                dirty.add(parent)
                parent = _parent(links, parent)
    return dirty


def build(rows: dict, previous: Built | None = None, moved: list[int] | None = None) -> Built:
    """``tree.build`` of ``rows`` (id → (fingerprint, row), in number order), node for node.

    With ``previous`` (an earlier version of the thread) and ``moved`` (the ids of the comments
    changed, new or gone since), only the nodes of those and their ancestors are made again:
    every other node is the very one ``previous`` had, and a view is made again only if its row
    or its shown state changed."""
    dirty, old_views, nodes, tally = None, {}, {}, None
    if previous is not None and moved is not None:
        dirty, old_views = _dirty(rows, previous.rows, moved), previous.views
        nodes = dict(previous.nodes)
        gone = [i for i in moved if i not in rows]
        for comment_id in gone:
            nodes.pop(comment_id, None)
        before, after = _tally(previous.rows[i] for i in moved if i in previous.rows), _tally(
            rows[i] for i in moved if i in rows)
        tally = (previous.visible - before[0] + after[0], previous.weight - before[1] + after[1])
    views = dict(old_views)
    children: dict[int | None, list] = {}
    for fp, row in rows.values():
        children.setdefault(fp[_PARENT] if fp[_PARENT] in rows else None, []).append(row)

    def view(c, state: str | None) -> dict:
        found = old_views.get(c.id)
        if found is None or found[0] is not c or found[1] != state:
            found = views[c.id] = (c, state, public_comment(c, state=state))
        return found[2]

    def node(c) -> dict | None:
        if dirty is not None and c.id not in dirty and c.id in nodes:
            return nodes[c.id]
        replies = [n for n in map(node, children.get(c.id, ())) if n is not None]
        made = None
        if c.state == PUBLISHED or replies:
            # A held parent of visible replies is a tombstone to readers, never its text.
            made = {**view(c, None if c.state == PUBLISHED else DELETED), "replies": replies}
        nodes[c.id] = made
        return made

    top_level = [n for n in map(node, children.get(None, ())) if n is not None]
    if dirty is not None:
        for comment_id in gone:
            views.pop(comment_id, None)
    return Built(top_level, rows, nodes, views, tally)


def _keyed(found: Iterable) -> dict:
    return {row.id: (_fingerprint_of(row), row) for row in found}


def _since(previous: Built, source: ThreadRows) -> tuple[dict, list[int] | None]:
    """The rows of the thread now: those whose fingerprint did not move, as ``previous`` had them
    (the very same pairs); the others loaded again. And the ids of those changed, new or gone
    (None: so many that all were loaded again)."""
    rows: dict = {}
    changed = []
    had = previous.rows
    kept_count = 0
    for light in source.fingerprints():
        kept = had.get(light[0])
        if kept is None or kept[0] != light:
            changed.append(light[0])
        else:
            kept_count += 1
        rows[light[0]] = kept  # its place in number order, filled below if it changed
    if len(changed) > _MOST_CHANGED:
        return _keyed(source.all()), None
    moved = list(changed)
    if kept_count + sum(i in had for i in changed) < len(had):  # some are gone
        moved += [i for i in had if i not in rows]
    if changed:
        rows.update(_keyed(source.some(changed)))
        for comment_id in changed:
            if rows[comment_id] is None:  # deleted between the two queries
                del rows[comment_id]
    return rows, moved

class ThreadTrees:
    """Built trees by (thread id, version), bounded by bytes; one build per version at a time."""

    def __init__(self, max_bytes: int):
        self.store = ByteLRU("trees", max_bytes, lambda built: built.weight)
        self._building: dict[tuple[int, int], threading.Lock] = {}
        self._newest: dict[int, int] = {}  # thread id → its newest version built (large threads)
        self._lock = threading.Lock()

    def _previous(self, thread_id: int, version: int) -> Built | None:
        known = self._newest.get(thread_id)
        if known is None or known >= version:
            return None
        return self.store.get((thread_id, known))

    def get(self, thread_id: int, version: int, source: ThreadRows | Callable[[], Iterable],
            reactions: Callable[[], tuple[Sequence[str], Mapping]] | None = None) -> Built:
        """The tree of this version: from the store, else built from the newest version before
        it still stored (a large thread), else from all its rows. ``source`` may also be a plain
        function returning every row (no incremental build then); ``reactions`` gives the
        configured emoji and the thread's counts (``Built.react``)."""
        key = (thread_id, version)
        built = self.store.get(key)
        if built is not None:
            return built
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            built = self.store.get(key)  # built by the request this one waited for
            if built is None:
                built = self._build(thread_id, version, source)
                if reactions is not None:
                    built.react(*reactions())
                self.store.put(key, built)
        with self._lock:
            self._building.pop(key, None)
            if len(built.rows) >= INCREMENTAL_FROM and self._newest.get(thread_id, -1) < version:
                if len(self._newest) > 10_000:  # ids only, but not without end
                    self._newest.clear()
                self._newest[thread_id] = version
        return built

    def _build(self, thread_id: int, version: int, source) -> Built:
        if callable(source):
            return Built(tree.build(source()))
        previous = self._previous(thread_id, version)
        if previous is None:
            return build(_keyed(source.all()))
        rows, moved = _since(previous, source)
        return build(rows, previous, moved)
