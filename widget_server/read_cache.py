"""A small in-process cache of serialized thread responses.

Entries are keyed by the thread's ``version`` (read from the database in one
cheap query on every request) so a change made through any instance is seen
at once by every other: a stale entry is simply never asked for again and
ages out of the LRU. No cross-instance invalidation is needed.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Entry:
    body: bytes
    etag: str
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def make_entry(body: bytes) -> Entry:
    return Entry(body=body, etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class ReadCache:
    def __init__(self, max_entries: int = 1024):
        self.max_entries = max_entries
        self._data: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                self._data.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        with self._lock:
            self._data[key] = entry
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
