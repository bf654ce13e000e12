"""WordPress WXR export: ``<item>`` per post or page, ``<wp:comment>`` inside it.

Comment ids are unique per site and parents (``comment_parent``) are always in
the same post, so the import key is ``wordpress:<post id>:<comment id>``.
Dates come from ``comment_date_gmt`` (``comment_date`` has no time zone and is
used, as UTC, only when the GMT one is missing). Content is text with
newlines and a little HTML; pingbacks and trackbacks are skipped.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED, SPAM
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
)
from .markup import html_to_markdown
from .xmlstream import Node, records

FORMAT = "wordpress"
WANTED = {("item", 2), ("comment", 3)}
STATES = {"1": PUBLISHED, "approve": PUBLISHED, "approved": PUBLISHED, "0": PENDING, "hold": PENDING,
          "spam": SPAM, "trash": DELETED, "post-trashed": DELETED}
_NO_DATE = ("", "0000-00-00 00:00:00")


def _item_key(item: Node) -> str:
    return item.findtext("post_id") or item.findtext("link") or f"item-at-line-{item.line}"


def _comment(node: Node, item: str) -> CommentRecord | Skip:
    comment_id = node.findtext("comment_id")
    where = f"line {node.line}"
    label = f"comment {comment_id or '(no id)'} at {where}"
    if not comment_id:
        return Skip("a comment without comment_id", label)
    kind = node.findtext("comment_type")
    if kind in ("pingback", "trackback"):
        return Skip("pingbacks and trackbacks are not comments", label)
    raw_date = node.findtext("comment_date_gmt")
    if raw_date in _NO_DATE:
        raw_date = node.findtext("comment_date")
    try:
        created = parse_datetime(raw_date)
    except ValueError:
        return Skip("comment_date_gmt is missing or not a date", f"{raw_date!r} in {label}")
    approved = node.findtext("comment_approved", "1").lower()
    parent = node.findtext("comment_parent")
    address = node.findtext("comment_author_IP")
    return finish(CommentRecord(
        key=f"{FORMAT}:{item}:{comment_id}", thread=item, created_at=created,
        parent=f"{FORMAT}:{item}:{parent}" if parent not in ("", "0") else None,
        text=html_to_markdown(node.findtext("comment_content"), keep_newlines=True),
        author=node.findtext("comment_author"), email=clean_email(node.findtext("comment_author_email")),
        website=clean_website(node.findtext("comment_author_url")), state=STATES.get(approved, PENDING),
        ip_hash=imported_ip_hash(address), where=where,
    ))


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    for node in records(fh, WANTED, summary, name):
        if node.tag == "comment":
            # The <item>'s own fields (post_id, link, title) come before its comments.
            item = node.parent
            key = item.attrib.setdefault("\0key", _item_key(item)) if item else f"line-{node.line}"
            yield _comment(node, key)
        else:
            yield ThreadRecord(key=node.attrib.get("\0key") or _item_key(node),
                               url=node.findtext("link") or None, title=node.findtext("title"),
                               locked=node.findtext("comment_status") == "closed", where=f"line {node.line}")
