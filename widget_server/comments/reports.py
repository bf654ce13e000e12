"""Readers' reports of comments: "Report" on every published comment.

A reader is their account when signed in, else the keyed hash of their canonical
address (an IPv6 client by its /64, as everywhere: ``security.client_address``), so
one reader reports a comment once however often they press the button. When
``WIDGET_REPORT_THRESHOLD`` distinct readers have reported a published comment it is
held for review (``pending``, with the reasons as its ``held_reason``); /admin lists
reported comments with their reasons. A report of illegal content tells the admin by
mail at once (``delivery.events.comment_reported``): the notice-and-action flow the
EU's Digital Services Act asks of hosting services.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, fields
from ..delivery import events
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..models import PENDING, PUBLISHED, AuditEntry, Comment, Report
from ..security import client_address, subject_hash
from . import threads

REASONS = ("spam", "abusive", "off_topic", "illegal")
ILLEGAL = "illegal"
MAX_NOTE = 500


@dataclass(frozen=True)
class NewReport:
    reason: str
    note: str = ""

    @classmethod
    def parse(cls, data: dict) -> NewReport:
        """Allowlist in: ``reason`` (one of REASONS) and ``note`` (required for illegal content)."""
        errors: dict[str, str] = {}
        reason = data.get("reason")
        if reason not in REASONS:
            errors["reason"] = problem("invalid", "must be one of " + ", ".join(REASONS))
        note = fields.text_field(data, "note", errors, max_len=MAX_NOTE, multiline=True) or ""
        if reason == ILLEGAL and not note.strip() and "note" not in errors:
            errors["note"] = problem("required",
                                     "is required for illegal content: say briefly what is illegal and why")
        if errors:
            raise ValidationError(errors)
        return cls(reason, note.strip())


def reporter_key(account_id: int | None, address: str) -> str:
    """Who reports: the account, or else the canonical client address, keyed (never stored raw)."""
    who = f"account:{account_id}" if account_id is not None else f"address:{client_address(address)}"
    return subject_hash("reporter", who)


def report(comment_id: int, new: NewReport, reporter: str) -> bool:
    """Record one reader's report; True if it is new (a repeat changes nothing). The caller commits."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.state != PUBLISHED:
        raise APIError(404, "not_found", "no such comment")
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = db.session.execute(
        insert(Report).values(comment_id=comment.id, reporter=reporter, reason=new.reason, note=new.note,
                              created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["comment_id", "reporter"]).returning(Report.id)
    ).first()
    if added is None:
        return False
    if new.reason == ILLEGAL:
        events.comment_reported(comment, new.reason, new.note)
    _hold_when_reported_enough(comment)
    return True


def _hold_when_reported_enough(comment: Comment) -> None:
    reasons = reasons_of([comment.id]).get(comment.id, Counter())
    readers = sum(reasons.values())
    if readers < current_app.config["REPORT_THRESHOLD"]:
        return
    summary = ", ".join(f"{reason} \u00d7{n}" for reason, n in reasons.most_common())
    comment.state = PENDING
    comment.held_reason = f"reported by {readers} readers ({summary})"[:200]
    threads.touch(comment.thread_id)
    db.session.add(AuditEntry(at=clock.now(), actor="readers", action="hold-reported",
                              target=f"comment {comment.id}",
                              details=json.dumps({"readers": readers, "reasons": dict(reasons)})))


def reasons_of(comment_ids: list[int]) -> dict[int, Counter]:
    """How many readers reported each comment, by reason."""
    if not comment_ids:
        return {}
    rows = db.session.execute(
        select(Report.comment_id, Report.reason, func.count())
        .where(Report.comment_id.in_(comment_ids)).group_by(Report.comment_id, Report.reason)
    ).all()
    found: dict[int, Counter] = {}
    for comment_id, reason, n in rows:
        found.setdefault(comment_id, Counter())[reason] = n
    return found


def reports_of(comment_ids: list[int], limit: int = 20) -> dict[int, list[Report]]:
    """The reports themselves (newest first, at most ``limit`` per comment), for /admin."""
    if not comment_ids:
        return {}
    rows = db.session.execute(
        select(Report).where(Report.comment_id.in_(comment_ids)).order_by(Report.id.desc())
    ).scalars()
    found: dict[int, list[Report]] = {}
    for row in rows:
        kept = found.setdefault(row.comment_id, [])
        if len(kept) < limit:
            kept.append(row)
    return found
