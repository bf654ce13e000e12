"""Keyset paging with opaque cursors: the one way every list in the API pages.

A cursor is the sort key of the last item handed out, as URL-safe base64 of
JSON; clients pass it back untouched. ``decode_cursor`` takes a function that
checks the key's shape (raising ``ValueError`` or ``TypeError``), so a cursor
made up by a client, or made for another list, is a clear 400, never a 500.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select

from .errors import ValidationError, problem
from .extensions import db

Key = TypeVar("Key")
NOT_OURS = problem("invalid", "is not a cursor this server handed out")


def encode_cursor(key: Sequence) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, shape: Callable[[Any], Key]) -> Key:
    """The key in ``cursor``, checked and converted by ``shape``; 400 if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        return shape(json.loads(raw))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError({"cursor": NOT_OURS}) from None


def whole_numbers(count: int) -> Callable[[Any], list[int]]:
    """A ``shape`` for keys of ``count`` integers."""
    def shape(key: Any) -> list[int]:
        if not (isinstance(key, list) and len(key) == count
                and all(isinstance(k, int) and not isinstance(k, bool) for k in key)):
            raise ValueError("not a key of this list")
        return key

    return shape


def keyset_page(query: Select, limit: int, *, scalars: bool = True) -> tuple[list, bool]:
    """Run ``query`` (already ordered and filtered past the cursor) for one page; whether more follow."""
    result = db.session.execute(query.limit(limit + 1))
    rows = list(result.scalars() if scalars else result)
    return rows[:limit], len(rows) > limit


def next_cursor(items: list, more: bool, key: Callable[[Any], Sequence]) -> str | None:
    """The cursor after the last of ``items``, or None at the end."""
    return encode_cursor(key(items[-1])) if more and items else None
