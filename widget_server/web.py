"""Request and response helpers shared by every blueprint.

This is the one module (with the ``api``/``pages`` modules) that reads
``flask.request`` for the services: it turns the request into plain values
(the JSON body, a whole-number argument, the bearer token, the client address)
that services take as parameters.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, render_template, request
from werkzeug.http import unquote_etag

from .errors import APIError, ValidationError, problem


def json_body() -> dict:
    """The request's JSON object, or a clear 4xx error."""
    if request.mimetype != "application/json":
        raise APIError(415, "unsupported_media_type",
                       "send the body as JSON with Content-Type: application/json")
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(400, "invalid_json", f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise APIError(400, "invalid_json", "body is nested too deeply") from None
    except ValueError as exc:
        raise APIError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise APIError(400, "invalid_json", "body must be a JSON object")
    return data


def bodyless() -> None:
    """For DELETE: a body is optional, but one that is sent must be JSON like every other write."""
    if request.content_length:
        json_body()


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query argument within bounds, or a 400 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: problem("invalid", "must be a whole number")}) from None
    if not minimum <= value <= maximum:
        raise ValidationError({name: problem("invalid", f"must be between {minimum} and {maximum}")})
    return value


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def client_address() -> str:
    """The client's address as ProxyFix (WIDGET_TRUSTED_PROXIES hops) has made it."""
    return request.remote_addr or "unknown"


def conditional(body: bytes, etag: str, mimetype: str, headers: dict[str, str],
                gzipped: Callable[[], bytes]) -> Response:
    """The ETag/304/gzip answer: 304 when the client has this version, gzip when it takes it.

    ``gzipped`` is called only when the client accepts gzip, so a cache can compress lazily.
    """
    headers = {"ETag": etag, "Vary": "Accept-Encoding", **headers}
    if request.if_none_match.contains_weak(unquote_etag(etag)[0]):  # W/"…" (the HTML threads) too
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        response = Response(gzipped(), mimetype=mimetype, headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(body, mimetype=mimetype, headers=headers)


# Pages that links in mail open: no script, nothing from elsewhere, never framed or cached.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def link_page(status: int = 200, **context) -> Response:
    """A small HTML page (``account_page.html``) for a link from a mail; its token is in the URL."""
    response = Response(render_template("account_page.html", **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def link_token() -> str:
    """The token of a mail link's page: in the form it posts, or in the URL it was opened with."""
    return (request.form.get("token") or request.args.get("token") or "").strip()[:500]


def failed_link_page(exc: APIError) -> Response:
    message = next(iter((exc.fields or {}).values()), exc.message)
    return link_page(400 if exc.status == 400 else exc.status, title="This link does not work",
                     message=f"The link {message}." if exc.fields else exc.message)


def token_field(data: dict) -> str:
    """The ``token`` of a JSON body, or a 400."""
    token = data.get("token")
    if not isinstance(token, str) or not token.strip():
        raise ValidationError({"token": problem("required", "is required")})
    return token.strip()
