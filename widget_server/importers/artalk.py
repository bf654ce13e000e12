"""Artalk's own transfer format (``.artrans``): a JSON list of comments, every value a string.

``{"id", "rid" (the parent's id, "" or "0" for none), "content" (Markdown), "nick", "email",
"link", "ip", "ua", "is_pending", "is_pinned", "is_collapsed" ("true"/"false"), "vote_up",
"created_at", "updated_at", "page_key" (a URL, or a path on the site), "page_title",
"site_name", "site_urls"}``. A path is put on the site's first URL (``site_urls``), or on
``--site``. A collapsed comment (Artalk folds it away from readers) is held for moderation.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO

from ..models import PENDING, PUBLISHED
from .base import CommentRecord, Skip, Summary, ThreadRecord, clean_email, clean_website, finish
from .jsonstream import items
from .peers import flag, loose_datetime, maybe_gunzip, text_id

FORMAT = "artalk"
_GRACE = timedelta(seconds=1)  # Artalk sets updated_at on every save, the first one too


def _page(raw: dict) -> str:
    key = str(raw.get("page_key") or "").strip()
    if not key or "://" in key:
        return key
    site = str(raw.get("site_urls") or "").split(",")[0].strip()
    return site.rstrip("/") + "/" + key.lstrip("/") if site.startswith(("http://", "https://")) else key


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    seen: set[str] = set()
    for index, (_prefix, raw) in enumerate(items(maybe_gunzip(fh), name, {"item"})):
        where = f"comment #{index + 1}"
        if not isinstance(raw, dict) or not text_id(raw.get("id")):
            yield Skip("a comment without an id", where)
            continue
        page = _page(raw)
        if not page:
            yield Skip("a comment without page_key", where)
            continue
        if page not in seen:
            seen.add(page)
            yield ThreadRecord(key=page, url=page, title=str(raw.get("page_title") or ""), where=where)
        try:
            created = loose_datetime(raw.get("created_at") or raw.get("date"))
        except ValueError:
            yield Skip("created_at is missing or not a date", f"{raw.get('created_at')!r} in {where}")
            continue
        try:
            updated = loose_datetime(raw.get("updated_at")) if raw.get("updated_at") else None
        except ValueError:
            updated = None
        parent = text_id(raw.get("rid"))
        held = flag(raw.get("is_pending")) or flag(raw.get("is_collapsed"))
        votes = text_id(raw.get("vote_up"))
        yield finish(CommentRecord(
            key=f"{FORMAT}:{text_id(raw['id'])}", thread=page, created_at=created,
            edited_at=updated if updated and updated - created > _GRACE else None,
            parent=f"{FORMAT}:{parent}" if parent not in ("", "0") else None,
            text=str(raw.get("content") or ""), author=str(raw.get("nick") or ""),
            email=clean_email(raw.get("email")), website=clean_website(raw.get("link")),
            state=PENDING if held else PUBLISHED, pinned=flag(raw.get("is_pinned")),
            likes=int(votes) if votes.isdigit() else 0, where=where))
