"""Waline's export (the admin's "export" button, ``GET /api/db``):
``{"type": "waline", "version": 1, "time", "tables": [...], "data": {"Comment": [...], ...}}``.

Each comment: ``{"objectId", "comment" (the Markdown as written), "nick", "mail", "link",
"ip", "ua", "url" (the page's path), "pid" (parent), "rid" (thread root), "status"
("approved", "waiting", "spam"), "sticky", "like", "insertedAt", "createdAt",
"updatedAt"}``. Pages are paths: ``--site`` says which site they are on. Only the Comment
table is read (Counter holds page views, Users Waline's own accounts).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import PENDING, PUBLISHED, SPAM
from .base import CommentRecord, Skip, Summary, ThreadRecord, clean_email, clean_website, finish
from .jsonstream import items
from .peers import flag, loose_datetime, maybe_gunzip, text_id

FORMAT = "waline"
STATES = {"approved": PUBLISHED, "waiting": PENDING, "spam": SPAM}


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    seen: set[str] = set()
    stream = items(maybe_gunzip(fh), name, {"data.Comment.item"}, {"type"})
    for index, (prefix, raw) in enumerate(stream):
        if prefix == "type":
            continue
        where = f"comment #{index}"
        key = text_id(raw.get("objectId") or raw.get("id")) if isinstance(raw, dict) else ""
        if not key:
            yield Skip("a comment without objectId", where)
            continue
        page = str(raw.get("url") or "").strip()
        if not page:
            yield Skip("a comment without url", where)
            continue
        if page not in seen:
            seen.add(page)
            yield ThreadRecord(key=page, url=page, where=where)
        try:
            created = loose_datetime(raw.get("insertedAt") or raw.get("createdAt"))
        except ValueError:
            yield Skip("insertedAt is missing or not a date", f"{raw.get('insertedAt')!r} in {where}")
            continue
        parent = text_id(raw.get("pid"))
        like = raw.get("like")
        yield finish(CommentRecord(
            key=f"{FORMAT}:{key}", thread=page, created_at=created,
            parent=f"{FORMAT}:{parent}" if parent else None, text=str(raw.get("comment") or ""),
            author=str(raw.get("nick") or ""), email=clean_email(raw.get("mail")),
            website=clean_website(raw.get("link")), state=STATES.get(str(raw.get("status")), PENDING),
            pinned=flag(raw.get("sticky")), likes=int(like) if isinstance(like, int | float) else 0,
            where=where))
