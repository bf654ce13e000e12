"""The pages that reply-notification mails link to (/mail/confirm, /mail/unsubscribe).

A GET only shows a page; its button POSTs a form that carries the link's token
(the token is the proof; the origin check does not apply, which RFC 8058
one-click unsubscribe needs).
"""
from __future__ import annotations

from flask import Blueprint, request

from .. import web
from ..errors import APIError
from ..extensions import db
from . import subscriptions

bp = Blueprint("mail_pages", __name__, url_prefix="/mail")


@bp.get("/confirm")
def confirm_page():
    return web.link_page(title="Reply notifications",
                         message="Do you want an e-mail when someone replies to you?",
                         form={"button": "Yes, send me replies", "token": web.link_token()})


@bp.post("/confirm")
def confirm_page_post():
    try:
        subscriptions.confirm_address(web.link_token())
        db.session.commit()
    except APIError as exc:
        return web.failed_link_page(exc)
    return web.link_page(title="Confirmed",
                         message="You will get an e-mail when someone replies to that comment. "
                                 "Every such mail has a link to stop them.")


@bp.get("/unsubscribe")
def unsubscribe_page():
    return web.link_page(title="Unsubscribe", message="Stop e-mails about replies to your comment?",
                         form={"button": "Unsubscribe", "token": web.link_token(), "everything": True})


@bp.post("/unsubscribe")
def unsubscribe_page_post():
    # Also the RFC 8058 one-click POST (body "List-Unsubscribe=One-Click", token in the URL).
    everything = request.form.get("all") == "1"
    try:
        subscriptions.unsubscribe(web.link_token(), everything=everything)
        db.session.commit()
    except APIError as exc:
        return web.failed_link_page(exc)
    return web.link_page(title="Unsubscribed",
                         message="You will get no more e-mails about replies"
                                 + (" to any comment." if everything else " to this comment."))
