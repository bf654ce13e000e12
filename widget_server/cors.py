"""Allowed origins and CORS.

A page URL, and a request's ``Origin``, must belong to an allowed site origin
(every site's origins, ``WIDGET_ALLOWED_ORIGINS`` among them as the default site's, plus the
server's own, which ``hosts.own_origins`` takes from the configuration, never from the
request's Host). A request from any other
origin gets 403 ``origin_not_allowed`` naming the origin to add, with CORS headers so the
widget can read it and tell the site owner, but never any data: the check runs before any
view. Preflights are answered for every origin (they carry no data; without one a refused
POST would be a bare network error to the widget). Together with JSON-only writes this is
the CSRF defence: readers need no cookies at all.
"""
from __future__ import annotations

import logging

from flask import Flask, g, request

from . import sites
from .errors import APIError
from .extensions import memo
from .urls import BadURL, normalize_origin, origin_of

log = logging.getLogger(__name__)

ALLOW_HEADERS = "Content-Type, X-Edit-Token, Authorization, If-None-Match, Idempotency-Key"
ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
EXPOSE_HEADERS = "ETag, Retry-After, X-Request-Id, X-Form-Token"
REFUSED = "origin_not_allowed"


def _allowed() -> frozenset[str]:
    """Every site's origins (sites/: the configured ones are the default site's) and the
    server's own, as this process knows them (within a second of a change anywhere)."""
    return sites.allowed_origins()


def origin_allowed(origin: str) -> bool:
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    allowed = _allowed()
    return "*" in allowed or normalized in allowed


def refused(origin: str) -> APIError:
    """The 403 for a page or caller on ``origin`` (normalized), logged once per origin and process."""
    seen = memo("widget_refused_origins", 1024)
    if origin not in seen:
        seen[origin] = True
        log.warning("refused requests from %s: it is not in WIDGET_ALLOWED_ORIGINS "
                    "(add it if it is your site)", origin)
    return APIError(403, REFUSED, f"this page's origin {origin} is not allowed: add it to "
                    "WIDGET_ALLOWED_ORIGINS on the comment server", extra={"origin": origin})


def require_page_allowed(url: str) -> None:
    """403 unless the (already normalized) page URL is on an allowed site."""
    try:
        origin = origin_of(url)
    except BadURL:
        raise APIError(403, REFUSED, "this page's site is not allowed to have comments here") from None
    if not origin_allowed(origin):
        raise refused(origin)


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_origin():
        if not request.path.startswith("/api/"):
            return None
        origin = request.headers.get("Origin")
        if origin is None:
            return None  # not a browser's cross-origin call (curl, server-side)
        if request.method == "OPTIONS":  # preflight, from any origin: answer it here
            response = app.make_default_options_response()
            response.status_code = 204
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
            return response
        g.origin_allowed = origin_allowed(origin)  # decided once: the answer's headers follow it
        if not g.origin_allowed:
            normalized = normalize_origin(origin)
            if normalized is None or normalized == "*":  # "null", or no browser's: nothing to name
                raise APIError(403, REFUSED, "requests from this origin are not allowed")
            g.origin_refused = True
            raise refused(normalized)
        return None

    @app.after_request
    def _cors_headers(response):
        if request.path.startswith("/api/"):
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            # Every answer to an allowed origin, a 403 included ("sign in to comment", "edit
            # window closed"), so the widget can show its words; a refused origin's 403 too
            # (it carries no data); preflights (answered above). A "null" origin gets none.
            # (No decision in g: an earlier hook refused the request, e.g. an unknown Host.)
            allowed = g.get("origin_allowed")
            if allowed is None and origin:
                allowed = origin_allowed(origin)
            if origin and (g.get("origin_refused") or allowed
                           or request.method == "OPTIONS" and normalize_origin(origin) not in (None, "*")):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
