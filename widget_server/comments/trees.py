"""A thread's tree, built once per thread version; every page and sort order is cut from it.

Without this, each page and each sort of a large thread loaded and nested the whole thread again
after every change (a 5,000-comment thread: a quarter to half a second of a worker each). Built
trees are kept by (thread id, version) in a byte-bounded store (cache.py); a new version simply
misses, and while one request builds a version, the others asking for it wait for that build
instead of repeating it.
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..cache import ByteLRU
from ..models import DELETED, Comment
from ..pagination import decode_cursor, encode_cursor
from . import tree
from .views import LIKE

# Roughly what one comment's view weighs in memory besides its html: the dicts, the strings.
_PER_COMMENT = 900


class Built:
    """One version of a thread: its top-level comments (replies nested) and orders cut lazily."""

    def __init__(self, top_level: list[dict], order: Sequence[str] = (),
                 reactions: Mapping[int | None, Mapping[str, int]] | None = None):
        """``reactions``: counts by comment id (the page's under None), likes aside; ``order``: the
        configured emoji, in which each comment's ``reactions`` and ``page_reactions`` are listed."""
        self.top_level = top_level
        reactions = reactions or {}
        self.page_reactions = {e: reactions[None][e] for e in order if reactions.get(None, {}).get(e)}
        self.visible = tree.count_visible(top_level)
        self.weight = 0
        stack = list(top_level)
        while stack:
            item = stack.pop()
            self.weight += _PER_COMMENT + len(item["html"])
            if order and item["state"] != DELETED:
                found = {**reactions.get(item["id"], {}), LIKE: item["likes"]}
                item["reactions"] = {e: found[e] for e in order if found.get(e)}
            stack.extend(item["replies"])
        self._orders: dict[str, tuple[list[list[int]], list[dict]]] = {}

    def _ordered(self, sort: str) -> tuple[list[list[int]], list[dict]]:
        found = self._orders.get(sort)
        if found is None:
            keyed = sorted(((tree.sort_key(sort, item), item) for item in self.top_level), key=lambda p: p[0])
            found = self._orders[sort] = ([k for k, _ in keyed], [item for _, item in keyed])
        return found

    def page(self, sort: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        """Exactly ``tree.page(self.top_level, ...)``, by bisection in an order sorted once."""
        keys, items = self._ordered(sort)
        start = bisect.bisect_right(keys, decode_cursor(cursor, tree.sort_key_of(sort))) if cursor else 0
        end = start + limit
        next_cursor = encode_cursor(keys[end - 1]) if len(keys) > end else None
        return items[start:end], next_cursor


EMPTY = Built([])


class ThreadTrees:
    """Built trees by (thread id, version), bounded by bytes; one build per version at a time."""

    def __init__(self, max_bytes: int):
        self.store = ByteLRU("trees", max_bytes, lambda built: built.weight)
        self._building: dict[tuple[int, int], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, thread_id: int, version: int, load: Callable[[], Iterable[Comment]],
            reactions: Callable[[], tuple[Sequence[str], Mapping]] | None = None) -> Built:
        key = (thread_id, version)
        built = self.store.get(key)
        if built is not None:
            return built
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            built = self.store.get(key)  # built by the request this one waited for
            if built is None:
                built = Built(tree.build(load()), *(reactions() if reactions else ()))
                self.store.put(key, built)
        with self._lock:
            self._building.pop(key, None)
        return built

