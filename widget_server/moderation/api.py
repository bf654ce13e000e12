"""Admin endpoints (Authorization: Bearer <token>): moderation of comments, bans,
thread locks, pins, the audit log and statistics.

Every state-changing request must be JSON (``web.json_body()``; a bodyless
DELETE is the exception). The work itself is in ``moderation.service``, which
is told who acts (``g.admin``, the token this request authenticated with).
"""
from __future__ import annotations

import functools
import re
from datetime import datetime

from flask import Blueprint, Response, g, jsonify, request

from .. import fields, web
from ..comments import reports, threads
from ..comments.service import get_or_404
from ..errors import APIError, ValidationError, problem
from ..extensions import db, rate_limit
from ..models import STATES, Ban, Comment, Thread
from ..pagination import decode_cursor, next_cursor, whole_numbers
from . import auth
from . import service as moderation
from .views import audit_view, ban_view, comment_view, thread_view

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

# Failed authentications (401) count against the client's one budget, shared by every
# admin endpoint (a per-endpoint budget would multiply it by the number of routes);
# once it is spent, every admin request from that client gets 429 until it refills.
rate_limit("RATELIMIT_ADMIN_AUTH", shared_scope="admin-auth",
           deduct_when=lambda response: response.status_code == 401)(bp)

MAX_BULK = 500
MAX_QUERY = 200
MAX_REASON = 300
MAX_BAN_SECONDS = 10 * 365 * 86400
_IP_HASH_RE = re.compile(r"^[0-9a-f]{32}$")


def admin_required(view):
    """Authenticate the bearer token (401 otherwise) and keep it in ``g.admin`` for the view."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.admin = auth.authenticate(web.bearer_token())
        if auth.record_use(g.admin):
            db.session.commit()
        return view(*args, **kwargs)

    return wrapper


# --- helpers -----------------------------------------------------------------------------


def _view(comment: Comment) -> dict:
    return comment_view(comment, moderation.parents_of([comment]),
                        reports.reports_of([comment.id]).get(comment.id, []))


def _time_and_id(key) -> tuple[datetime, int]:
    at, last_id = key
    when = datetime.fromisoformat(at)
    if not isinstance(last_id, int) or isinstance(last_id, bool) or when.tzinfo is None:
        raise ValueError("not a key of this list")
    return when, last_id


def _id_cursor() -> int | None:
    cursor = request.args.get("cursor") or None
    return decode_cursor(cursor, whole_numbers(1))[0] if cursor else None


def _query_text() -> str | None:
    q = (request.args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationError({"q": problem("too_long",
                                            f"must be at most {MAX_QUERY} characters", max=MAX_QUERY)})
    return q or None


# --- comments ----------------------------------------------------------------------------


@bp.get("/comments")
@admin_required
def list_comments():
    errors: dict[str, str] = {}
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        errors["state"] = problem("invalid", "must be one of " + ", ".join(STATES))
    url = request.args.get("url") or None
    if url is not None:
        url = fields.page_url(url, errors)
    if errors:
        raise ValidationError(errors)
    q = _query_text()
    limit = web.int_arg("limit", 50, 1, 200)
    cursor = request.args.get("cursor") or None
    after = decode_cursor(cursor, _time_and_id) if cursor else None
    thread_id = None
    if url is not None:
        thread = threads.find(url)
        if thread is None:
            return jsonify({"comments": [], "next_cursor": None})
        thread_id = thread.id
    reported = request.args.get("reported") in ("1", "true")
    rows, more = moderation.search(state, thread_id, q, limit, after, reported=reported)
    parents = moderation.parents_of(rows)
    found = reports.reports_of([c.id for c in rows])
    return jsonify({"comments": [comment_view(c, parents, found.get(c.id, [])) for c in rows],
                    "next_cursor": next_cursor(rows, more, lambda c: (c.created_at.isoformat(), c.id))})


@bp.get("/comments/<int:comment_id>")
@admin_required
def get_comment(comment_id: int):
    return jsonify({"comment": _view(get_or_404(comment_id))})


def _state_action(comment_id: int, action: str):
    web.json_body()
    comment = get_or_404(comment_id)
    moderation.change_state(g.admin, comment, action)
    db.session.commit()
    return jsonify({"comment": _view(comment)})


@bp.post("/comments/<int:comment_id>/approve")
@admin_required
def approve_comment(comment_id: int):
    return _state_action(comment_id, "approve")


@bp.post("/comments/<int:comment_id>/spam")
@admin_required
def spam_comment(comment_id: int):
    return _state_action(comment_id, "spam")


@bp.delete("/comments/<int:comment_id>")
@admin_required
def delete_comment(comment_id: int):
    web.bodyless()
    as_spam = request.args.get("as") == "spam"  # delete as spam: the learning filter learns it
    moderation.change_state(g.admin, get_or_404(comment_id), "delete", as_spam=as_spam)
    db.session.commit()
    return Response(status=204)


@bp.post("/comments/bulk")
@admin_required
def bulk_action():
    data = web.json_body()
    errors: dict[str, str] = {}
    action = data.get("action")
    if action not in moderation.ACTIONS:
        errors["action"] = problem("invalid", "must be one of " + ", ".join(moderation.ACTIONS))
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        errors["ids"] = problem("required", "must be a non-empty list of comment ids")
    elif len(ids) > MAX_BULK:
        errors["ids"] = problem("too_many", f"at most {MAX_BULK} ids per request", max=MAX_BULK)
    elif not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= fields.MAX_ID for i in ids):
        errors["ids"] = problem("invalid", "must contain only positive integers")
    if errors:
        raise ValidationError(errors)
    affected = moderation.bulk(g.admin, action, sorted(set(ids)))
    db.session.commit()
    return jsonify({"affected": affected})


def _pin(comment_id: int, pinned: bool):
    web.json_body()
    comment = get_or_404(comment_id)
    moderation.set_pinned(g.admin, comment, pinned)
    db.session.commit()
    return jsonify({"comment": _view(comment)})


@bp.post("/comments/<int:comment_id>/pin")
@admin_required
def pin_comment(comment_id: int):
    return _pin(comment_id, True)


@bp.post("/comments/<int:comment_id>/unpin")
@admin_required
def unpin_comment(comment_id: int):
    return _pin(comment_id, False)


# --- threads -----------------------------------------------------------------------------


@bp.get("/threads")
@admin_required
def list_threads():
    limit = web.int_arg("limit", 50, 1, 200)
    rows, more = moderation.thread_list(_query_text(), limit, _id_cursor())
    return jsonify({"threads": rows, "next_cursor": next_cursor(rows, more, lambda t: [t["id"]])})


def _lock(thread_id: int, locked: bool):
    web.json_body()
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise APIError(404, "not_found", "no such thread")
    moderation.set_locked(g.admin, thread, locked)
    db.session.commit()
    return jsonify({"thread": thread_view(thread)})


@bp.post("/threads/<int:thread_id>/lock")
@admin_required
def lock_thread(thread_id: int):
    return _lock(thread_id, True)


@bp.post("/threads/<int:thread_id>/unlock")
@admin_required
def unlock_thread(thread_id: int):
    return _lock(thread_id, False)


# --- bans --------------------------------------------------------------------------------


def _ban_fields(data: dict) -> tuple[str, Comment | None, str | None, str, int | None]:
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in moderation.BAN_KINDS:
        errors["kind"] = problem("invalid", "must be one of " + ", ".join(moderation.BAN_KINDS))
    comment_id, value = data.get("comment_id"), data.get("value")
    comment = None
    if comment_id is not None:
        if (isinstance(comment_id, bool) or not isinstance(comment_id, int)
                or not 1 <= comment_id <= fields.MAX_ID):
            errors["comment_id"] = problem("invalid", "must be a positive integer")
        elif value is not None:
            errors["value"] = problem("invalid", "give comment_id or value, not both")
        else:
            comment = get_or_404(comment_id)
    elif not isinstance(value, str) or not value.strip():
        errors["comment_id"] = problem("required", "give comment_id (ban that comment's author) or value")
    elif kind == "ip" and not _IP_HASH_RE.match(value.strip()):
        errors["value"] = problem("invalid", "must be an IP hash as shown in the admin comment view")
    elif kind == "email" and not fields.EMAIL_RE.match(value.strip()):
        errors["value"] = problem("invalid", "must be an e-mail address")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        errors["reason"] = problem("too_long",
                                   f"must be a string of at most {MAX_REASON} characters", max=MAX_REASON)
    expires_in = data.get("expires_in")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)
                                   or not 60 <= expires_in <= MAX_BAN_SECONDS):
        errors["expires_in"] = problem("invalid",
                                       f"must be null (forever) or seconds between 60 and {MAX_BAN_SECONDS}")
    if not isinstance(data.get("shadow", False), bool):
        errors["shadow"] = problem("invalid", "must be true or false")
    if errors:
        raise ValidationError(errors)
    return kind, comment, value, " ".join(reason.split()), expires_in


@bp.post("/bans")
@admin_required
def create_ban():
    data = web.json_body()
    kind, comment, value, reason, expires_in = _ban_fields(data)
    ban = moderation.add_ban(g.admin, kind, moderation.ban_value(kind, comment, value), reason, expires_in,
                             shadow=data.get("shadow", False))
    db.session.commit()
    return jsonify({"ban": ban_view(ban)}), 201


@bp.get("/bans")
@admin_required
def list_bans():
    return jsonify({"bans": [ban_view(b) for b in moderation.list_bans()]})


@bp.delete("/bans/<int:ban_id>")
@admin_required
def delete_ban(ban_id: int):
    web.bodyless()
    ban = db.session.get(Ban, ban_id)
    if ban is None:
        raise APIError(404, "not_found", "no such ban")
    moderation.remove_ban(g.admin, ban)
    db.session.commit()
    return Response(status=204)


# --- audit log and statistics ------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log():
    limit = web.int_arg("limit", 50, 1, 200)
    rows, more = moderation.audit_page(limit, _id_cursor())
    return jsonify({"entries": [audit_view(e) for e in rows],
                    "next_cursor": next_cursor(rows, more, lambda e: [e.id])})


@bp.get("/stats")
@admin_required
def statistics():
    days = web.int_arg("days", 30, 1, 365)
    found = moderation.stats(days)
    db.session.commit()  # the fold of past days' counts
    return jsonify(found)
