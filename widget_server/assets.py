"""Static assets: the widget script, the demo page and the moderation page.

The widget is read once, then served compressed with a content hash as its
ETag and a short cache lifetime plus revalidation, so readers get a new release
within minutes while unchanged bytes cost only a 304.
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

bp = Blueprint("assets", __name__, template_folder="templates")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    mimetype: str


@lru_cache(maxsize=16)
def _load(name: str, mimetype: str) -> Asset:
    body = (_static_dir() / name).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body, gzip.compress(body, 9, mtime=0), f'"{digest}"', mimetype)


def _static_dir() -> Path:
    return Path(current_app.config.get("STATIC_DIR") or STATIC_DIR)


def serve(name: str, mimetype: str) -> Response:
    asset = _load(name, mimetype)
    headers = {"ETag": asset.etag, "Cache-Control": WIDGET_CACHE_CONTROL, "Vary": "Accept-Encoding",
               "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
               "X-Content-Type-Options": "nosniff"}
    if asset.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        response = Response(asset.gzipped, mimetype=mimetype, headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(asset.body, mimetype=mimetype, headers=headers)


@bp.get("/widget.js")
def widget_js():
    return serve("widget.js", "text/javascript")


@bp.get("/demo")
def demo():
    response = Response(render_template("demo.html"), mimetype="text/html")
    # The demo is held to the same strict policy we promise site owners works.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return response


@bp.get("/demo.css")
def demo_css():
    return serve("demo.css", "text/css")


@bp.get("/")
def index():
    return Response(render_template("index.html"), mimetype="text/html")
