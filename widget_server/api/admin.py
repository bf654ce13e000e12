"""Admin endpoints (Authorization: Bearer <token>): moderation of comments, bans,
thread locks, pins, the audit log and statistics.

Every state-changing request must be JSON (``validation.json_body()``; a
bodyless DELETE is the exception). The work itself is in ``moderation``.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify, request

from .. import moderation, threads, validation
from ..auth import admin_required
from ..errors import APIError, ValidationError
from ..extensions import db, limiter
from ..models import STATES, Ban, Comment, Thread
from ..serialize import admin_comment
from ..validation import MAX_ID

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

# Failed authentications (401) count against the client's one budget, shared by every
# admin endpoint (a per-endpoint budget would multiply it by the number of routes);
# once it is spent, every admin request from that client gets 429 until it refills.
limiter.shared_limit(lambda: current_app.config["RATELIMIT_ADMIN_AUTH"], scope="admin-auth",
                     deduct_when=lambda response: response.status_code == 401)(bp)

MAX_BULK = 500
MAX_QUERY = 200
MAX_REASON = 300
MAX_BAN_SECONDS = 10 * 365 * 86400
_IP_HASH_RE = re.compile(r"^[0-9a-f]{32}$")


# --- helpers -----------------------------------------------------------------------------


def _bodyless_delete() -> None:
    if request.content_length:  # a body, if any, must be JSON like every other write
        validation.json_body()


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise APIError(404, "not_found", "no such comment")
    return comment


def _excerpt(text: str, length: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _view(comment: Comment, parents: dict[int, Comment] | None = None) -> dict:
    """The admin view of API.md plus the thread and parent context for the page."""
    view = admin_comment(comment)
    view.update({"thread_id": comment.thread_id, "thread_locked": bool(comment.thread.locked),
                 "parent": None})
    if comment.parent_id is not None:
        parents = parents if parents is not None else moderation.parents_of([comment])
        parent = parents.get(comment.parent_id)
        if parent is not None:
            view["parent"] = {"id": parent.id, "number": parent.number, "author": parent.author,
                              "state": parent.state, "excerpt": _excerpt(parent.text)}
    return view


def _encode_cursor(key: tuple[datetime, int]) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(at)
        if not isinstance(last_id, int) or when.tzinfo is None:
            raise ValueError
        return when, last_id
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError({"cursor": "is not a cursor this server handed out"}) from None


def _id_cursor() -> int | None:
    raw = request.args.get("cursor") or None
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValidationError({"cursor": "is not a cursor this server handed out"})
    return int(raw)


def _query_text() -> str | None:
    q = (request.args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationError({"q": f"must be at most {MAX_QUERY} characters"})
    return q or None


# --- comments ----------------------------------------------------------------------------


@bp.get("/comments")
@admin_required
def list_comments():
    errors: dict[str, str] = {}
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        errors["state"] = "must be one of " + ", ".join(STATES)
    url = request.args.get("url") or None
    if url is not None:
        url = validation.page_url(url, errors)
    if errors:
        raise ValidationError(errors)
    q = _query_text()
    limit = validation.int_arg("limit", 50, 1, 200)
    cursor = request.args.get("cursor") or None
    after = _decode_cursor(cursor) if cursor else None
    thread_id = None
    if url is not None:
        thread = threads.find(url)
        if thread is None:
            return jsonify({"comments": [], "next_cursor": None})
        thread_id = thread.id
    rows, more = moderation.search(state, thread_id, q, limit, after)
    parents = moderation.parents_of(rows)
    return jsonify({"comments": [_view(c, parents) for c in rows],
                    "next_cursor": _encode_cursor(more) if more else None})


@bp.get("/comments/<int:comment_id>")
@admin_required
def get_comment(comment_id: int):
    return jsonify({"comment": _view(_comment_or_404(comment_id))})


def _state_action(comment_id: int, action: str):
    validation.json_body()
    comment = _comment_or_404(comment_id)
    moderation.change_state(comment, action)
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
    _bodyless_delete()
    moderation.change_state(_comment_or_404(comment_id), "delete")
    db.session.commit()
    return Response(status=204)


@bp.post("/comments/bulk")
@admin_required
def bulk_action():
    data = validation.json_body()
    errors: dict[str, str] = {}
    action = data.get("action")
    if action not in moderation.ACTIONS:
        errors["action"] = "must be one of " + ", ".join(moderation.ACTIONS)
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        errors["ids"] = "must be a non-empty list of comment ids"
    elif len(ids) > MAX_BULK:
        errors["ids"] = f"at most {MAX_BULK} ids per request"
    elif not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        errors["ids"] = "must contain only positive integers"
    if errors:
        raise ValidationError(errors)
    affected = moderation.bulk(action, sorted(set(ids)))
    db.session.commit()
    return jsonify({"affected": affected})


def _pin(comment_id: int, pinned: bool):
    validation.json_body()
    comment = _comment_or_404(comment_id)
    moderation.set_pinned(comment, pinned)
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
    limit = validation.int_arg("limit", 50, 1, 200)
    rows, more = moderation.thread_list(_query_text(), limit, _id_cursor())
    return jsonify({"threads": rows, "next_cursor": str(more) if more else None})


def _lock(thread_id: int, locked: bool):
    validation.json_body()
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise APIError(404, "not_found", "no such thread")
    moderation.set_locked(thread, locked)
    db.session.commit()
    return jsonify({"thread": {"id": thread.id, "url": thread.url, "title": thread.title,
                               "locked": bool(thread.locked)}})


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
        errors["kind"] = "must be one of " + ", ".join(moderation.BAN_KINDS)
    comment_id, value = data.get("comment_id"), data.get("value")
    comment = None
    if comment_id is not None:
        if isinstance(comment_id, bool) or not isinstance(comment_id, int) or not 1 <= comment_id <= MAX_ID:
            errors["comment_id"] = "must be a positive integer"
        elif value is not None:
            errors["value"] = "give comment_id or value, not both"
        else:
            comment = _comment_or_404(comment_id)
    elif not isinstance(value, str) or not value.strip():
        errors["comment_id"] = "give comment_id (ban that comment's author) or value"
    elif kind == "ip" and not _IP_HASH_RE.match(value.strip()):
        errors["value"] = "must be an IP hash as shown in the admin comment view"
    elif kind == "email" and not validation.EMAIL_RE.match(value.strip()):
        errors["value"] = "must be an e-mail address"
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        errors["reason"] = f"must be a string of at most {MAX_REASON} characters"
    expires_in = data.get("expires_in")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)
                                   or not 60 <= expires_in <= MAX_BAN_SECONDS):
        errors["expires_in"] = f"must be null (forever) or seconds between 60 and {MAX_BAN_SECONDS}"
    if errors:
        raise ValidationError(errors)
    return kind, comment, value, " ".join(reason.split()), expires_in


@bp.post("/bans")
@admin_required
def create_ban():
    kind, comment, value, reason, expires_in = _ban_fields(validation.json_body())
    ban = moderation.add_ban(kind, moderation.ban_value(kind, comment, value), reason, expires_in)
    db.session.commit()
    return jsonify({"ban": moderation.ban_view(ban)}), 201


@bp.get("/bans")
@admin_required
def list_bans():
    return jsonify({"bans": [moderation.ban_view(b) for b in moderation.list_bans()]})


@bp.delete("/bans/<int:ban_id>")
@admin_required
def delete_ban(ban_id: int):
    _bodyless_delete()
    ban = db.session.get(Ban, ban_id)
    if ban is None:
        raise APIError(404, "not_found", "no such ban")
    moderation.remove_ban(ban)
    db.session.commit()
    return Response(status=204)


# --- audit log and statistics ------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log():
    limit = validation.int_arg("limit", 50, 1, 200)
    rows, more = moderation.audit_page(limit, _id_cursor())
    return jsonify({"entries": [moderation.audit_view(e) for e in rows],
                    "next_cursor": str(more) if more else None})


@bp.get("/stats")
@admin_required
def statistics():
    days = validation.int_arg("days", 30, 1, 365)
    return jsonify(moderation.stats(days))
