"""The moderation page at /admin, its script and its style sheet.

The page is static: it signs in with an admin token kept in sessionStorage
(this tab only) and does everything through /api/v1/admin. It is served with a
strict Content-Security-Policy: no inline script or style anywhere.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template

from ..assets import STRICT_CSP, serve

bp = Blueprint("admin_page", __name__)


@bp.get("/admin")
def admin():
    response = Response(render_template("admin.html"), mimetype="text/html")
    response.headers.update({
        "Content-Security-Policy": STRICT_CSP,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    })
    return response


@bp.get("/admin.js")
def admin_js():
    return serve("admin.js", "text/javascript")


@bp.get("/admin.css")
def admin_css():
    return serve("admin.css", "text/css")
