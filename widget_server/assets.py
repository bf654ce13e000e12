"""Static assets: the widget script, its on-demand account module, the demo page and the
moderation page.

Each script is read once (again when the file changes), minified, then served
compressed with a content hash as its ETag and a short cache lifetime plus
revalidation, so readers get a new release within minutes while unchanged bytes
cost only a 304.

Minifying is not a build step: ``static/*.js`` is served as written, passed once
through rjsmin (a small, long-maintained pure-Python minifier that removes
comments and whitespace and leaves names, strings and template literals alone).
The gzip stream is made with zopfli: the same gzip format every browser reads,
about 5 % smaller than zlib's best, for a fraction of a second once per file and
process. Both exist for the widget's 12 KB download budget (issue 3).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rjsmin
import zopfli.gzip
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


def compact_js(source: bytes) -> bytes:
    """The script as served: comments and needless whitespace removed by rjsmin."""
    return rjsmin.jsmin(source.decode("utf-8")).encode("utf-8")


def _load(name: str, mimetype: str) -> Asset:
    path = _static_dir() / name
    return _build(path, path.stat().st_mtime_ns, mimetype)


@lru_cache(maxsize=16)
def _build(path: Path, _mtime: int, mimetype: str) -> Asset:
    body = path.read_bytes()
    if mimetype == "text/javascript":
        body = compact_js(body)
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body, zopfli.gzip.compress(body), f'"{digest}"', mimetype)


def _static_dir() -> Path:
    return Path(current_app.config.get("STATIC_DIR") or STATIC_DIR)


def serve(name: str, mimetype: str) -> Response:
    asset = _load(name, mimetype)
    headers = {"ETag": asset.etag, "Cache-Control": WIDGET_CACHE_CONTROL, "Vary": "Accept-Encoding",
               "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
               "X-Content-Type-Options": "nosniff"}
    if request.if_none_match.contains_weak(asset.etag.strip('"')):
        return Response(status=304, headers=headers)
    if "gzip" in request.accept_encodings:
        response = Response(asset.gzipped, mimetype=mimetype, headers=headers)
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(asset.body, mimetype=mimetype, headers=headers)


@bp.get("/widget.js")
def widget_js():
    return serve("widget.js", "text/javascript")


@bp.get("/widget-account.js")
def widget_account_js():
    """Sign-in, sign-up and account panels: an ES module the widget imports on demand."""
    return serve("widget-account.js", "text/javascript")


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
