"""Streaming JSON (ijson) with errors that say where."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import BinaryIO

import ijson
from ijson.common import ObjectBuilder

from .base import ImportFailed

PRECISE_LIMIT = 16 * 1024 * 1024  # re-read files up to this size to find an error's line and column


def _position(path: str, consumed: int) -> str:
    try:
        size = os.path.getsize(path)
    except OSError:
        size = PRECISE_LIMIT + 1
    if size <= PRECISE_LIMIT:
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"line {exc.lineno}, column {exc.colno}"
        except (UnicodeDecodeError, RecursionError, ValueError) as exc:
            return str(exc)
        return f"byte {consumed}"
    with open(path, "rb") as fh:
        lines = 1
        remaining = max(0, consumed - 65536)
        while remaining:
            block = fh.read(min(remaining, 1 << 20))
            if not block:
                break
            lines += block.count(b"\n")
            remaining -= len(block)
    return f"the 64 KiB after line {lines} (byte {max(0, consumed - 65536)})"


def fail(path: str, consumed: int, exc: Exception) -> ImportFailed:
    message = (str(exc).splitlines() or ["not valid JSON"])[0]
    return ImportFailed(f"{path} is not valid JSON: {message} at {_position(path, consumed)}")


def items(fh: BinaryIO, path: str, prefixes: set[str], scalars: set[str] = frozenset(), *,
          multiple: bool = False) -> Iterator[tuple[str, object]]:
    """Yield (prefix, value) for each complete object or array element under ``prefixes``,
    and for each scalar whose prefix is in ``scalars``, in file order, in one pass.
    ``multiple``: the file is a sequence of JSON values (JSON lines); prefix "" is each one."""
    events = ijson.parse(fh, use_float=True, multiple_values=multiple)
    try:
        for prefix, event, value in events:
            if prefix in scalars and event in ("string", "number", "boolean", "null"):
                yield prefix, value
            elif prefix in prefixes and event in ("start_map", "start_array"):
                builder = ObjectBuilder()
                builder.event(event, value)
                depth = 1
                for _p, e, v in events:
                    builder.event(e, v)
                    if e in ("start_map", "start_array"):
                        depth += 1
                    elif e in ("end_map", "end_array"):
                        depth -= 1
                        if not depth:
                            break
                yield prefix, builder.value
            elif prefix in prefixes and event in ("string", "number", "boolean", "null"):
                yield prefix, value
    except ijson.JSONError as exc:
        raise fail(path, getattr(fh, "consumed", 0), exc) from None
