"""Allowed origins and CORS.

A page URL, and a request's ``Origin``, must belong to an allowed site origin
(``WIDGET_ALLOWED_ORIGINS`` plus the server's own, which ``hosts.own_origins``
takes from the configuration, never from the request's Host). A request from any other
origin gets 403 and no CORS headers. Together with JSON-only writes this is the
CSRF defence: readers need no cookies at all.
"""
from __future__ import annotations

from flask import Flask, current_app, request

from . import hosts
from .errors import APIError
from .urls import BadURL, normalize_origin, origin_of

ALLOW_HEADERS = "Content-Type, X-Edit-Token, Authorization, If-None-Match"
ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
EXPOSE_HEADERS = "ETag, Retry-After, X-Request-Id, X-Form-Token"


def _allowed() -> frozenset[str]:
    """The configured site origins and the server's own."""
    allowed = current_app.extensions.get("widget_allowed_origins")
    if allowed is None:
        configured = (normalize_origin(raw) for raw in current_app.config["ALLOWED_ORIGINS"])
        allowed = frozenset({o for o in configured if o} | hosts.own_origins())
        current_app.extensions["widget_allowed_origins"] = allowed
    return allowed


def origin_allowed(origin: str) -> bool:
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    allowed = _allowed()
    return "*" in allowed or normalized in allowed


def require_page_allowed(url: str) -> None:
    """403 unless the (already normalized) page URL is on an allowed site."""
    try:
        if origin_allowed(origin_of(url)):
            return
    except BadURL:
        pass
    raise APIError(403, "forbidden", "this page's site is not allowed to have comments here")


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_origin():
        if not request.path.startswith("/api/"):
            return None
        origin = request.headers.get("Origin")
        if origin is None:
            return None  # not a browser's cross-origin call (curl, server-side)
        if not origin_allowed(origin):
            raise APIError(403, "forbidden", "requests from this origin are not allowed")
        if request.method == "OPTIONS":  # preflight: answer it here
            response = app.make_default_options_response()
            response.status_code = 204
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
            return response
        return None

    @app.after_request
    def _cors_headers(response):
        if request.path.startswith("/api/"):
            response.vary.add("Origin")
            origin = request.headers.get("Origin")
            # Every answer to an allowed origin, a 403 included ("sign in to comment", "edit
            # window closed"), so the widget can show its words; refused origins get none.
            if origin and origin_allowed(origin):
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
