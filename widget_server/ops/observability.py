"""Observability: request ids, JSON logs, and the numbers behind Prometheus ``/metrics``.

- Every request gets an id: a sane incoming ``X-Request-Id`` (from the proxy)
  is kept, otherwise one is made; it is returned in ``X-Request-Id`` and
  written into the access log line and every other log line of the request.
- Access logs are one JSON object per line on stderr (logger
  ``widget_server.access``); every other log line (the service's own,
  Flask-Limiter's, which says when Redis is gone and when it is back, Alembic's,
  gunicorn's through ``gunicorn_conf.Logger``) uses the same JSON format.
- ``/metrics``: requests by route and status, latency histograms, comments
  created, rate-limit refusals and read-cache hits; only with the bearer token
  ``WIDGET_METRICS_TOKEN`` (unset: off, 404). With several gunicorn
  worker processes set ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn_conf.py does when
  it starts more than one worker) and the answer sums every worker.

The endpoints themselves (``/metrics``, ``/readyz``, ``/healthz``) are in ops/api.py.
"""
from __future__ import annotations

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

from flask import Flask, Response, g, has_request_context, request

from ..extensions import memo
from ..metrics import LATENCY, REQUESTS
from ..security import ip_hash

access_log = logging.getLogger("widget_server.access")
log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
# Accept a proxy's id only if it is short and plain, so it is safe in logs and headers.
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


_ids: dict[str, object] = {"pid": None}


def new_request_id() -> str:
    """32 hex digits, unique: a random prefix per process and a counter (no syscall per request)."""
    if _ids["pid"] != os.getpid():  # first use in this (possibly forked) process
        _ids.update(pid=os.getpid(), prefix=uuid.uuid4().hex[:16], counter=itertools.count(1))
    return f"{_ids['prefix']}{next(_ids['counter']):016x}"  # type: ignore[call-overload]


def request_id_ok(incoming: str) -> bool:
    """Whether a proxy's ``X-Request-Id`` is kept (short and plain: safe in logs and headers)."""
    return _REQUEST_ID_OK.match(incoming) is not None


def access_log_on() -> bool:
    return access_log.isEnabledFor(logging.INFO) and not access_log.disabled


def log_time() -> str:
    """The access line's time: UTC, milliseconds, ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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


class TextFormatter(JSONFormatter):
    """The same record for a person at a terminal (WIDGET_LOG_FORMAT=text, or auto on a TTY):
    time, level, logger, message; an access line as method, path, status and duration."""

    def format(self, record: logging.LogRecord) -> str:
        return text_line(json.loads(super().format(record)))


def text_line(entry: dict) -> str:
    when = str(entry.pop("ts", ""))[11:23]
    level, logger = entry.pop("level", ""), entry.pop("logger", "")
    if "route" in entry:  # an access line
        return (f"{when} {entry.get('method')} {entry.get('path')} {entry.get('status')} "
                f"{entry.get('duration_ms')} ms")
    exc = entry.pop("exc", None)
    line = f"{when} {level:7} {logger}: {entry.pop('msg', '')}"
    return line + (f"\n{exc}" if exc else "")


_text = False  # WIDGET_LOG_FORMAT, decided once per process by install_json_logging


def text_logs(setting: object = "auto") -> bool:
    """Whether log lines are text: ``text``, or ``auto`` with stderr a terminal (a person runs it)."""
    if setting == "auto":
        try:
            return sys.stderr.isatty()
        except (AttributeError, ValueError):  # no stderr, or a closed one
            return False
    return setting == "text"


def formatter() -> logging.Formatter:
    return TextFormatter() if _text else JSONFormatter()


class StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at the time of writing."""

    def __init__(self):
        super().__init__()
        self.setFormatter(formatter())

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


def install_json_logging(log_format: object = "auto") -> None:
    """One stderr handler on the root logger, once per process (create_app may run often):
    every library's lines (Alembic's, SQLAlchemy's warnings) come out in the same format, and
    each line once (a handler per logger as well would print a propagated line twice). JSON
    lines unless WIDGET_LOG_FORMAT says text (or auto, and a person reads the terminal)."""
    global _text
    _text = text_logs(log_format)
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, StderrHandler)]
    for handler in handlers:
        handler.setFormatter(formatter())
    if not handlers:
        handler = StderrHandler()
        handler.addFilter(_no_addresses)
        root.addHandler(handler)
    # Flask-Limiter says "storage unreachable" as a warning and "recovered" as info.
    logging.getLogger("flask-limiter").setLevel(logging.INFO)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False  # written by write_access_line, not through the handlers


def log_warnings(warnings: list[str]) -> None:
    """Settings that cannot work together (config.warnings), once at start, as JSON lines."""
    install_json_logging()
    for warning in warnings:
        logging.getLogger("widget_server.config").warning("%s", warning)


def _route_label() -> str:
    # The URL rule, not the path, so the metric's label set stays small.
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def init_app(app: Flask) -> None:
    install_json_logging(app.config.get("LOG_FORMAT", "auto"))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import values

        if values.ValueClass is values.MutexValue:
            log.warning("PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                        "/metrics shows this process only")

    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if request_id_ok(incoming) else new_request_id()

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
        if access_log_on():
            write_access_line({
                "ts": log_time(),
                "level": "info", "logger": access_log.name,
                "request_id": rid, "method": request.method, "path": request.path,
                "route": route, "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                "bytes": response.content_length,
                # The client address is personal data: log it only hashed, like the database.
                "client": _client_tag(),
            })
        return response



_write_lock = threading.Lock()


def write_access_line(fields: dict) -> None:
    """One JSON (or text) line on stderr, the same shape the formatters make, without the logging
    module's per-record machinery (a quarter of a cached read's cost, measured)."""
    if _text:
        line = text_line(dict(fields)) + "\n"
    else:
        line = json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"
    with _write_lock:
        sys.stderr.write(line)


def _client_tag() -> str:
    address = request.remote_addr or "unknown"
    tags = memo("widget_client_tags", 4096)
    tag = tags.get(address)
    if tag is None:  # a keyed hash per request was measurable: remember the recent ones
        tag = tags[address] = ip_hash(address)[:12]
    return tag
