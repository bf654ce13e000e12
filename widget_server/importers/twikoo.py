"""Twikoo's export (its admin panel's "export comments"): the comment collection as JSON,
a list, ``{"results": [...]}``, or one comment per line (MongoDB's own export).

Each comment: ``{"_id" (a string or {"$oid"}), "nick", "mail", "link", "comment" (HTML),
"url" (the page's path), "href" (the page's full address, in newer exports), "pid"
(parent), "rid" (thread root), "isSpam", "top" (pinned), "like" (who liked it),
"created", "updated" (milliseconds)}``. Twikoo keeps a comment awaiting review or judged
spam as ``isSpam``: those are held for moderation here. A page is ``href`` when there is
one, else its path on ``--site``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import urljoin

from ..models import PENDING, PUBLISHED
from .base import CommentRecord, Skip, Summary, ThreadRecord, clean_email, clean_website, finish
from .jsonstream import items
from .markup import html_to_markdown
from .peers import flag, loose_datetime, maybe_gunzip, text_id

FORMAT = "twikoo"


def _page(raw: dict) -> str:
    path = str(raw.get("url") or "").strip()
    href = str(raw.get("href") or "").strip()
    if href.startswith(("http://", "https://")):
        return urljoin(href, path) if path.startswith("/") else href
    return path


def _shape(fh: BinaryIO, name: str) -> tuple[set[str], bool]:
    """Which of Twikoo's three shapes the file has (a list, {"results": []}, JSON lines)."""
    start = fh.read(4096).lstrip()
    fh.seek(0)
    if start.startswith(b"["):
        return {"item"}, False
    if start.startswith(b"{") and b'"results"' in start.split(b",", 1)[0]:
        return {"results.item"}, False
    return {""}, True


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    fh = maybe_gunzip(fh)
    prefixes, lines = _shape(fh, name)
    seen: set[str] = set()
    for index, (_prefix, raw) in enumerate(items(fh, name, prefixes, multiple=lines)):
        where = f"comment #{index + 1}"
        key = text_id(raw.get("_id")) if isinstance(raw, dict) else ""
        if not key:
            yield Skip("a comment without _id", where)
            continue
        page = _page(raw)
        if not page:
            yield Skip("a comment without url", where)
            continue
        if page not in seen:
            seen.add(page)
            yield ThreadRecord(key=page, url=page, where=where)
        try:
            created = loose_datetime(raw.get("created"))
        except ValueError:
            yield Skip("created is missing or not a date", f"{raw.get('created')!r} in {where}")
            continue
        parent = text_id(raw.get("pid"))
        likes = raw.get("like")
        yield finish(CommentRecord(
            key=f"{FORMAT}:{key}", thread=page, created_at=created,
            parent=f"{FORMAT}:{parent}" if parent else None,
            text=html_to_markdown(str(raw.get("comment") or "")), author=str(raw.get("nick") or ""),
            email=clean_email(raw.get("mail")), website=clean_website(raw.get("link")),
            state=PENDING if flag(raw.get("isSpam")) else PUBLISHED, pinned=flag(raw.get("top")),
            likes=len(likes) if isinstance(likes, list) else 0, where=where))
