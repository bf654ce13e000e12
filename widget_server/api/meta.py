"""Operations endpoints: health and the OpenAPI description."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from ..errors import error_response
from ..extensions import db

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not healthy"
        db.session.rollback()
        return error_response(503, "service_unavailable", "the database does not answer")
    return jsonify({"status": "ok"})


@lru_cache(maxsize=1)
def openapi_document() -> bytes:
    raw = resources.files("widget_server").joinpath("openapi.json").read_bytes()
    return json.dumps(json.loads(raw), separators=(",", ":")).encode()


@bp.get("/api/v1/openapi.json")
def openapi():
    return Response(openapi_document(), mimetype="application/json",
                    headers={"Cache-Control": "public, max-age=300"})
