"""Disqus XML export: ``<thread dsq:id>`` and ``<post dsq:id>`` elements under ``<disqus>``.

Posts name their thread and parent by ``dsq:id``; threads may come after their
posts, may have an empty ``<id/>``, and posts may point to a parent or thread
that is not in the file. Messages are HTML (often in CDATA): they become
Markdown-ish text and go through ``render()`` like every comment.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PUBLISHED, SPAM
from ..security import imported_ip_hash
from .base import (
    CommentRecord,
    Skip,
    Summary,
    ThreadRecord,
    clean_email,
    finish,
    parse_bool,
    parse_datetime,
    stable_hash,
)
from .markup import html_to_markdown
from .xmlstream import Node, records

FORMAT = "disqus"
WANTED = {("thread", 1), ("post", 1)}


def _thread(node: Node) -> ThreadRecord | Skip:
    key = node.attrib.get("id")
    where = f"line {node.line}"
    if not key:
        return Skip("a <thread> without dsq:id was ignored: no post can refer to it", where, note=True)
    try:
        created = parse_datetime(node.findtext("createdAt")) if node.findtext("createdAt") else None
    except ValueError:
        created = None
    try:
        locked = parse_bool(node.findtext("isClosed"))
        deleted = parse_bool(node.findtext("isDeleted"))
    except ValueError:
        locked = deleted = False
    return ThreadRecord(key=key, url=node.findtext("link") or None, title=node.findtext("title"),
                        locked=locked, deleted=deleted, created_at=created, where=where)


def _post(node: Node) -> CommentRecord | Skip:
    dsq_id = node.attrib.get("id")
    own_id = node.findtext("id")
    thread = node.attr("thread", "id")
    where = f"line {node.line}"
    label = f"post {dsq_id or own_id or '(no id)'} at {where}"
    if not thread:
        return Skip("a post without a <thread dsq:id> has no page", label)
    raw_date = node.findtext("createdAt")
    try:
        created = parse_datetime(raw_date)
    except ValueError:
        return Skip("createdAt is missing or not a date", f"{raw_date!r} in {label}")
    try:
        deleted = parse_bool(node.findtext("isDeleted"))
        spam = parse_bool(node.findtext("isSpam"))
    except ValueError as exc:
        return Skip("isDeleted or isSpam is neither true nor false", f"{str(exc)!r} in {label}")
    message = node.findtext("message")
    author = node.findtext("author/name") or node.findtext("author/username")
    if dsq_id:
        key = f"{FORMAT}:{dsq_id}"
    elif own_id:
        key = f"{FORMAT}:id:{own_id}"
    else:
        key = f"{FORMAT}:sha:{stable_hash(thread, raw_date, author, message)}"
    parent = node.attr("parent", "id")
    address = node.findtext("ipAddress")
    return finish(CommentRecord(
        key=key, thread=thread, parent=f"{FORMAT}:{parent}" if parent else None, created_at=created,
        text=html_to_markdown(message), author=author, email=clean_email(node.findtext("author/email")),
        state=SPAM if spam else DELETED if deleted else PUBLISHED,
        ip_hash=imported_ip_hash(address), where=where,
    ))


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    for node in records(fh, WANTED, summary, name):
        yield _thread(node) if node.tag == "thread" else _post(node)
