"""This service's own export (``widget-server export``): a full restore or a merge.

Threads and comments keep their titles, lock, states, numbers, likes, dates,
authors and keyed IP hashes. Into an empty database the comment ids carry over
as well, so a restore answers every reader endpoint exactly as before; into
a database that already has comments, new ids are handed out and parents are
linked by the ids in the file. A comment keeps the import key it had (so
re-importing the original Disqus file later still finds it), others get
``json:<id>``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..dataset import VERSION
from ..models import STATES
from .base import (
    MAX_TITLE,
    CommentRecord,
    ImportFailed,
    Skip,
    Summary,
    ThreadRecord,
    clean_email,
    clean_line,
    clean_website,
    finish,
    parse_datetime,
)
from .jsonstream import items

FORMAT = "json"
EXPORT_FORMAT = "widget-server-export"
KEEP_NUMBERS = True


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    checked = False
    for prefix, value in items(fh, name, {"threads.item", "comments.item"}, {"format", "version"}):
        if prefix == "format":
            if value != EXPORT_FORMAT:
                raise ImportFailed(f"{name} is not a widget-server export (format is {value!r})")
            checked = True
            continue
        if prefix == "version":
            if value not in (1, VERSION):
                raise ImportFailed(f"{name} is a version {value!r} export; this server reads versions 1 "
                                   f"and {VERSION}")
            continue
        if not checked:
            raise ImportFailed(f"{name} is not a widget-server export: it must start with "
                               f'"format": "{EXPORT_FORMAT}"')
        if not isinstance(value, dict) or _int(value.get("id")) is None:
            yield Skip(f"{prefix.split('.')[0]} entries without a numeric id")
            continue
        if prefix == "threads.item":
            yield _thread(value)
        else:
            yield _comment(value)
    if not checked:
        raise ImportFailed(f"{name} is not a widget-server export (no \"format\" field)")


def _thread(raw: dict) -> ThreadRecord | Skip:
    try:
        created = parse_datetime(raw["created_at"]) if raw.get("created_at") else None
    except ValueError:
        created = None
    return ThreadRecord(key=str(raw["id"]), url=raw.get("url"), title=clean_line(raw.get("title"), MAX_TITLE),
                        locked=bool(raw.get("locked")), created_at=created,
                        last_number=_int(raw.get("last_number")), where=f"thread {raw['id']}")


def _comment(raw: dict) -> CommentRecord | Skip:
    where = f"comment {raw['id']}"
    try:
        created = parse_datetime(raw.get("created_at"))
        edited = parse_datetime(raw["edited_at"]) if raw.get("edited_at") else None
    except (TypeError, ValueError):
        return Skip("created_at is missing or not a date", where)
    state = raw.get("state")
    if state not in STATES:
        return Skip("state is not one of " + ", ".join(STATES), f"{state!r} in {where}")
    ip_hash = raw.get("ip_hash")
    return finish(CommentRecord(
        key=str(raw.get("import_key") or f"{FORMAT}:{raw['id']}"), thread=str(raw.get("thread_id")),
        parent_id=_int(raw.get("parent_id")), id=raw["id"], number=_int(raw.get("number")),
        created_at=created, edited_at=edited, text=str(raw.get("text") or ""),
        author=str(raw.get("author") or ""), email=clean_email(raw.get("email")),
        website=clean_website(raw.get("website")), state=state, likes=_int(raw.get("likes")) or 0,
        pinned=bool(raw.get("pinned")), ip_hash=str(ip_hash)[:64] if isinstance(ip_hash, str) else "",
        where=where,
    ), wipe_deleted=False)
