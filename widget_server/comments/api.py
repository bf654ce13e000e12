"""Reader endpoints (called by the widget, cross-origin): /api/v1/comments and friends.

HTTP glue only: parse the request into values (``NewComment``, the client,
the signed-in account), call the comment services, commit, answer. The write
path is ``post.post()``; the read path is ``reading``.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from .. import sites, web
from ..accounts import identity
from ..clock import iso
from ..cors import require_page_allowed
from ..errors import APIError, ValidationError, problem
from ..extensions import db, rate_limit, site_rate_limit
from ..fields import comment_text
from ..metrics import COMMENTS_CREATED
from ..models import PENDING, PUBLISHED, SPAM, Comment
from ..security import client_hash, token_matches
from . import challenge, live, reactions, reading, reports, screening, service, threads, tree
from .post import Client, NewComment, earlier_post, idempotency_hash, post
from .render import render_visible
from .views import public_comment

bp = Blueprint("reader", __name__, url_prefix="/api/v1")

THREAD_CACHE_CONTROL = reading.THREAD_CACHE_CONTROL
MAX_COUNT_URLS = 100


def _not_a_mistake(response) -> bool:
    """Whether a post (or an edit) spends the client's budget: a refusal of the reader's own input
    (a validation error, "too fast", too large, not JSON) stores nothing and is fixed
    by trying again, so it does not; everything else, refusals included, does."""
    return response.status_code not in (400, 413, 415)


# Edits and deletions of own comments share one budget per client: each re-renders
# and invalidates the thread, and a wrong edit token spends it too.
_edit_limit = rate_limit("RATELIMIT_EDIT", shared_scope="edit", deduct_when=_not_a_mistake)


def _client() -> Client:
    return Client(web.client_address(), request.headers.get("User-Agent", ""),
                  request.headers.get("Referer", ""))


def _readable_url() -> str:
    """The ``url`` argument, normalized, of a page whose site is allowed, or the error."""
    errors: dict[str, str] = {}
    url = reading.page_url(request.args.get("url"), errors)
    if errors:
        raise ValidationError(errors)
    reading.require_allowed(url)
    return url


@bp.get("/comments")
def get_thread():
    errors: dict[str, str] = {}
    url = reading.page_url(request.args.get("url"), errors)
    sort = request.args.get("sort", "oldest")
    if sort not in tree.SORTS:
        errors["sort"] = problem("invalid", "must be one of " + ", ".join(tree.SORTS))
    if errors:
        raise ValidationError(errors)
    reading.require_allowed(url)
    limit = web.int_arg("limit", current_app.config["PAGE_SIZE"], 1, 200)
    cursor = request.args.get("cursor") or None
    entry = reading.thread_page(url, sort, limit, cursor)
    fast = current_app.extensions.get("widget_fast_reads")
    if fast is not None:  # ops/fastpath.py answers this query's next cache hits before Flask
        fast.remember_thread(request.environ.get("QUERY_STRING", ""), url, sort, limit, cursor)
    headers = {"Cache-Control": THREAD_CACHE_CONTROL,
               "X-Form-Token": reading.form_token(url)}  # per response, never in the cached body
    return web.conditional(entry.body, entry.etag, "application/json", headers, entry.gzipped)


@bp.post("/comments")
@rate_limit("RATELIMIT_POST", deduct_when=_not_a_mistake)
@site_rate_limit("RATELIMIT_POST_SITE", scope="post-site", deduct_when=_not_a_mistake)
def create_comment():
    data = web.json_body()
    new = NewComment.parse(data)
    require_page_allowed(new.url)
    key = idempotency_hash(request.headers.get("Idempotency-Key"))
    # A repeat of a stored post (its answer was lost on the way): answered again, stored once.
    # Before the proof of work, which the first sending has spent.
    if (earlier := earlier_post(key)) is not None:
        answer = _created(*earlier)
        db.session.commit()
        return answer
    # An optional Authorization: Bearer <session token>; 401 if it is stale.
    account = identity.posting_account(web.bearer_token())
    site = sites.for_url(new.url)
    if account is None and site.config["POW"] == "on":
        # Here, not in post(): the no-script form and imports cannot do the work.
        challenge.check(data.get("altcha"))
    comment, token = post(new, account, _client(), key)
    # The answer is taken before the commit, from what was just written: after it the row
    # would be expired and read back (one more statement) for values already in hand; it is
    # encoded after the commit (on SQLite the write lock is held until then).
    state, (body, status) = comment.state, _created_body(comment, token)
    try:
        db.session.commit()
    except IntegrityError:  # the same key sent twice at once: the other one stored it
        db.session.rollback()
        if (earlier := earlier_post(key)) is None:
            raise
        answer = _created(*earlier)
        db.session.commit()
        return answer
    COMMENTS_CREATED.labels(state).inc()
    return jsonify(body), status


def _created_body(comment: Comment, token: str) -> tuple[dict, int]:
    status = 201 if comment.state == PUBLISHED or screening.shadowed(comment) else 202
    body = {"comment": _as_its_author_sees_it(comment) | {"replies": []}, "edit_token": token,
            "editable_until": iso(service.editable_until(comment))}
    return body, status


def _created(comment: Comment, token: str):
    """The answer to a post (201 published, 202 held), made from the comment as it is in hand."""
    body, status = _created_body(comment, token)
    return jsonify(body), status


@bp.get("/challenge")
@rate_limit("RATELIMIT_CHALLENGE")
def get_challenge():
    """A proof-of-work challenge, its cost fitted to this client (comments/challenge.py)."""
    # The cost is the asking page's site's (its Origin; the server's own settings without one).
    site = sites.for_origin(request.headers.get("Origin"))
    response = jsonify(challenge.issue(web.client_address(), site.config))
    response.headers["Cache-Control"] = "no-store"  # each one is single use
    return response


def _as_its_author_sees_it(comment: Comment) -> dict:
    """Spam (honeypot, Akismet) is shown to its author exactly like a held comment, in every
    answer that takes the edit token: bots learn nothing (audit finding 7). A shadow-banned
    poster's comment is shown to them as published (only there: never in a shared answer)."""
    if screening.shadowed(comment):
        return public_comment(comment, state=PUBLISHED)
    return public_comment(comment, state=PENDING if comment.state == SPAM else None)


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int):
    comment = service.get_or_404(comment_id)
    token = request.headers.get("X-Edit-Token")
    owner = token_matches(token, comment.edit_token_hash)
    if comment.state != PUBLISHED and not (owner and comment.state in (PENDING, SPAM)):
        raise APIError(404, "not_found", "no such comment")
    body = _as_its_author_sees_it(comment) | {"replies": []}
    if owner:
        body |= {"text": comment.text, "editable_until": iso(service.editable_until(comment))}
    response = jsonify(body)
    response.vary.add("X-Edit-Token")
    if token:  # the author's own view (held, shadowed, the source text): never in a shared cache
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.patch("/comments/<int:comment_id>")
@_edit_limit
def edit_comment(comment_id: int):
    errors: dict[str, str] = {}
    text = comment_text(web.json_body(), errors)
    comment = service.authorize_edit(service.get_or_404(comment_id), request.headers.get("X-Edit-Token"))
    if errors:
        raise ValidationError(errors)
    service.edit(comment, text)
    db.session.commit()
    return jsonify({"comment": _as_its_author_sees_it(comment) | {"replies": []}})


@bp.delete("/comments/<int:comment_id>")
@_edit_limit
def delete_comment(comment_id: int):
    web.bodyless()
    comment = service.authorize_edit(service.get_or_404(comment_id), request.headers.get("X-Edit-Token"))
    service.remove(comment)
    db.session.commit()
    return Response(status=204)


@bp.post("/comments/<int:comment_id>/like")
@rate_limit("RATELIMIT_LIKE", shared_scope="like")
def like_comment(comment_id: int):
    web.json_body()
    likes = service.like(comment_id, web.client_address())
    db.session.commit()
    return jsonify({"likes": likes})


@bp.route("/reactions", methods=["POST", "DELETE"])
@rate_limit("RATELIMIT_LIKE", shared_scope="like")
def react():
    """Add (POST) or take back (DELETE) one reaction to a page (``url``) or a comment
    (``comment_id``); the target's counts after it (comments/reactions.py, issue 19)."""
    data = web.json_body()
    emoji = reactions.emoji_of(data)
    comment_id = data.get("comment_id")
    if comment_id is not None:
        if not isinstance(comment_id, int) or isinstance(comment_id, bool) or comment_id < 1:
            raise ValidationError({"comment_id": problem(
                "invalid", "must be a comment's id (a whole number)")})
        comment = reactions.published_comment(comment_id)
        thread = comment.thread
    else:
        comment, url = None, _page_of(data)
        thread = threads.get_or_create(url) if request.method == "POST" else threads.find(url)
        if thread is None:  # nothing to take back from a page no one has reacted to
            return jsonify({"reactions": {}})
    found = reactions.set_reaction(thread, comment, emoji, web.client_address(), request.method == "POST")
    db.session.commit()
    return jsonify({"reactions": found})


def _page_of(data: dict) -> str:
    errors: dict[str, str] = {}
    raw = data.get("url")
    url = reading.page_url(raw if isinstance(raw, str) else None, errors)
    if errors:
        raise ValidationError(errors)
    reading.require_allowed(url)
    return url


@bp.post("/comments/<int:comment_id>/report")
@rate_limit("RATELIMIT_REPORT")
def report_comment(comment_id: int):
    """A reader's report (comments/reports.py): 202 whether it is new or a repeat."""
    new = reports.NewReport.parse(web.json_body())
    account = identity.posting_account(web.bearer_token())
    reporter = reports.reporter_key(account.id if account else None, web.client_address())
    reports.report(comment_id, new, reporter)
    db.session.commit()
    return jsonify({"received": True}), 202


@bp.get("/counts")
def get_counts():
    raw_urls = request.args.getlist("url")
    if not raw_urls:
        raise ValidationError({"url": problem("required", "give at least one url")})
    if len(raw_urls) > MAX_COUNT_URLS:
        raise ValidationError({"url": problem(
            "too_many", f"at most {MAX_COUNT_URLS} urls per request", max=MAX_COUNT_URLS)})
    # One bad or foreign URL must not blank every count on a listing page:
    # such URLs are left out of the answer, unless no URL at all is usable.
    normalized: dict[str, str] = {}
    first_error: APIError | None = None
    for raw in raw_urls:
        errors: dict[str, str] = {}
        url = reading.page_url(raw, errors)
        try:
            if errors:
                wrong = errors["url"]
                raise ValidationError({"url": problem(wrong.code, f"{raw[:200]!r} {wrong}", **wrong.params)})
            reading.require_allowed(url)
        except APIError as exc:
            first_error = first_error or exc
            continue
        normalized[raw] = url
    if not normalized and first_error is not None:
        raise first_error
    urls = sorted(set(normalized.values()))
    found, versions = reading.counts_at(urls)
    response = jsonify({"counts": {raw: found.get(url, 0) for raw, url in normalized.items()}})
    response.headers["Cache-Control"] = THREAD_CACHE_CONTROL
    fast = current_app.extensions.get("widget_fast_reads")
    if fast is not None:  # ops/fastpath.py answers this query again while these versions stand
        fast.remember_counts(request.environ.get("QUERY_STRING", ""), tuple(urls), versions,
                             response.get_data())
    return response


@bp.get("/events")
def thread_events():
    """Server-Sent Events of one thread (docs/live.md); 503 and Retry-After past the caps."""
    url = _readable_url()
    raw = request.headers.get("Last-Event-ID", request.args.get("last_event_id", "")).strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise ValidationError({"Last-Event-ID": problem("invalid", "must be a whole number (an event's id)")})
    client = client_hash(web.client_address())
    current_app.extensions["widget_stream_slots"].take(client, current_app.config)
    events = live.stream(current_app._get_current_object(), url, lambda: reading.thread_version(url),
                         int(raw) if raw else None, client, request.environ)
    # No buffering anywhere: nginx reads X-Accel-Buffering, caches read no-store.
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.post("/preview")
@rate_limit("RATELIMIT_PREVIEW")
def preview():
    errors: dict[str, str] = {}
    text = comment_text(web.json_body(), errors)
    if errors:
        raise ValidationError(errors)
    return jsonify({"html": render_visible(text)})
