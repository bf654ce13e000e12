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
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, tuple_

from .. import clock
from ..clock import iso
from ..comments import learning, service, threads
from ..comments.views import public_comment
from ..delivery import events
from ..errors import APIError, ValidationError, problem
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
    CommentCount,
    Report,
    Thread,
)
from ..pagination import keyset_page
from ..security import MODERATION_LINK, MODERATION_LINK_MAX_AGE, TokenExpired, TokenInvalid, unsign
from . import access
from . import search as search_text
from .search import like_escaped

ACTIONS = ("approve", "spam", "delete")
BAN_KINDS = ("ip", "email")


# --- the audit log -----------------------------------------------------------------------


def audit(actor: AdminToken | str | None, action: str, target: str, *, site_id: int | None = None,
          **details) -> AuditEntry:
    """Record one admin action by ``actor`` (an admin token; a name such as "mail link"; None:
    the system) on the site ``site_id`` (None: every site, for a global ban or token)."""
    if isinstance(actor, AdminToken):
        details.setdefault("token_id", actor.id)
    name = actor.name if isinstance(actor, AdminToken) else actor or "system"
    entry = AuditEntry(at=clock.now(), actor=name, site_id=site_id,
                       action=action, target=target,
                       details=json.dumps(details, ensure_ascii=False, separators=(",", ":")))
    db.session.add(entry)
    return entry


def audit_page(limit: int, before: int | None, site_id: int | None = None) -> tuple[list[AuditEntry], bool]:
    """Audit entries newest first, before the entry id ``before``, of the site ``site_id`` (None:
    all); whether more follow."""
    query = (select(AuditEntry).where(access.rows_of(site_id, AuditEntry.site_id))
             .order_by(AuditEntry.id.desc()))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return keyset_page(query, limit)


# --- comments ----------------------------------------------------------------------------


def _target(comment: Comment) -> str:
    return f"comment {comment.id}"


def _context(comment: Comment) -> dict:
    return {"url": comment.thread.url, "number": comment.number,
            "site_id": access.thread_site(comment.thread)}


def change_state(actor: AdminToken | str | None, comment: Comment, action: str, *,
                 as_spam: bool = False) -> bool:
    """Approve, mark as spam or delete (``as_spam``: delete as spam) one comment. True if its state
    changed. Each decision teaches the learning filter (approving a spam comment: restoring it)."""
    before = comment.state
    label = learning.SPAM if action == "spam" or as_spam else learning.HAM if action == "approve" else None
    if label is not None and before != DELETED and comment.text:
        learning.learn(comment, label)
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


MAIL_LINK_ACTOR = "mail link"


def link_decision(token: str) -> tuple[Comment, str]:
    """The comment and action a moderation link in the admin's mail names (400 if it is forged
    or older than ``MODERATION_LINK_MAX_AGE``, 404 if the comment is gone)."""
    try:
        payload, _issued = unsign(MODERATION_LINK, token, max_age=MODERATION_LINK_MAX_AGE)
    except TokenExpired:
        raise ValidationError({"token": problem("expired",
                                                "has expired: moderate it on the moderation page")}) from None
    except TokenInvalid:
        raise ValidationError({"token": problem("invalid", "is not valid")}) from None
    if (not isinstance(payload, dict) or payload.get("a") not in ACTIONS
            or not isinstance(payload.get("c"), int)):
        raise ValidationError({"token": problem("invalid", "is not valid")})
    comment = db.session.get(Comment, payload["c"])
    if comment is None:
        raise APIError(404, "not_found", "that comment no longer exists")
    return comment, payload["a"]


def bulk(actor: AdminToken | None, action: str, ids: list[int], site_id: int | None = None) -> int:
    """Apply ``action`` to every listed comment that exists on the site ``site_id`` (None: any);
    how many changed. Another site's ids are passed over as missing ones are."""
    rows = db.session.execute(select(Comment).join(Comment.thread).where(
        Comment.id.in_(ids), access.threads_in(site_id)).order_by(Comment.id)).scalars().all()
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
    audit(actor, "lock" if locked else "unlock", f"thread {thread.id}", url=thread.url,
          site_id=access.thread_site(thread))


def search(state: str | None, thread_id: int | None, q: str | None, limit: int,
           after: tuple[datetime, int] | None, *, reported: bool = False,
           site_id: int | None = None) -> tuple[list[Comment], bool]:
    """Comments newest first, filtered, after the key ``after``; whether more follow.
    ``reported``: only comments readers have reported; ``site_id``: only that site's.

    The key is a row comparison, ``(created_at, id) < (at, id)``: with every filter there is an
    index ending in (created_at, id) that walks straight to it, however deep the page.
    """
    query = select(Comment).order_by(Comment.created_at.desc(), Comment.id.desc())
    if state:
        query = query.where(Comment.state == state)
    if reported:
        query = query.where(Comment.id.in_(select(Report.comment_id)))
    if thread_id is not None:
        query = query.where(Comment.thread_id == thread_id)
    if site_id is not None:
        query = query.where(Comment.thread_id.in_(select(Thread.id).where(access.threads_in(site_id))))
    if after is not None:
        query = query.where(tuple_(Comment.created_at, Comment.id) < tuple_(*after))
    return search_text.page(query, q, limit) if q else keyset_page(query, limit)


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


def add_ban(actor: AdminToken | None, kind: str, value: str, reason: str, expires_in: int | None,
            *, shadow: bool = False, site_id: int | None = None) -> Ban:
    """A ban (``expires_in`` seconds: a temporary one, which ends by itself) on the site ``site_id``
    (None: on every site); ``shadow``: the poster's comments are taken but shown to nobody but
    their author."""
    now = clock.now()
    ban = Ban(kind=kind, value=value, reason=reason, created_at=now,
              expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
              created_by=actor.name if actor is not None else "", shadow=shadow, site_id=site_id)
    db.session.add(ban)
    db.session.flush()
    audit(actor, "ban", f"ban {ban.id}", kind=kind, reason=reason, expires_at=iso(ban.expires_at),
          shadow=shadow, site_id=site_id)
    return ban


def remove_ban(actor: AdminToken | None, ban: Ban) -> None:
    audit(actor, "unban", f"ban {ban.id}", kind=ban.kind, reason=ban.reason, site_id=ban.site_id)
    db.session.delete(ban)


def list_bans(site_id: int | None = None) -> list[Ban]:
    """Bans newest first: a site's own (``site_id``), or all of them (None)."""
    return list(db.session.execute(select(Ban).where(access.rows_of(site_id, Ban.site_id))
                                   .order_by(Ban.id.desc())).scalars())


# --- threads and stats -------------------------------------------------------------------


def _count_of(thread_id, state: str):
    return (select(func.count()).where(Comment.thread_id == thread_id, Comment.state == state)
            .scalar_subquery())


def thread_list(q: str | None, limit: int, before: int | None,
                site_id: int | None = None) -> tuple[list[dict], bool]:
    """Threads newest first with their published and pending counts.

    The counts are correlated subqueries, so only the threads on this page are counted (each
    through ``ix_comments_thread_state``), never the whole table.
    """
    last = select(func.max(Comment.created_at)).where(Comment.thread_id == Thread.id).scalar_subquery()
    query = (select(Thread, _count_of(Thread.id, PUBLISHED), _count_of(Thread.id, PENDING), last)
             .where(access.threads_in(site_id)).order_by(Thread.id.desc()))
    if before is not None:
        query = query.where(Thread.id < before)
    if q:
        pattern = like_escaped(q)
        query = query.where(or_(Thread.url.ilike(pattern, escape="\\"),
                                Thread.title.ilike(pattern, escape="\\")))
    rows, more = keyset_page(query, limit, scalars=False)
    return [{"id": t.id, "url": t.url, "title": t.title, "locked": bool(t.locked),
             "created_at": iso(t.created_at), "published": published or 0, "pending": pending or 0,
             "last_comment_at": iso(last), "site": access.site_name(access.thread_site(t))}
            for t, published, pending, last in rows], more


def _fold_past_days(today: str, site_id: int | None = None) -> None:
    """One row per past day, state and site in ``comment_counts`` (the triggers add one per
    change), of every site or of ``site_id``'s rows only.

    Costs what changed since the last fold; rows of the current day stay as they are. Concurrent
    folds are safe: each sums and re-adds only the rows its own DELETE removed.
    """
    table = CommentCount.__table__
    scattered = db.session.execute(
        select(table.c.day, table.c.state, table.c.site_id)
        .where(table.c.day < today, access.threads_in(site_id, table.c.site_id))
        .group_by(table.c.day, table.c.state, table.c.site_id).having(func.count() > 1)).all()
    for day, state, site in scattered:
        of_site = table.c.site_id.is_(None) if site is None else table.c.site_id == site
        removed = db.session.execute(
            delete(table).where(table.c.day == day, table.c.state == state, of_site)
            .returning(table.c.n)).scalars()
        total = sum(removed)
        if total:
            db.session.execute(table.insert().values(day=day, state=state, site_id=site, n=total))


def _counts(first: str, site_id: int | None) -> tuple[list, list]:
    """Per day (from ``first``) and state, and per state, read from ``comment_counts``: of the
    whole server, or of one site through ``ix_comment_counts_site_day`` (its rows only)."""
    _fold_past_days(clock.now().date().isoformat(), site_id)
    table = CommentCount.__table__
    mine = access.threads_in(site_id, table.c.site_id)
    return (db.session.execute(select(table.c.day, table.c.state, func.sum(table.c.n))
                               .where(mine, table.c.day >= first).group_by(table.c.day, table.c.state)).all(),
            db.session.execute(select(table.c.state, func.sum(table.c.n)).where(mine)
                               .group_by(table.c.state)).all())


def stats(days: int, site_id: int | None = None) -> dict:
    """Comments created per UTC day (by their state now), the last ``days`` days, and totals, of
    one site (``site_id``) or of the whole server (None).

    Both are read from ``comment_counts`` (kept by triggers, with the site of each comment's
    thread), whose size grows with the number of days and sites the server has had, not with
    its comments; past days are folded first (the caller commits).
    """
    first = clock.now().date() - timedelta(days=days - 1)
    by_day, by_state = _counts(first.isoformat(), site_id)
    per_day: dict[str, Counter] = {}
    for day, state, count in by_day:
        per_day.setdefault(day, Counter())[state] += int(count)
    series = []
    for n in range(days):
        day = (first + timedelta(days=n)).isoformat()
        found = per_day.get(day, Counter())
        series.append({"date": day, **{state: found[state] for state in STATES}})
    totals = dict.fromkeys(STATES, 0)
    for state, count in by_state:
        if state in totals:
            totals[state] = int(count)
    return {"days": series, "totals": totals}
