"""Commento JSON export: ``{"version", "comments": [...], "commenters": [...]}``; Comentario's
export is the same format, gzipped.

Comments name their author by ``commenterHex`` and the commenters come after
the comments, so the file is read twice: commenters first (one small entry per
person), then the comments, streamed. Pages are ``domain`` + ``url``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED, SPAM
from .base import (
    MAX_AUTHOR,
    CommentRecord,
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
from .peers import maybe_gunzip

FORMAT = "commento"
STATES = {"approved": PUBLISHED, "unapproved": PENDING, "flagged": SPAM}


def _page(comment: dict) -> str:
    domain = str(comment.get("domain") or "").strip().strip("/")
    path = str(comment.get("url") or "").strip()
    if domain and "://" not in path:
        return f"https://{domain}/{path.lstrip('/')}"
    return path


def read(fh: BinaryIO, name: str, summary: Summary) -> Iterator[ThreadRecord | CommentRecord | Skip]:
    fh = maybe_gunzip(fh)  # Comentario writes the same format, gzipped
    people: dict[str, tuple[str, str | None, str | None]] = {}
    for _prefix, person in items(fh, name, {"commenters.item"}):
        if isinstance(person, dict) and person.get("commenterHex"):
            link = person.get("link")
            people[str(person["commenterHex"])] = (
                clean_line(person.get("name"), MAX_AUTHOR), clean_email(person.get("email")),
                clean_website(link) if link not in (None, "", "undefined") else None)
    fh.seek(0)
    seen_pages: set[str] = set()
    for index, (_prefix, raw) in enumerate(items(fh, name, {"comments.item"})):
        where = f"comment #{index + 1}"
        if not isinstance(raw, dict) or not raw.get("commentHex"):
            yield Skip("a comment without commentHex", where)
            continue
        page = _page(raw)
        if page and page not in seen_pages:
            seen_pages.add(page)
            yield ThreadRecord(key=page, url=page, where=where)
        try:
            created = parse_datetime(raw.get("creationDate"))
        except (TypeError, ValueError):
            yield Skip("creationDate is missing or not a date", f"{raw.get('creationDate')!r} in {where}")
            continue
        author, email, website = people.get(str(raw.get("commenterHex")), ("", None, None))
        parent = str(raw.get("parentHex") or "root")
        state = DELETED if raw.get("deleted") else STATES.get(str(raw.get("state")), PENDING)
        score = raw.get("score")
        yield finish(CommentRecord(
            key=f"{FORMAT}:{raw['commentHex']}", thread=page, created_at=created,
            parent=f"{FORMAT}:{parent}" if parent != "root" else None,
            text=str(raw.get("markdown") or ""), author=author, email=email, website=website,
            state=state, likes=int(score) if isinstance(score, int | float) and score > 0 else 0, where=where,
        ))
