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
