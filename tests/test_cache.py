"""The byte-bounded LRU store: what it keeps, what it drops, and its size in /metrics."""
from __future__ import annotations

import pytest
from support.app import PAGE

from widget_server.cache import ByteLRU


def weighed(value: str) -> int:
    return len(value)


def test_keeps_the_total_under_the_bound_dropping_the_least_recently_used():
    store = ByteLRU("test-lru", 10, weighed)
    store.put("a", "aaaa")
    store.put("b", "bbbb")
    assert store.get("a") == "aaaa"  # a is now the most recently used
    store.put("c", "cccc")  # 12 bytes: b goes, not a
    assert (store.get("a"), store.get("b"), store.get("c")) == ("aaaa", None, "cccc")
    assert store.size == 8 and len(store) == 2


@pytest.mark.parametrize(("steps", "size", "keys"), [
    ([("put", "a", "xx"), ("put", "a", "xxxxx")], 5, {"a"}),  # replacing re-weighs
    ([("put", "a", "xx"), ("discard", "a", None)], 0, set()),
    ([("discard", "nothing", None)], 0, set()),
    ([("put", "big", "x" * 11)], 0, set()),  # larger than the bound: not kept at all
    ([("put", "a", "x" * 10), ("put", "b", "y")], 1, {"b"}),
])
def test_size_follows_every_change(steps, size, keys):
    store = ByteLRU("test-lru", 10, weighed)
    for action, key, value in steps:
        store.put(key, value) if action == "put" else store.discard(key)
    assert store.size == size
    assert {k for k in ("a", "b", "big", "nothing") if store.get(k) is not None} == keys


@pytest.mark.parametrize("config_overrides", [{"METRICS_TOKEN": "m" * 32}], indirect=True)
def test_the_read_caches_sizes_are_in_metrics(client, post):
    post("something to cache")
    assert client.get("/api/v1/comments", query_string={"url": PAGE}).status_code == 200
    body = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32}).get_data(as_text=True)
    sizes = {line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
             for line in body.splitlines() if line.startswith("widget_cache_bytes{")}
    assert sizes['cache="read"'] > 0 and sizes['cache="trees"'] > 0, sizes
