"""Allowlist out for moderators: what the admin API shows of comments, bans and the audit log.

The admin view of a comment adds exactly the fields API.md names (``url``,
``text``, ``email``, ``ip_hash``) plus the context the moderation page needs.
"""
from __future__ import annotations

import json
from datetime import datetime

from .. import clock
from ..clock import iso
from ..comments.views import public_comment
from ..models import PUBLISHED, AdminToken, AuditEntry, Ban, Comment, Report, Thread
from . import access


def admin_comment(c: Comment) -> dict:
    view = public_comment(c, state=PUBLISHED)
    view.update({"state": c.state, "url": c.thread.url, "title": c.thread.title,
                 "text": c.text, "email": c.email, "ip_hash": c.ip_hash, "held_reason": c.held_reason})
    return view


def excerpt(text: str, length: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def comment_view(comment: Comment, parents: dict[int, Comment], reports: list[Report] = ()) -> dict:
    """The admin view of API.md plus the thread and parent context and readers' reports for the page."""
    view = admin_comment(comment)
    view.update({"thread_id": comment.thread_id, "thread_locked": bool(comment.thread.locked),
                 "site": access.site_name(access.thread_site(comment.thread)),
                 "parent": None,
                 "reports": [{"reason": r.reason, "note": r.note, "at": iso(r.created_at)} for r in reports]})
    parent = parents.get(comment.parent_id) if comment.parent_id is not None else None
    if parent is not None:
        view["parent"] = {"id": parent.id, "number": parent.number, "author": parent.author,
                          "state": parent.state, "excerpt": excerpt(parent.text)}
    return view


def thread_view(thread: Thread) -> dict:
    return {"id": thread.id, "url": thread.url, "title": thread.title, "locked": bool(thread.locked),
            "site": access.site_name(access.thread_site(thread))}


def ban_view(ban: Ban, now: datetime | None = None) -> dict:
    now = now or clock.now()
    return {"id": ban.id, "kind": ban.kind, "value": ban.value, "reason": ban.reason,
            "created_at": iso(ban.created_at), "expires_at": iso(ban.expires_at),
            "created_by": ban.created_by, "active": ban.expires_at is None or ban.expires_at > now,
            "shadow": bool(ban.shadow), "site": access.site_name(ban.site_id)}


def audit_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "details": json.loads(entry.details or "{}"),
            "site": access.site_name(entry.site_id)}


def token_view(token: AdminToken) -> dict:
    """An admin token as the API shows it: never the token, never its hash."""
    return {"id": token.id, "name": token.name, "site": access.site_name(token.site_id),
            "role": access.role(token), "created_at": iso(token.created_at),
            "last_used_at": iso(token.last_used_at), "revoked": token.revoked_at is not None}
