"""Threads as HTML (docs/server-rendering.md): the fragment an article includes, the /t page for
readers without JavaScript, its plain form, and the stylesheet that makes both look like the widget.

HTTP glue only: the rendering is ``html.render`` (cached like the JSON thread), the write path is
``post.post()``, the same as the widget's. POST /t is the one write that is not JSON: the origin
check and a signed form token stand in for ``Content-Type: application/json`` (docs/security.md).
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, redirect, request
from flask_limiter.errors import RateLimitExceeded

from .. import sites, web
from ..cors import origin_allowed, require_page_allowed
from ..errors import APIError, ValidationError, problem, retry_after
from ..extensions import db, rate_limit, site_rate_limit
from ..metrics import COMMENTS_CREATED
from ..models import PUBLISHED
from . import html, locale, reading, tree
from .post import Client, NewComment, post

bp = Blueprint("thread_pages", __name__)

# Like the JSON thread's (comments/api.py): shared caches keep it five seconds, browsers revalidate.
THREAD_CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30"
# The /t page: no script at all, styles and the form only from here.
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")
FORM_FIELDS = ("url", "text", "author", "email", "website", "form_token", "homepage")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _view(kind: str) -> html.View:
    """The thread asked for, as the JSON read checks it: a good URL on an allowed site, a sort."""
    errors: dict[str, str] = {}
    args = request.args
    url = reading.page_url(args.get("url"), errors)
    sort = args.get("sort") or "oldest"
    if sort not in tree.SORTS:
        errors["sort"] = problem("invalid", "must be one of " + ", ".join(tree.SORTS))
    # The page's site's defaults where the link says nothing (its default_lang, default_theme).
    site = sites.for_url(url) if url else None
    defaults = site.config if site else current_app.config
    theme = args.get("theme") or defaults.get("DEFAULT_THEME") or "light"
    if theme not in html.THEMES:
        errors["theme"] = problem("invalid", "must be one of " + ", ".join(html.THEMES))
    if errors:
        raise ValidationError(errors)
    reading.require_allowed(url)
    notice = args.get("posted", "")
    lang = locale.language(args.get("lang") or str(defaults.get("DEFAULT_LANG") or "") or None)
    return html.View(kind, url, sort, args.get("cursor") or None, lang, theme,
                     reply_to=web.int_arg("reply", 0, 0, 2**53) or None if kind == html.PAGE else None,
                     notice=notice if kind == html.PAGE and (notice == "held" or notice.isdigit()) else None)


def _answer(view: html.View, headers: dict[str, str]) -> Response:
    rendered = html.render(view)
    token = reading.form_token(view.url)
    headers = {"Cache-Control": THREAD_CACHE_CONTROL, "X-Content-Type-Options": "nosniff", **headers}
    response = web.conditional(rendered.body(token), rendered.etag, "text/html", headers,
                               lambda: rendered.gzipped(token))
    return response


@bp.get("/api/v1/comments.html")
def fragment():
    """The thread's first page (or the page at ``cursor``) to include in the article."""
    return _answer(_view(html.FRAGMENT), {})


@bp.get("/t")
def thread_page():
    """The thread on a page of our own: readers without JavaScript, the widget's <noscript> link.
    Readers land here from a link, so a page that cannot be shown is a short HTML page for them,
    not the JSON error (whose wording is for the site owner)."""
    try:
        view = _view(html.PAGE)
    except APIError as exc:
        return _unavailable(exc)
    return _answer(view, {"Content-Security-Policy": PAGE_CSP})


def _unavailable(exc: APIError) -> Response:
    if exc.status == 403:  # a page on a site this server does not serve
        message = "Comments are not available on this page."
    else:
        message = "This link does not lead to a discussion: " + "; ".join(
            f"{name} {problem}" for name, problem in (exc.fields or {}).items()) + "."
    response = web.link_page(exc.status, title="No comments here", message=message)
    response.headers.update(exc.headers)
    return response


# --- the plain form ---------------------------------------------------------------------------


def _not_a_mistake(response) -> bool:
    """Like the JSON post: a refusal of the reader's own input does not spend the budget."""
    return response.status_code not in (400, 413, 415)


def _form_values() -> dict:
    form = request.form
    values: dict = {name: form.get(name, "") for name in FORM_FIELDS}
    for name in ("email", "website"):
        values[name] = values[name].strip() or None
    parent = form.get("parent_id", "").strip()
    values["parent_id"] = int(parent) if parent.isdigit() and len(parent) < 16 else (parent or None)
    values["notify"] = form.get("notify") in ("true", "on")  # a checkbox: there or not
    values["lang"] = form.get("lang")  # the page's language: the notification mails'
    return values


def _check_origin() -> None:
    """A browser's cross-site post names its page's origin: it must be an allowed site (or ours).
    No Origin at all (text browsers, old browsers) leaves the signed form token to decide."""
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin):
        raise APIError(403, "origin_not_allowed", "posts from this site are not allowed here")


def _held_reason(config) -> str | None:
    if config["NOSCRIPT_POSTS"] == "held":
        return "posted without JavaScript, so without proof of work (WIDGET_NOSCRIPT_POSTS=held)"
    return None


@bp.post("/t")
@rate_limit("RATELIMIT_POST", deduct_when=_not_a_mistake)
@site_rate_limit("RATELIMIT_POST_SITE", scope="post-site", deduct_when=_not_a_mistake)
def post_form():
    """A comment from the /t form (or the fragment's): stored through the same write path as the
    widget's, then 303 back to the thread with a message; a refusal is the page again, filled in."""
    values = _form_values()
    config = sites.for_url(values["url"]).config if isinstance(values["url"], str) else current_app.config
    view = html.View(html.PAGE, values["url"], lang=locale.language(request.form.get("lang")))
    try:
        if request.mimetype not in FORM_TYPES:
            raise APIError(415, "unsupported_media_type",
                           "send the form as application/x-www-form-urlencoded")
        if config["NOSCRIPT_POSTS"] == "off":
            raise APIError(403, "forbidden", "posting without JavaScript is off on this site")
        _check_origin()
        if not values["form_token"]:
            raise APIError(400, "invalid_form_token", "the form has expired; please send it again")
        new = replace(NewComment.parse(values), held=_held_reason(config))
        view = replace(view, url=new.url)
        require_page_allowed(new.url)
        client = Client(web.client_address(), request.headers.get("User-Agent", ""),
                        request.headers.get("Referer", ""))
        comment, _edit_token = post(new, None, client)
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        return _refused(view, values, exc)
    COMMENTS_CREATED.labels(comment.state).inc()
    published = comment.state == PUBLISHED
    where = f"#comment-{comment.number}" if published else "#post"
    return redirect(html.thread_link(view, posted=comment.number if published else "held") + where, 303)


def _refused(view: html.View, values: dict, exc: APIError) -> Response:
    """The page again with the reason and the reader's text kept, under a fresh form token; a
    refused page or origin (nothing to show) is a short page of its own."""
    fields = exc.fields or {}
    message = locale.words(view.lang).error(exc.code, fields, exc.headers.get("Retry-After"))
    if message is None:  # English: the server's own words
        message = "; ".join(f"{name}: {problem}" for name, problem in fields.items()) or exc.message
        message = message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    errors: dict[str, str] = {}
    url = reading.page_url(view.url or None, errors)
    try:
        if not errors:
            reading.require_allowed(url)
    except APIError:
        errors["url"] = problem("not_allowed", "is not on an allowed site")
    if errors:
        response = web.link_page(exc.status, title="Not sent", message=message)
    else:
        view = replace(view, url=url)
        body = html.failed_post(view, reading.form_token(url), message,
                                {k: values.get(k) or "" for k in ("text", "author", "email", "website")})
        response = Response(body, status=exc.status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Cache-Control"] = "no-store"
    response.headers.update(exc.headers)
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded):
    """Too many posts from this client: the page again, in HTML, with Retry-After."""
    seconds = retry_after()
    values = _form_values()
    view = html.View(html.PAGE, values["url"] or "", lang=locale.language(request.form.get("lang")))
    error = APIError(429, "rate_limited", f"too many posts; please try again in {seconds} seconds",
                     headers={"Retry-After": str(seconds)})
    return _refused(view, values, error)
