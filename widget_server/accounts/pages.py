"""The pages that links in account mail open (/account/confirm, /account/reset).

A GET only shows a page; its button POSTs a form that carries the link's token
(the token is the proof; the origin check does not apply to them).
"""
from __future__ import annotations

from flask import Blueprint, request

from .. import web
from ..errors import APIError, ValidationError
from ..extensions import db, rate_limit
from . import identity
from . import service as accounts

bp = Blueprint("account_pages", __name__, url_prefix="/account")


@bp.get("/confirm")
def confirm_page():
    return web.link_page(title="Confirm your address",
                         message="One click finishes creating your comments account.",
                         form={"button": "Confirm my address", "token": web.link_token()})


@bp.post("/confirm")
@rate_limit("RATELIMIT_RESET")
def confirm_page_post():
    identity.require_enabled()
    try:
        user = accounts.confirm_signup(web.link_token())
        db.session.commit()
    except APIError as exc:
        return web.failed_link_page(exc)
    return web.link_page(title="Your account is ready",
                         message=f"Welcome, {user.display_name}. Go back to the page and sign in.")


@bp.get("/reset")
def reset_page():
    return web.link_page(title="Choose a new password",
                         message="Enter a new password for your comments account.", form=_password_form())


@bp.post("/reset")
@rate_limit("RATELIMIT_RESET")
def reset_page_post():
    identity.require_enabled()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return web.link_page(400, title="Choose a new password",
                             message="The two passwords differ. Try again.", form=_password_form())
    try:
        accounts.reset_password({"token": web.link_token(), "password": password})
        db.session.commit()
    except ValidationError as exc:
        if exc.fields and "password" in exc.fields:
            return web.link_page(400, title="Choose a new password",
                                 message=f"The password {exc.fields['password']}.",
                                 form=_password_form())
        return web.failed_link_page(exc)
    return web.link_page(title="Password changed",
                         message="Your password is changed and every session is signed out. "
                                 "Go back to the page and sign in with the new password.")


def _password_form() -> dict:
    return {"button": "Save the new password", "token": web.link_token(), "password": True}
