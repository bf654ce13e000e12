"""Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI description.

- ``/healthz``: the cheap liveness check (the database answers and has a schema).
- ``/readyz``: 200 only when the database answers AND its schema is at the
  newest migration, so a load balancer sends no traffic to an instance whose
  database has not been upgraded yet.
- ``/metrics``: requests by route and status, latency histograms, comments
  created, rate-limit refusals and read-cache hits (ops/observability.py counts);
  only with the bearer token ``WIDGET_METRICS_TOKEN`` (unset: off, 404).

Keep ``/metrics`` and ``/readyz`` off the public internet: the proxy in
``deploy/`` answers them only from the private network.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from functools import lru_cache
from importlib import resources

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .. import schema, web
from ..errors import APIError, error_response
from ..extensions import db

bp = Blueprint("meta", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and has a database with a schema (at any revision: during a rolling
    upgrade the old code keeps living on the newer schema; /readyz is the exact check)."""
    try:
        migrated = db.session.execute(text("SELECT version_num FROM alembic_version")).first() is not None
    except DBAPIError:  # no such table, or no database: ask again to tell which
        db.session.rollback()
        migrated = False
    if migrated:
        return jsonify({"status": "ok"})
    try:
        db.session.execute(text("SELECT 1"))
    except DBAPIError:
        db.session.rollback()
        return error_response(503, "service_unavailable", "the database does not answer")
    return error_response(503, "service_unavailable", schema.mismatch(()) or "")


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    """Merge ``openapi/base.json`` with one fragment per area (reader, admin, ...).

    Each fragment holds the ``paths`` and ``components`` of the code it
    documents, so the description lives beside the blueprint it describes.
    """
    folder = resources.files("widget_server").joinpath("openapi")
    document = json.loads(folder.joinpath("base.json").read_text("utf-8"))
    for fragment in sorted(folder.iterdir(), key=lambda f: f.name):
        if fragment.name == "base.json" or not fragment.name.endswith(".json"):
            continue
        part = json.loads(fragment.read_text("utf-8"))
        document["paths"].update(part.get("paths", {}))
        for kind, items in part.get("components", {}).items():
            document["components"].setdefault(kind, {}).update(items)
    return json.dumps(document, separators=(",", ":")).encode()


@bp.get("/api/v1/openapi.json")
def openapi():
    return Response(openapi_document(), mimetype="application/json",
                    headers={"Cache-Control": "public, max-age=300"})


# --- /metrics ---------------------------------------------------------------------------


def _require_metrics_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        raise APIError(404, "not_found", "metrics are off: set WIDGET_METRICS_TOKEN to serve them")
    given = web.bearer_token() or ""
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


@bp.get("/readyz")
def readyz():
    try:
        current = schema.current()
    except Exception as exc:  # any failure to reach the database means "not ready"
        log.warning("readiness: database unavailable: %s", exc.__class__.__name__)
        return error_response(503, "service_unavailable", "the database does not answer",
                              headers={"Retry-After": "5", "Cache-Control": "no-store"})
    reason = schema.mismatch(current)
    if reason:
        return error_response(503, "service_unavailable", reason,
                              headers={"Retry-After": "30", "Cache-Control": "no-store"})
    response = jsonify({"status": "ready", "database": "ok", "migrations": list(current)})
    response.headers["Cache-Control"] = "no-store"
    return response
