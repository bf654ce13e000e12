"""A least-recently-used store bounded by bytes, with its size in ``/metrics``.

An entry-count bound lets memory grow with what is stored (221 large threads once took 72 MB
more than 221 small ones): here every entry is put with its size, and the oldest go until the
total fits. The caller says what an entry weighs (``size_of``): the bytes it holds, roughly.
Thread-safe; one per process (gunicorn workers each have their own, hence ``livesum``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from prometheus_client import Gauge

CACHE_BYTES = Gauge("widget_cache_bytes", "bytes held by an in-process cache, summed over live workers",
                    ["cache"], multiprocess_mode="livesum")
CACHE_ENTRIES = Gauge("widget_cache_entries", "entries held by an in-process cache, summed over live workers",
                      ["cache"], multiprocess_mode="livesum")


class ByteLRU:
    """``get``/``put``/``discard``, evicting the least recently used past ``max_bytes``."""

    def __init__(self, name: str, max_bytes: int, size_of: Callable[[Any], int]):
        self.name = name
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._bytes_gauge = CACHE_BYTES.labels(name)
        self._entries_gauge = CACHE_ENTRIES.labels(name)

    @property
    def size(self) -> int:
        """Bytes held now (as ``size_of`` weighed them)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return None
            self._data.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``; one larger than the whole bound is not kept at all."""
        weight = self._size_of(value)
        with self._lock:
            self._drop(key)
            if weight <= self.max_bytes:
                self._data[key] = (value, weight)
                self._bytes += weight
                while self._bytes > self.max_bytes:
                    _key, (_value, dropped) = self._data.popitem(last=False)
                    self._bytes -= dropped
            self._report()

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._drop(key)
            self._report()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self._report()

    def _drop(self, key: Hashable) -> None:
        found = self._data.pop(key, None)
        if found is not None:
            self._bytes -= found[1]

    def _report(self) -> None:
        self._bytes_gauge.set(self._bytes)
        self._entries_gauge.set(len(self._data))
