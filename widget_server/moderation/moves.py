"""Moved pages: a thread follows its page to a new address (``widget-server move``).

``move(old, new)`` gives the thread at ``old`` the address ``new``. When a thread already
exists at ``new``, the two are merged: the comments already there keep their numbers, the
moved ones are numbered after them in their own order (so #c-links to the thread that was
there stay true, and the moved ones keep their relative order); ids, replies, likes and
subscriptions do not change, so a link to a comment by id still works. The merged thread is
locked if either was, keeps its title (or takes the moved one's), and the empty thread at
the old address is removed. Every move is one audit entry ("move").

``plan(rules)`` turns rules (an exact URL, or a pattern with one ``*`` on each side) into the
moves they make, in address order; ``apply`` runs them one after the other, so two old
pages mapped to one new address merge into it in that order. The caller commits (or, for a
dry run, rolls back: the report is what the moves did inside the transaction).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from .. import sites
from ..extensions import db
from ..models import AdminToken, Comment, Thread
from ..urls import BadURL, normalize_page_url
from . import access
from .service import audit

BATCH = 500


class MoveError(ValueError):
    """A rule or an address that cannot be used; nothing was changed."""


@dataclass
class Moved:
    old: str
    new: str
    comments: int
    merged: bool
    first_number: int | None = None  # in a merge: the moved comments' numbers from here on
    last_number: int | None = None


def _url(raw: str, what: str) -> str:
    try:
        return normalize_page_url(raw.strip())
    except BadURL as exc:
        raise MoveError(f"{what} {raw!r} {exc}") from None


def parse_rule(rule: str) -> tuple[str, str]:
    """``OLD=NEW``: exact addresses, or one ``*`` on each side (the part it matches is carried)."""
    old, sep, new = rule.partition("=")
    old, new = old.strip(), new.strip()
    if not sep or not old or not new:
        raise MoveError(f"{rule!r} must be OLD=NEW, e.g. 'https://old.example/blog/*=https://new.example/posts/*'")
    if old.count("*") != new.count("*") or old.count("*") > 1:
        raise MoveError(f"{rule!r}: put one * on each side (or none)")
    return old, new


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matches(old: str, new: str) -> list[tuple[str, str]]:
    if "*" not in old:
        return [(_url(old, "the old address"), _url(new, "the new address"))]
    head, _star, tail = old.partition("*")
    pattern = re.compile(re.escape(head) + "(.*)" + re.escape(tail) + r"\Z", re.S)
    found = []
    for url in db.session.execute(select(Thread.url).where(Thread.url.like(_like(head), escape="\\"))
                                  .order_by(Thread.url)).scalars():
        match = pattern.match(url)
        if match:
            found.append((url, _url(new.replace("*", match.group(1), 1), f"{url} would move to")))
    return found


def plan(rules: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (old, new) address pairs the rules make, each old thread once (the first rule wins)."""
    seen: set[str] = set()
    moves = []
    for old, new in rules:
        for pair in _matches(old, new):
            if pair[0] not in seen and pair[0] != pair[1]:
                seen.add(pair[0])
                moves.append(pair)
    return moves


def _find(url: str) -> Thread | None:
    return db.session.execute(select(Thread).where(Thread.url == url)).scalar_one_or_none()


def move(old_url: str, new_url: str, actor: AdminToken | None = None) -> Moved:
    """Move (or merge) the thread at ``old_url`` to ``new_url``; bumps the thread version."""
    thread = _find(old_url)
    if thread is None:
        raise MoveError(f"no thread at {old_url}")
    count = db.session.execute(select(func.count(Comment.id)).where(Comment.thread_id == thread.id)).scalar()
    target = _find(new_url)
    if target is None:
        thread.url = new_url
        thread.site_id = sites.for_url(new_url).id  # a thread belongs to its page's site
        thread.version = Thread.version + 1
        audit(actor, "move", f"thread {thread.id}", old=old_url, new=new_url, comments=count, merged=False,
              site_id=access.thread_site(thread))
        db.session.flush()
        return Moved(old_url, new_url, count, merged=False)
    highest = db.session.execute(select(func.max(Comment.number))
                                 .where(Comment.thread_id == target.id)).scalar()
    start = max(target.last_number, highest or 0)
    number = start
    last_seen = -1
    while True:  # keyset pages in the old numbering, so memory stays flat for any thread
        rows = db.session.execute(
            select(Comment.id, Comment.number)
            .where(Comment.thread_id == thread.id, Comment.number > last_seen)
            .order_by(Comment.number).limit(BATCH)).all()
        if not rows:
            break
        last_seen = rows[-1][1]
        values = []
        for comment_id, _old_number in rows:
            number += 1
            values.append({"id": comment_id, "thread_id": target.id, "number": number})
        db.session.execute(update(Comment), values)
    target.last_number = number
    target.locked = target.locked or thread.locked
    target.title = target.title or thread.title
    target.created_at = min(target.created_at, thread.created_at)
    target.version = max(target.version, thread.version) + 1  # past every version either had
    audit(actor, "move", f"thread {target.id}", old=old_url, new=new_url, comments=count, merged=True,
          from_thread=thread.id, numbers=[start + 1, number] if count else [],
          site_id=access.thread_site(target))
    db.session.flush()
    db.session.execute(delete(Thread).where(Thread.id == thread.id))  # empty now
    db.session.expunge(thread)
    return Moved(old_url, new_url, count, merged=True, first_number=start + 1 if count else None,
                 last_number=number if count else None)


def apply(moves: list[tuple[str, str]], actor: AdminToken | None = None, bar=None) -> list[Moved]:
    done = []
    for old, new in moves:
        done.append(move(old, new, actor))
        if bar is not None:
            bar.update(1)
    return done
