"""Operations: request ids, JSON logs, Prometheus ``/metrics`` and ``/readyz``.

- Every request gets an id: a sane incoming ``X-Request-Id`` (from the proxy)
  is kept, otherwise one is made; it is returned in ``X-Request-Id`` and
  written into the access log line and every other log line of the request.
- Access logs are one JSON object per line on stderr (logger
  ``widget_server.access``); the service's own logs and Flask-Limiter's (which
  says when Redis is gone and when it is back) use the same JSON format.
- ``/metrics``: requests by route and status, latency histograms, comments
  created, rate-limit refusals and read-cache hits; only with the bearer token
  ``WIDGET_METRICS_TOKEN`` (unset: off, 404). With several gunicorn
  worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn_conf.py does when
  it starts more than one worker) and the answer sums every worker.
- ``/readyz``: 200 only when the database answers AND its schema is at the
  newest migration, so a load balancer sends no traffic to an instance whose
  database has not been upgraded yet. ``/healthz`` stays the cheap liveness check.

Keep ``/metrics`` and ``/readyz`` off the public internet too: the proxy in
``deploy/`` answers neither.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, jsonify, request
from sqlalchemy import text

from .auth import _bearer
from .errors import APIError, error_response
from .extensions import db
from .metrics import LATENCY, REQUESTS

bp = Blueprint("observability", __name__)

access_log = logging.getLogger("widget_server.access")
log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
# Accept a proxy's id only if it is short and plain, so it is safe in logs and headers.
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MIGRATIONS = Path(__file__).parent / "migrations"
# Loggers whose records are written as JSON lines on stderr.
JSON_LOGGERS = ("widget_server", "flask-limiter")


_ids: dict[str, object] = {"pid": None}


def new_request_id() -> str:
    """32 hex digits, unique: a random prefix per process and a counter (no syscall per request)."""
    if _ids["pid"] != os.getpid():  # first use in this (possibly forked) process
        _ids.update(pid=os.getpid(), prefix=uuid.uuid4().hex[:16], counter=itertools.count(1))
    return f"{_ids['prefix']}{next(_ids['counter']):016x}"  # type: ignore[call-overload]


def request_id() -> str | None:
    return getattr(g, "request_id", None) if has_request_context() else None


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):  # an access log line: structured already
            entry.update(fields)
        else:
            entry["msg"] = record.getMessage()
            rid = request_id()
            if rid:
                entry["request_id"] = rid
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at the time of writing."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JSONFormatter())

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _no_addresses(record: logging.LogRecord) -> bool:
    # Flask-Limiter's "ratelimit ... (key) exceeded" names the client address; a refusal
    # is already in the access log (status 429, hashed client) and in /metrics.
    return not (record.name == "flask-limiter" and str(record.msg).startswith("ratelimit "))


def _install_json_logging() -> None:
    """Attach one JSON stderr handler per logger, once per process (create_app may run often)."""
    for logger in (*map(logging.getLogger, JSON_LOGGERS), access_log):
        if not any(isinstance(h, StderrHandler) for h in logger.handlers):
            handler = StderrHandler()
            handler.addFilter(_no_addresses)
            logger.addHandler(handler)
    # Flask-Limiter says "storage unreachable" as a warning and "recovered" as info.
    logging.getLogger("flask-limiter").setLevel(logging.INFO)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False  # one line per request, not one per handler up the tree


def _route_label() -> str:
    # The URL rule, not the path, so the metric's label set stays small.
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def init_app(app: Flask) -> None:
    _install_json_logging()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import values

        if values.ValueClass is values.MutexValue:
            log.warning("PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                        "/metrics shows this process only")

    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _REQUEST_ID_OK.match(incoming) else new_request_id()

    # First of all before-request functions, so even a refusal by another one has an id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = getattr(g, "request_id", None) or new_request_id()
        response.headers[REQUEST_ID_HEADER] = rid
        started = getattr(g, "started", None)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        route = _route_label()
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        LATENCY.labels(route).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO) and not access_log.disabled:
            write_access_line({
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
                "level": "info", "logger": access_log.name,
                "request_id": rid, "method": request.method, "path": request.path,
                "route": route, "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "bytes": response.content_length,
                # The client address is personal data: log it only hashed, like the database.
                "client": _client_tag(),
            })
        return response

    app.register_blueprint(bp)


_write_lock = threading.Lock()


def write_access_line(fields: dict) -> None:
    """One JSON line on stderr, the same shape JSONFormatter makes, without the logging
    module's per-record machinery (a quarter of a cached read's cost, measured)."""
    line = json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"
    with _write_lock:
        sys.stderr.write(line)


def _client_tag() -> str:
    from .security import ip_hash

    address = request.remote_addr or "unknown"
    tags = current_app.extensions.setdefault("widget_client_tags", {})
    tag = tags.get(address)
    if tag is None:  # a keyed hash per request was measurable: remember the recent ones
        if len(tags) > 4096:
            tags.clear()
        tag = tags[address] = ip_hash(address)[:12]
    return tag


# --- /metrics ---------------------------------------------------------------------------


def _require_metrics_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        raise APIError(404, "not_found", "metrics are off: set WIDGET_METRICS_TOKEN to serve them")
    given = _bearer() or ""
    # Compare digests: constant time, and the token's length does not show either.
    if not hmac.compare_digest(hashlib.sha256(given.encode()).digest(),
                               hashlib.sha256(str(expected).encode()).digest()):
        raise APIError(401, "unauthorized", "send the metrics token: Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


@bp.get("/metrics")
def metrics():
    _require_metrics_token()
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                         "Cache-Control": "no-store"})


# --- /readyz ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def migration_heads() -> tuple[str, ...]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def database_revisions() -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


@bp.get("/readyz")
def readyz():
    heads = migration_heads()
    try:
        current = database_revisions()
    except Exception as exc:  # any failure to reach the database means "not ready"
        log.warning("readiness: database unavailable: %s", exc.__class__.__name__)
        return error_response(503, "service_unavailable", "the database does not answer",
                              headers={"Retry-After": "5", "Cache-Control": "no-store"})
    if current != heads:
        return error_response(
            503, "service_unavailable",
            f"database schema is at {', '.join(current) or 'nothing'}, the code needs "
            f"{', '.join(heads)}: run `widget-server db upgrade`",
            headers={"Retry-After": "30", "Cache-Control": "no-store"})
    response = jsonify({"status": "ready", "database": "ok", "migrations": list(current)})
    response.headers["Cache-Control"] = "no-store"
    return response
