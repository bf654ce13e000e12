"""Remark42's backup (``backup-<site>-<date>.gz``, or the same uncompressed): JSON lines.

The first line is ``{"version": 1, "users": [...], "posts": [{"url", "read_only"}]}``; each
line after it is one comment: ``{"id", "pid", "text" (HTML), "orig" (the Markdown it was
written in, in newer backups), "user": {"name", "id", ...}, "locator": {"site", "url"},
"score", "votes", "time", "edit": {"time", ...}, "pin", "delete", "title"}``. The Markdown
source is taken when the backup has it, else the HTML is turned into Markdown. Users'
``ip`` values are Remark42's own hashes and are not kept.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PUBLISHED
from .base import CommentRecord, ImportFailed, Skip, Summary, ThreadRecord, finish
from .jsonstream import items
from .markup import html_to_markdown
from .peers import flag, loose_datetime, maybe_gunzip, text_id

FORMAT = "remark42"


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    for index, (_prefix, raw) in enumerate(items(maybe_gunzip(fh), name, {""}, multiple=True)):
        where = f"line {index + 1}"
        if index == 0:
            if not isinstance(raw, dict) or "version" not in raw:
                raise ImportFailed(f"{name} is not a Remark42 backup: its first line must be "
                                   '{"version": 1, "users": [...], "posts": [...]}')
            if raw.get("version") != 1:
                raise ImportFailed(f"{name} is a version {raw.get('version')!r} Remark42 backup; "
                                   "this server reads version 1")
            for post in raw.get("posts") or []:
                if isinstance(post, dict) and post.get("url"):
                    yield ThreadRecord(key=str(post["url"]), url=str(post["url"]),
                                       locked=flag(post.get("read_only")), where=where)
            continue
        record = _comment(raw, where)
        if isinstance(record, CommentRecord):
            url = record.thread
            yield ThreadRecord(key=url, url=url, title=str(raw.get("title") or ""), where=where)
        yield record


def _comment(raw: object, where: str) -> CommentRecord | Skip:
    if not isinstance(raw, dict) or not text_id(raw.get("id")):
        return Skip("a line that is not a comment with an id", where)
    locator = raw.get("locator") if isinstance(raw.get("locator"), dict) else {}
    if not locator.get("url"):
        return Skip("a comment without locator.url", where)
    try:
        created = loose_datetime(raw.get("time"))
    except ValueError:
        return Skip("time is missing or not a date", f"{raw.get('time')!r} at {where}")
    edit = raw.get("edit") if isinstance(raw.get("edit"), dict) else {}
    try:
        edited = loose_datetime(edit["time"]) if edit.get("time") else None
    except ValueError:
        edited = None
    user = raw.get("user") if isinstance(raw.get("user"), dict) else {}
    votes = raw.get("votes") if isinstance(raw.get("votes"), dict) else {}
    orig = raw.get("orig")
    html = str(raw.get("text") or "")
    text = str(orig) if isinstance(orig, str) and orig.strip() else html_to_markdown(html)
    parent = text_id(raw.get("pid"))
    return finish(CommentRecord(
        key=f"{FORMAT}:{text_id(raw['id'])}", thread=str(locator["url"]), created_at=created,
        edited_at=edited if edited and edited > created else None, text=text,
        parent=f"{FORMAT}:{parent}" if parent else None, author=str(user.get("name") or ""),
        state=DELETED if flag(raw.get("delete")) else PUBLISHED, pinned=flag(raw.get("pin")),
        likes=sum(1 for v in votes.values() if v is True), where=where))
