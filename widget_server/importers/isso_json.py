"""Isso's "generic" JSON: a list of threads ``{"id", "title", "comments": [...]}``.

Thread ids are page paths (``/posts/0001/``): ``--site`` says which site they
are on. Comment ids are unique only inside their thread, so the import key is
``isso-json:<thread id>:<comment id>``; ``created`` has no time zone and is
taken as UTC. One thread at a time is held in memory.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED
from ..security import imported_ip_hash
from .base import (
    CommentRecord,
    Skip,
    Summary,
    ThreadRecord,
    clean_email,
    clean_website,
    finish,
    parse_datetime,
    stable_hash,
)
from .jsonstream import items

FORMAT = "isso-json"
MODES = {1: PUBLISHED, 2: PENDING, 4: DELETED}


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    for index, (_prefix, thread) in enumerate(items(fh, name, {"item"})):
        where = f"thread #{index + 1}"
        if not isinstance(thread, dict) or not thread.get("id"):
            yield Skip("a thread without an id", where)
            continue
        key = str(thread["id"])
        yield ThreadRecord(key=key, url=key, title=str(thread.get("title") or ""), where=where)
        comments = thread.get("comments") or []
        for position, raw in enumerate(comments if isinstance(comments, list) else []):
            yield _comment(raw, key, f"comment #{position + 1} of {where} ({key})")


def _comment(raw: object, thread: str, where: str) -> CommentRecord | Skip:
    if not isinstance(raw, dict):
        return Skip("a comment that is not an object", where)
    try:
        created = parse_datetime(raw.get("created"))
    except (TypeError, ValueError):
        return Skip("created is missing or not a date", f"{raw.get('created')!r} in {where}")
    own = raw.get("id")
    if own is not None:
        ident = str(own)
    else:
        ident = stable_hash(raw.get("created"), raw.get("author"), raw.get("text"))
    parent = raw.get("parent")
    address = raw.get("remote_addr")
    return finish(CommentRecord(
        key=f"{FORMAT}:{thread}:{ident}", thread=thread, created_at=created,
        parent=f"{FORMAT}:{thread}:{parent}" if parent not in (None, "") else None,
        text=str(raw.get("text") or ""), author=str(raw.get("author") or ""),
        email=clean_email(raw.get("email")), website=clean_website(raw.get("website")),
        state=MODES.get(raw.get("mode", 1), PENDING), likes=raw.get("likes") or 0,
        ip_hash=imported_ip_hash(str(address)), where=where,
    ))
