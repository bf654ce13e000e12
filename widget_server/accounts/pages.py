"""The pages that links in account mail open (/account/confirm, /account/reset).

A GET only shows a page; its button POSTs a form that carries the link's token
(the token is the proof; the origin check does not apply to them). Both pages
ask for a password typed twice: on the confirmation page it is chosen by
whoever holds the address (audit finding 6).
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from .. import web
from ..errors import APIError, ValidationError
from ..extensions import db, rate_limit
from . import identity
from . import service as accounts

bp = Blueprint("account_pages", __name__, url_prefix="/account")

CONFIRM_FORM = {"button": "Create my account", "password": "Choose a password"}
RESET_FORM = {"button": "Save the new password", "password": "New password"}
DIFFER = "The two passwords differ. Try again."


def _password_form(form: dict, title: str, message: str, status: int = 200) -> Response:
    return web.link_page(status, title=title, message=message, form=form | {"token": web.link_token()})


def _two_passwords() -> str | None:
    """The password typed twice on a page, or None if the two differ."""
    password = request.form.get("password", "")
    return password if password == request.form.get("password_again", "") else None


@bp.get("/confirm")
def confirm_page():
    return _password_form(CONFIRM_FORM, "Confirm your address",
                          "Choose the password of your comments account to finish creating it.")


@bp.post("/confirm")
@rate_limit("RATELIMIT_RESET")
def confirm_page_post():
    identity.require_enabled()
    password = _two_passwords()
    if password is None:
        return _password_form(CONFIRM_FORM, "Confirm your address", DIFFER, 400)
    back = accounts.signup_return_url(web.link_token())  # read first: the confirmation empties it
    try:
        user = accounts.confirm_signup({"token": web.link_token(), "password": password})
        db.session.commit()
    except ValidationError as exc:
        if exc.fields and "password" in exc.fields:
            return _password_form(CONFIRM_FORM, "Confirm your address",
                                  f"The password {exc.fields['password']}.", 400)
        return web.failed_link_page(exc)
    except APIError as exc:
        return web.failed_link_page(exc)
    return web.link_page(title="Your account is ready", back=back,
                         message=f"Welcome, {user.display_name}. Go back to the page and sign in "
                                 "with your password.")


@bp.get("/reset")
def reset_page():
    return _password_form(RESET_FORM, "Choose a new password",
                          "Enter a new password for your comments account.")


@bp.post("/reset")
@rate_limit("RATELIMIT_RESET")
def reset_page_post():
    identity.require_enabled()
    password = _two_passwords()
    if password is None:
        return _password_form(RESET_FORM, "Choose a new password", DIFFER, 400)
    try:
        accounts.reset_password({"token": web.link_token(), "password": password})
        db.session.commit()
    except ValidationError as exc:
        if exc.fields and "password" in exc.fields:
            return _password_form(RESET_FORM, "Choose a new password",
                                  f"The password {exc.fields['password']}.", 400)
        return web.failed_link_page(exc)
    return web.link_page(title="Password changed",
                         message="Your password is changed and every session is signed out. "
                                 "Go back to the page and sign in with the new password.")
