"""What the readers of the other comment servers share: their dates, flags and page addresses.

Remark42, Artalk, Waline, Twikoo and Cusdis each write dates their own way (RFC 3339,
Go's ``time.String()`` with a zone name, milliseconds since the epoch), flags as booleans
or as the strings ``"true"``/``"false"``, and pages as full URLs or as paths on the site
(``--site`` says which site).
"""
from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import BinaryIO

from .base import parse_datetime

GZIP_MAGIC = b"\x1f\x8b"
# 2021-09-10 21:45:28.105 +0800 CST (Go's time.String), 2021-09-10 21:45:28, with T or Z, ...
_LOOSE = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?"
                    r"(?:\s+[A-Z]{2,5})?(?:\s+m=[+-][\d.]+)?\Z")


def loose_datetime(value: object) -> datetime:
    """A date as these servers write it, as aware UTC (no zone: UTC). Raises ValueError."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("missing")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value  # milliseconds (JavaScript) or seconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, dict) and "$date" in value:  # MongoDB extended JSON (Twikoo)
        return loose_datetime(value["$date"])
    raw = str(value).strip()
    if raw.isdigit():
        return loose_datetime(int(raw))
    match = _LOOSE.match(raw)
    if not match:
        return parse_datetime(raw)
    day, clock, fraction, zone = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    parsed = datetime.fromisoformat(f"{day}T{clock}{(fraction or '')[:7]}")
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return parsed.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
    return parsed.replace(tzinfo=UTC)


def flag(value: object) -> bool:
    """``true``, ``"true"``, ``1`` and ``"1"`` are true; anything else is false."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True or (isinstance(value, int | float) and value == 1)


def text_id(value: object) -> str:
    """An id as text: strings and numbers as they are, MongoDB's ``{"$oid": ...}`` by its value."""
    if isinstance(value, dict):
        value = value.get("$oid") or value.get("$numberLong") or ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None or isinstance(value, bool) else str(value).strip()


def maybe_gunzip(fh: BinaryIO) -> BinaryIO:
    """The file itself, or its content when it is gzip-compressed (Remark42's and Comentario's
    exports are): the first two bytes tell, and are given back either way."""
    head = fh.read(2)
    fh.seek(0)
    return gzip.GzipFile(fileobj=fh, mode="rb") if head == GZIP_MAGIC else fh


def is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC
