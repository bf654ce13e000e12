"""One JSON error shape for every non-2xx answer, and the handlers that make it."""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, jsonify
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from . import schema
from .extensions import db, limiter
from .metrics import RATE_LIMITED

log = logging.getLogger(__name__)

# HTTP status -> stable machine word, for errors raised by Flask/werkzeug itself.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "service_unavailable",
}


class APIError(Exception):
    """Raise anywhere in a request to answer with the error shape."""

    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers, self.extra = fields, headers or {}, extra or {}


class Problem(str):
    """A field's English message that also carries its stable code (``field_codes``, which the
    widget words in the reader's language) and the numbers its wording needs (``field_params``).
    A ``str``, so every place that reads, joins or compares messages keeps working."""

    code: str
    params: dict[str, int]

    def __new__(cls, code: str, message: str, **params: int) -> Problem:
        problem = super().__new__(cls, message)
        problem.code, problem.params = code, params
        return problem


# The field codes (API.md): what a reader can be told about one field, in any language.
FIELD_CODES = ("required", "too_long", "too_short", "too_many", "invalid", "characters", "not_allowed",
               "taken", "wrong", "expired", "not_found")


def problem(code: str, message: str, **params: int) -> Problem:
    if code not in FIELD_CODES:  # a programming error, caught by the tests
        raise ValueError(f"unknown field code {code!r}")
    return Problem(code, message, **params)


def field_codes(fields: dict[str, str]) -> dict[str, str]:
    """Each field's code; a message without one (none should be left) counts as ``invalid``."""
    return {name: getattr(message, "code", "invalid") for name, message in fields.items()}


def field_params(fields: dict[str, str]) -> dict[str, dict[str, int]]:
    return {name: message.params for name, message in fields.items() if getattr(message, "params", None)}


class ValidationError(APIError):
    def __init__(self, fields: dict[str, str], message: str | None = None):
        if message is None:
            name, problem = next(iter(fields.items()))
            message = f"{name} {problem}"
        super().__init__(400, "validation_error", message, fields)


def error_response(status: int, code: str, message: str,
                   fields: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                   extra: dict[str, str] | None = None):
    """``extra``: fields a code documents besides code and message (``origin`` of origin_not_allowed)."""
    body: dict[str, object] = {"code": code, "message": message, **(extra or {})}
    if fields and status == 400:
        body["fields"] = fields
        body["field_codes"] = field_codes(fields)
        params = field_params(fields)
        if params:
            body["field_params"] = params
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _tolerant(teardown):
    def wrapper(exc):
        try:
            return teardown(exc)
        except DBAPIError as error:
            log.warning("database unavailable while closing the session: %s", getattr(error, "orig", error))
            db.session.registry.clear()
            return None

    return wrapper


def _unexpected(exc: Exception):
    log.exception("unhandled error")
    return error_response(500, "server_error", "internal server error")


def retry_after() -> int:
    """Seconds until the limit just hit lets the client in again (counted as a refusal)."""
    RATE_LIMITED.inc()
    current = limiter.current_limit
    if current is None:
        return 60
    window = current.limit.get_expiry()
    return min(window, max(1, math.ceil(current.reset_at - time.time())))


def init_app(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError):
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers, exc.extra)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded):
        seconds = retry_after()
        return error_response(
            429, "rate_limited",
            f"too many requests (limit: {exc.description}); try again in {seconds} seconds",
            headers={"Retry-After": str(seconds)})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = CODES.get(status, "error")
        message = {
            404: "no such resource",
            405: "method not allowed here",
            413: "request body is too large",
        }.get(status, exc.description or code)
        response = error_response(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(ProgrammingError)
    def _database_error(exc: Exception):
        # Roll back so the pooled connection is usable again (a broken one: drop the session).
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.registry.clear()
        # A missing table (SQLite says OperationalError, PostgreSQL ProgrammingError) on a database
        # nobody upgraded: the operator's step to take, in the words /readyz uses.
        reason = schema.problem()
        if reason:
            log.warning("%s", reason)
            return error_response(503, "service_unavailable", reason, headers={"Retry-After": "30"})
        if isinstance(exc, ProgrammingError):  # at the right schema: a bug of ours
            return _unexpected(exc)
        # A database restart or network blip: tell the client to retry, and keep internals out
        # of it. exc.orig is the driver's message alone, without the statement's parameters.
        log.warning("database unavailable: %s", getattr(exc, "orig", exc.__class__.__name__))
        return error_response(503, "service_unavailable",
                              "the database is unavailable; try again shortly",
                              headers={"Retry-After": "5"})

    # Flask-SQLAlchemy closes the session after the answer is made; if the database died
    # in between, closing fails. Keep the finished answer and drop the broken session.
    app.teardown_appcontext_funcs[:] = [_tolerant(f) for f in app.teardown_appcontext_funcs]

    @app.errorhandler(DataError)
    def _out_of_range(exc: DataError):
        # A value the database cannot hold (a number past its column's range, say):
        # the client's input, not our fault, and nothing was stored.
        db.session.rollback()
        return error_response(400, "invalid_value", "a value in this request is out of range")

    app.register_error_handler(Exception, _unexpected)
