"""The moderation page at /admin, its script and its style sheet.

The page is static: it signs in with an admin token kept in sessionStorage
(this tab only) and does everything through /api/v1/admin. It is served with a
strict Content-Security-Policy: no inline script or style anywhere.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template

from .. import web
from ..assets import STRICT_CSP, serve
from ..errors import APIError
from ..extensions import db
from . import service as moderation

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


# --- approve / spam / delete from the admin's mail (delivery/notifications.py: admin) ---------
# A GET only shows what the link would do and one button (mail scanners follow links); the
# button POSTs the link's token, which is the proof.
WORDS = {"approve": ("Approve", "approved"), "spam": ("Mark as spam", "marked as spam"),
         "delete": ("Delete", "deleted")}


@bp.get("/admin/mail")
def mail_link_page():
    try:
        comment, action = moderation.link_decision(web.link_token())
    except APIError as exc:
        return web.failed_link_page(exc)
    button, _done = WORDS[action]
    excerpt = " ".join(comment.text.split())[:300]
    return web.link_page(title=f"{button}: comment #{comment.number}",
                         message=f"{comment.author or 'Anonymous'} on {comment.thread.url} "
                                 f"(now {comment.state}): \u201c{excerpt}\u201d",
                         form={"button": button, "token": web.link_token()})


@bp.post("/admin/mail")
def mail_link_post():
    try:
        comment, action = moderation.link_decision(web.link_token())
        changed = moderation.change_state(moderation.MAIL_LINK_ACTOR, comment, action)
        db.session.commit()
    except APIError as exc:
        return web.failed_link_page(exc)
    _button, done = WORDS[action]
    return web.link_page(title=f"Comment #{comment.number}",
                         message=f"The comment is {done}." if changed else f"The comment was already {done}.")
