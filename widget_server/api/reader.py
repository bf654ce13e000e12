"""Reader endpoints (called by the widget, cross-origin): /api/v1/comments and friends."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import bindparam, select

from .. import antispam, clock, threads, tree, validation
from .. import comments as service
from ..cors import require_page_allowed
from ..errors import APIError, ValidationError
from ..extensions import db, limiter
from ..metrics import CACHE, COMMENTS_CREATED
from ..models import PENDING, PUBLISHED, SPAM, Comment
from ..read_cache import make_entry
from ..render import render
from ..security import token_matches
from ..serialize import iso, public_comment

bp = Blueprint("reader", __name__, url_prefix="/api/v1")

THREAD_CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30"
MAX_COUNT_URLS = 100


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _limit(name: str, **options):
    return limiter.limit(lambda: current_app.config[name], **options)


def _not_a_mistake(response) -> bool:
    """Whether a post (or an edit) spends the client's budget: a refusal of the reader's own input
    (a validation error, "too fast", too large, not JSON) stores nothing and is fixed
    by trying again, so it does not; everything else, refusals included, does."""
    return response.status_code not in (400, 413, 415)


# Edits and deletions of own comments share one budget per client: each re-renders
# and invalidates the thread, and a wrong edit token spends it too.
_edit_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_EDIT"], scope="edit",
                                   deduct_when=_not_a_mistake)


def public_config() -> dict:
    cfg = current_app.config
    return {"edit_window": cfg["EDIT_WINDOW"], "moderation": cfg["MODERATION"],
            "max_text_length": cfg["MAX_TEXT_LENGTH"], "page_size": cfg["PAGE_SIZE"],
            "accounts": accounts_enabled(), "anonymous_posting": cfg["ANONYMOUS_POSTING"],
            "notifications": bool(cfg.get("SMTP_URL"))}


def accounts_enabled() -> bool:
    from ..accounts import enabled

    return enabled()


def _thread_body(url: str, sort: str, limit: int, cursor: str | None) -> bytes:
    thread = threads.find(url)
    if thread is None:
        top_level, info = [], {"url": url, "title": "", "comment_count": 0, "locked": False}
    else:
        rows = db.session.execute(select(Comment).where(Comment.thread_id == thread.id)).scalars()
        top_level = tree.build(rows)
        info = {"url": thread.url, "title": thread.title,
                "comment_count": tree.count_visible(top_level), "locked": thread.locked}
    items, next_cursor = tree.page(top_level, sort, limit, cursor)
    payload = {"thread": info, "comments": items, "next_cursor": next_cursor, "config": public_config()}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


_THREADS = threads.Thread.__table__
_VERSION_QUERY = select(_THREADS.c.id, _THREADS.c.version).where(_THREADS.c.url == bindparam("url"))


def _read_connection():
    """A pooled connection for one read statement: no ORM session (half the cost on the
    hot path) and autocommit (no BEGIN/ROLLBACK round trips on PostgreSQL)."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _memo(name: str) -> dict:
    memo = current_app.extensions.setdefault(name, {})
    if len(memo) > 8192:
        memo.clear()
    return memo


def _page_url(raw: str | None, errors: dict[str, str]) -> str:
    """``validation.page_url``, remembered for good URLs: the read path sees the same few often."""
    memo = _memo("widget_page_urls")
    url = memo.get(raw)
    if url is None:
        url = validation.page_url(raw, errors)
        if not errors and raw is not None:
            memo[raw] = url
    return url


def _require_page_allowed(url: str) -> None:
    """``require_page_allowed``, remembered for allowed pages."""
    memo = _memo("widget_allowed_pages")
    if url not in memo:
        require_page_allowed(url)
        memo[url] = True


def _form_token(url: str) -> str:
    """``antispam.form_token(url)``, signed once per page and second (it carries whole seconds)."""
    tokens = current_app.extensions.setdefault("widget_form_tokens", {})
    second = int(clock.now().timestamp())
    cached = tokens.get(url)
    if cached is not None and cached[0] == second:
        return cached[1]
    token = antispam.form_token(url)
    if int(clock.now().timestamp()) == second:  # not across a second boundary: reusable
        if len(tokens) > 4096:
            tokens.clear()
        tokens[url] = (second, token)
    return token


@bp.get("/comments")
def get_thread():
    errors: dict[str, str] = {}
    url = _page_url(request.args.get("url"), errors)
    sort = request.args.get("sort", "oldest")
    if sort not in tree.SORTS:
        errors["sort"] = "must be one of " + ", ".join(tree.SORTS)
    if errors:
        raise ValidationError(errors)
    _require_page_allowed(url)
    limit = validation.int_arg("limit", current_app.config["PAGE_SIZE"], 1, 200)
    cursor = request.args.get("cursor") or None

    # One cheap query for the thread's version: the cache key moves on with every change.
    with _read_connection() as connection:
        version = connection.execute(_VERSION_QUERY, {"url": url}).first()
    key = (url, tuple(version) if version else None, sort, limit, cursor)
    cache = current_app.extensions["widget_read_cache"]
    entry = cache.get(key)
    CACHE.labels("hit" if entry else "miss").inc()
    if entry is None:
        entry = make_entry(_thread_body(url, sort, limit, cursor))
        cache.put(key, entry)

    headers = {"ETag": entry.etag, "Cache-Control": THREAD_CACHE_CONTROL, "Vary": "Accept-Encoding",
               "X-Form-Token": _form_token(url)}  # per response, never in the cached body
    if request.if_none_match.contains_weak(entry.etag.strip('"')):
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        response = Response(entry.gzipped(), mimetype="application/json", headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(entry.body, mimetype="application/json", headers=headers)


@bp.post("/comments")
@_limit("RATELIMIT_POST", deduct_when=_not_a_mistake)
def create_comment():
    data = validation.json_body()
    fields = validation.new_comment(data) | antispam.extra_fields(data)
    require_page_allowed(fields["url"])
    from .. import accounts  # optional Authorization: Bearer <session token>; 401 if it is stale

    fields["account"] = accounts.posting_account()
    comment, token = service.create(fields, _client_ip())
    db.session.commit()
    COMMENTS_CREATED.labels(comment.state).inc()
    status = 201 if comment.state == PUBLISHED else 202
    body = {"comment": _as_its_author_sees_it(comment) | {"replies": []}, "edit_token": token,
            "editable_until": iso(service.editable_until(comment))}
    return jsonify(body), status


def _as_its_author_sees_it(comment: Comment) -> dict:
    """Spam (honeypot, Akismet) is shown to its author exactly like a held comment, in every
    answer that takes the edit token: bots learn nothing (audit finding 7)."""
    return public_comment(comment, state=PENDING if comment.state == SPAM else None)


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise APIError(404, "not_found", "no such comment")
    return comment


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    token = request.headers.get("X-Edit-Token")
    owner = token_matches(token, comment.edit_token_hash)
    if comment.state != PUBLISHED and not (owner and comment.state in (PENDING, SPAM)):
        raise APIError(404, "not_found", "no such comment")
    body = _as_its_author_sees_it(comment) | {"replies": []}
    if owner:
        body |= {"text": comment.text, "editable_until": iso(service.editable_until(comment))}
    return jsonify(body)


@bp.patch("/comments/<int:comment_id>")
@_edit_limit
def edit_comment(comment_id: int):
    data = validation.json_body()
    errors: dict[str, str] = {}
    text = validation.comment_text(data, errors)
    comment = service.authorize_edit(db.session.get(Comment, comment_id),
                                     request.headers.get("X-Edit-Token"))
    if errors:
        raise ValidationError(errors)
    service.edit(comment, text)
    db.session.commit()
    return jsonify({"comment": _as_its_author_sees_it(comment) | {"replies": []}})


@bp.delete("/comments/<int:comment_id>")
@_edit_limit
def delete_comment(comment_id: int):
    if request.content_length:  # a body, if any, must be JSON like every other write
        validation.json_body()
    comment = service.authorize_edit(db.session.get(Comment, comment_id),
                                     request.headers.get("X-Edit-Token"))
    service.remove(comment)
    db.session.commit()
    return Response(status=204)


@bp.post("/comments/<int:comment_id>/like")
@_limit("RATELIMIT_LIKE")
def like_comment(comment_id: int):
    validation.json_body()
    likes = service.like(comment_id, _client_ip())
    db.session.commit()
    return jsonify({"likes": likes})


@bp.get("/counts")
def get_counts():
    raw_urls = request.args.getlist("url")
    if not raw_urls:
        raise ValidationError({"url": "give at least one url"})
    if len(raw_urls) > MAX_COUNT_URLS:
        raise ValidationError({"url": f"at most {MAX_COUNT_URLS} urls per request"})
    # One bad or foreign URL must not blank every count on a listing page:
    # such URLs are left out of the answer, unless no URL at all is usable.
    normalized: dict[str, str] = {}
    first_error: APIError | None = None
    for raw in raw_urls:
        errors: dict[str, str] = {}
        url = _page_url(raw, errors)
        try:
            if errors:
                raise ValidationError({"url": f"{raw[:200]!r} {errors['url']}"})
            _require_page_allowed(url)
        except APIError as exc:
            first_error = first_error or exc
            continue
        normalized[raw] = url
    if not normalized and first_error is not None:
        raise first_error
    found = _cached_counts(sorted(set(normalized.values())))
    response = jsonify({"counts": {raw: found.get(url, 0) for raw, url in normalized.items()}})
    response.headers["Cache-Control"] = THREAD_CACHE_CONTROL
    return response


_VERSIONS_QUERY = select(_THREADS.c.url, _THREADS.c.version).where(
    _THREADS.c.url.in_(bindparam("urls", expanding=True)))


def _cached_counts(urls: list[str]) -> dict[str, int]:
    """Counts keyed, like threads, by the versions of the threads asked for: one
    index lookup per page instead of counting comments, until one of them changes."""
    with _read_connection() as connection:
        versions = tuple(sorted(map(tuple, connection.execute(_VERSIONS_QUERY, {"urls": urls}))))
    memo = _memo("widget_counts")
    key = (tuple(urls), versions)
    found = memo.get(key)
    if found is None:
        found = memo[key] = service.counts(urls) if versions else {}
    return found


@bp.post("/preview")
@_limit("RATELIMIT_PREVIEW")
def preview():
    errors: dict[str, str] = {}
    text = validation.comment_text(validation.json_body(), errors)
    if errors:
        raise ValidationError(errors)
    return jsonify({"html": render(text)})
