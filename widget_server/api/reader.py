"""Reader endpoints (called by the widget, cross-origin): /api/v1/comments and friends."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from .. import comments as service
from .. import threads, tree, validation
from ..cors import require_page_allowed
from ..errors import APIError, ValidationError
from ..extensions import db, limiter
from ..metrics import CACHE, COMMENTS_CREATED
from ..models import PENDING, PUBLISHED, Comment
from ..read_cache import make_entry
from ..render import render
from ..serialize import iso, public_comment

bp = Blueprint("reader", __name__, url_prefix="/api/v1")

THREAD_CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30"
MAX_COUNT_URLS = 100


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _limit(name: str):
    return limiter.limit(lambda: current_app.config[name])


def public_config() -> dict:
    cfg = current_app.config
    return {"edit_window": cfg["EDIT_WINDOW"], "moderation": cfg["MODERATION"],
            "max_text_length": cfg["MAX_TEXT_LENGTH"], "page_size": cfg["PAGE_SIZE"]}


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


@bp.get("/comments")
def get_thread():
    errors: dict[str, str] = {}
    url = validation.page_url(request.args.get("url"), errors)
    sort = request.args.get("sort", "oldest")
    if sort not in tree.SORTS:
        errors["sort"] = "must be one of " + ", ".join(tree.SORTS)
    if errors:
        raise ValidationError(errors)
    require_page_allowed(url)
    limit = validation.int_arg("limit", current_app.config["PAGE_SIZE"], 1, 200)
    cursor = request.args.get("cursor") or None

    # One cheap query for the thread's version: the cache key moves on with every change.
    version = db.session.execute(
        select(threads.Thread.id, threads.Thread.version).where(threads.Thread.url == url)
    ).first()
    key = (url, tuple(version) if version else None, sort, limit, cursor)
    cache = current_app.extensions["widget_read_cache"]
    entry = cache.get(key)
    CACHE.labels("hit" if entry else "miss").inc()
    if entry is None:
        entry = make_entry(_thread_body(url, sort, limit, cursor))
        cache.put(key, entry)

    headers = {"ETag": entry.etag, "Cache-Control": THREAD_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if entry.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        response = Response(entry.gzipped(), mimetype="application/json", headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(entry.body, mimetype="application/json", headers=headers)


@bp.post("/comments")
@_limit("RATELIMIT_POST")
def create_comment():
    fields = validation.new_comment(validation.json_body())
    require_page_allowed(fields["url"])
    comment, token = service.create(fields, _client_ip())
    db.session.commit()
    COMMENTS_CREATED.labels(comment.state).inc()
    status = 202 if comment.state == PENDING else 201
    body = {"comment": public_comment(comment) | {"replies": []}, "edit_token": token,
            "editable_until": iso(service.editable_until(comment))}
    return jsonify(body), status


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise APIError(404, "not_found", "no such comment")
    return comment


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int):
    comment = _comment_or_404(comment_id)
    token = request.headers.get("X-Edit-Token")
    owner = token is not None and service.token_matches(token, comment.edit_token_hash)
    if comment.state != PUBLISHED and not (owner and comment.state == PENDING):
        raise APIError(404, "not_found", "no such comment")
    body = public_comment(comment) | {"replies": []}
    if owner:
        body |= {"text": comment.text, "editable_until": iso(service.editable_until(comment))}
    return jsonify(body)


@bp.patch("/comments/<int:comment_id>")
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
    return jsonify({"comment": public_comment(comment) | {"replies": []}})


@bp.delete("/comments/<int:comment_id>")
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
    normalized: dict[str, str] = {}
    for raw in raw_urls:
        errors: dict[str, str] = {}
        url = validation.page_url(raw, errors)
        if errors:
            raise ValidationError({"url": f"{raw[:200]!r} {errors['url']}"})
        require_page_allowed(url)
        normalized[raw] = url
    found = service.counts(sorted(set(normalized.values())))
    response = jsonify({"counts": {raw: found.get(url, 0) for raw, url in normalized.items()}})
    response.headers["Cache-Control"] = THREAD_CACHE_CONTROL
    return response


@bp.post("/preview")
@_limit("RATELIMIT_PREVIEW")
def preview():
    errors: dict[str, str] = {}
    text = validation.comment_text(validation.json_body(), errors)
    if errors:
        raise ValidationError(errors)
    return jsonify({"html": render(text)})
