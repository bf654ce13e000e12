"""What admins do to comments, threads and posters, each step written to the audit log.

The admin views validate input and call these with the acting token
(``actor``; None for the command line); every function that changes something
records an ``AuditEntry`` (who: the token's name; what; the change) and bumps
the thread version (``threads.touch``) so cached reads move on. The caller
commits.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select

from .. import clock
from ..clock import iso
from ..comments import service, threads
from ..comments.views import public_comment
from ..delivery import events
from ..errors import APIError
from ..extensions import db
from ..models import (
    DELETED,
    PENDING,
    PUBLISHED,
    SPAM,
    STATES,
    AdminToken,
    AuditEntry,
    Ban,
    Comment,
    Thread,
)
from ..pagination import keyset_page

ACTIONS = ("approve", "spam", "delete")
BAN_KINDS = ("ip", "email")


# --- the audit log -----------------------------------------------------------------------


def audit(actor: AdminToken | None, action: str, target: str, **details) -> AuditEntry:
    """Record one admin action by ``actor`` (an admin token; None: the system)."""
    if actor is not None:
        details.setdefault("token_id", actor.id)
    entry = AuditEntry(at=clock.now(), actor=actor.name if actor is not None else "system",
                       action=action, target=target,
                       details=json.dumps(details, ensure_ascii=False, separators=(",", ":")))
    db.session.add(entry)
    return entry


def audit_page(limit: int, before: int | None) -> tuple[list[AuditEntry], bool]:
    """Audit entries newest first, before the entry id ``before``; whether more follow."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return keyset_page(query, limit)


# --- comments ----------------------------------------------------------------------------


def _target(comment: Comment) -> str:
    return f"comment {comment.id}"


def _context(comment: Comment) -> dict:
    return {"url": comment.thread.url, "number": comment.number}


def change_state(actor: AdminToken | None, comment: Comment, action: str) -> bool:
    """Approve, mark as spam or delete one comment. True if its state changed."""
    before = comment.state
    if action == "delete":
        if before == DELETED:
            return False
        context = _context(comment)
        service.remove(comment)
    else:
        wanted = PUBLISHED if action == "approve" else SPAM
        if before == wanted:
            return False
        if before == DELETED:
            raise APIError(409, "conflict", "a deleted comment cannot be restored")
        context = _context(comment)
        service.set_state(comment, wanted)  # publishing announces it (delivery.events)
    audit(actor, action, _target(comment), **{"from": before, "to": comment.state}, **context)
    return True


def bulk(actor: AdminToken | None, action: str, ids: list[int]) -> int:
    """Apply ``action`` to every listed comment that exists; how many changed."""
    rows = db.session.execute(select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id)).scalars().all()
    changed: list[int] = []
    for comment in rows:
        if action != "delete" and comment.state == DELETED:
            continue  # bulk skips what cannot change instead of failing the batch
        if change_state(actor, comment, action):
            changed.append(comment.id)
    return len(changed)


def set_pinned(actor: AdminToken | None, comment: Comment, pinned: bool) -> None:
    if pinned and (comment.state != PUBLISHED or comment.parent_id is not None):
        raise APIError(409, "conflict", "only a published top-level comment can be pinned")
    if bool(comment.pinned) != pinned:
        comment.pinned = pinned
        threads.touch(comment.thread_id)
        events.comment_shown(comment.thread_id, "pinned" if pinned else "unpinned", public_comment(comment))
    audit(actor, "pin" if pinned else "unpin", _target(comment), **_context(comment))


def set_locked(actor: AdminToken | None, thread: Thread, locked: bool) -> None:
    if bool(thread.locked) != locked:
        thread.locked = locked
        threads.touch(thread.id)
        events.thread_shown(thread.id, "locked" if locked else "unlocked",
                            {"url": thread.url, "locked": locked})
    audit(actor, "lock" if locked else "unlock", f"thread {thread.id}", url=thread.url)


def _like_escaped(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(state: str | None, thread_id: int | None, q: str | None, limit: int,
           after: tuple[datetime, int] | None) -> tuple[list[Comment], bool]:
    """Comments newest first, filtered, after the key ``after``; whether more follow."""
    query = select(Comment).order_by(Comment.created_at.desc(), Comment.id.desc())
    if state:
        query = query.where(Comment.state == state)
    if thread_id is not None:
        query = query.where(Comment.thread_id == thread_id)
    if q:
        pattern = _like_escaped(q)
        query = query.where(or_(Comment.text.ilike(pattern, escape="\\"),
                                Comment.author.ilike(pattern, escape="\\"),
                                Comment.email.ilike(pattern, escape="\\")))
    if after is not None:
        at, last_id = after
        query = query.where(or_(Comment.created_at < at,
                                and_(Comment.created_at == at, Comment.id < last_id)))
    return keyset_page(query, limit)


def parents_of(rows: list[Comment]) -> dict[int, Comment]:
    ids = {c.parent_id for c in rows if c.parent_id is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(select(Comment).where(Comment.id.in_(ids))).scalars()}


# --- bans --------------------------------------------------------------------------------


def ban_value(kind: str, comment: Comment | None, value: str) -> str:
    """What to ban: the comment author's ip_hash or e-mail, or a value given directly."""
    if comment is not None:
        value = comment.ip_hash if kind == "ip" else comment.email
        if not value:
            raise APIError(409, "conflict", f"that comment has no {'IP hash' if kind == 'ip' else 'e-mail'}")
    return value.strip().lower() if kind == "email" else value.strip()


def add_ban(actor: AdminToken | None, kind: str, value: str, reason: str, expires_in: int | None) -> Ban:
    now = clock.now()
    ban = Ban(kind=kind, value=value, reason=reason, created_at=now,
              expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
              created_by=actor.name if actor is not None else "")
    db.session.add(ban)
    db.session.flush()
    audit(actor, "ban", f"ban {ban.id}", kind=kind, reason=reason, expires_at=iso(ban.expires_at))
    return ban


def remove_ban(actor: AdminToken | None, ban: Ban) -> None:
    audit(actor, "unban", f"ban {ban.id}", kind=ban.kind, reason=ban.reason)
    db.session.delete(ban)


def list_bans() -> list[Ban]:
    return list(db.session.execute(select(Ban).order_by(Ban.id.desc())).scalars())


# --- threads and stats -------------------------------------------------------------------


def thread_list(q: str | None, limit: int, before: int | None) -> tuple[list[dict], bool]:
    """Threads newest first with their published and pending counts."""
    counts = (
        select(Comment.thread_id,
               func.count().filter(Comment.state == PUBLISHED).label("published"),
               func.count().filter(Comment.state == PENDING).label("pending"),
               func.max(Comment.created_at).label("last_comment_at"))
        .group_by(Comment.thread_id).subquery()
    )
    query = (select(Thread, counts.c.published, counts.c.pending, counts.c.last_comment_at)
             .outerjoin(counts, counts.c.thread_id == Thread.id)
             .order_by(Thread.id.desc()))
    if before is not None:
        query = query.where(Thread.id < before)
    if q:
        pattern = _like_escaped(q)
        query = query.where(or_(Thread.url.ilike(pattern, escape="\\"),
                                Thread.title.ilike(pattern, escape="\\")))
    rows, more = keyset_page(query, limit, scalars=False)
    return [{"id": t.id, "url": t.url, "title": t.title, "locked": bool(t.locked),
             "created_at": iso(t.created_at), "published": published or 0, "pending": pending or 0,
             "last_comment_at": iso(last)}
            for t, published, pending, last in rows], more


def stats(days: int) -> dict:
    """Comments created per UTC day (by their state now), the last ``days`` days."""
    today = clock.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    per_day: dict[str, Counter] = {}
    for created_at, state in db.session.execute(
            select(Comment.created_at, Comment.state).where(Comment.created_at >= start)):
        per_day.setdefault(created_at.date().isoformat(), Counter())[state] += 1
    series = []
    for n in range(days):
        day = (first + timedelta(days=n)).isoformat()
        found = per_day.get(day, Counter())
        series.append({"date": day, **{state: found[state] for state in STATES}})
    totals = dict.fromkeys(STATES, 0)
    for state, count in db.session.execute(select(Comment.state, func.count()).group_by(Comment.state)):
        totals[state] = count
    return {"days": series, "totals": totals}
