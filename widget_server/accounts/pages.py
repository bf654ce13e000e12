"""The pages that links in account mail open (/account/confirm, /account/reset), and the pages of
a provider sign-in's popup (/auth/oidc/<name>/start, /callback, /confirm; issue 18).

A GET only shows a page; its button POSTs a form that carries the link's token
(the token is the proof; the origin check does not apply to them). Both pages
ask for a password typed twice: on the confirmation page it is chosen by
whoever holds the address (audit finding 6).
"""
from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, Response, redirect, render_template, request

from .. import web
from ..errors import APIError, ValidationError
from ..extensions import db, rate_limit
from . import identity, oidc
from . import service as accounts

bp = Blueprint("account_pages", __name__, url_prefix="/account")
sign_in = Blueprint("sign_in_pages", __name__, url_prefix="/auth/oidc")

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


# --- the provider sign-in's popup -----------------------------------------------------------
# The result page posts the session to the opener, addressed to the flow's origin only, and
# closes. Its one script is inline and allowed by its hash: nothing else may run on the page.
POPUP_SCRIPT = ("const r = JSON.parse(document.getElementById('result').textContent);"
                "if (window.opener) { window.opener.postMessage(r.message, r.origin); window.close(); }"
                "else document.getElementById('no-opener').hidden = false;")
_HASH = base64.b64encode(hashlib.sha256(POPUP_SCRIPT.encode()).digest()).decode()
POPUP_CSP = (f"default-src 'none'; script-src 'sha256-{_HASH}'; style-src 'unsafe-inline'; "
             "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SESSION, ERROR = "widget-server:session", "widget-server:error"


def _popup(status: int = 200, **context) -> Response:
    html = render_template("sign_in_popup.html", script=POPUP_SCRIPT, **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update({"Content-Security-Policy": POPUP_CSP, "Referrer-Policy": "no-referrer",
                             "Cache-Control": "no-store", "X-Robots-Tag": "noindex"})
    return response


def _failed(exc: APIError, origin: str | None = None) -> Response:
    """The reader sees why; the widget, when the page's origin is known, hears it too."""
    result = {"origin": origin, "message": {"type": ERROR, "message": exc.message}} if origin else None
    return _popup(exc.status, title="Sign-in did not work", message=exc.message, result=result)


def _signed_in(origin: str, session: dict) -> Response:
    return _popup(title="Signed in", message="You are signed in. This window closes by itself.",
                  result={"origin": origin, "message": {"type": SESSION, "session": session}})


@sign_in.get("/<name>/start")
@rate_limit("RATELIMIT_LOGIN")
def start(name: str):
    identity.require_enabled()
    try:
        url = oidc.begin(name, request.args)
        db.session.commit()  # the flow, and a Mastodon registration made on the way
    except APIError as exc:
        db.session.rollback()
        return _failed(exc)
    response = redirect(url, code=302)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


@sign_in.get("/<name>/callback")
@rate_limit("RATELIMIT_LOGIN")
def callback(name: str):
    identity.require_enabled()
    try:
        flow = oidc.take(name, request.args)
    except APIError as exc:
        return _failed(exc)
    db.session.commit()  # used now, whatever happens next: a state or code works once
    try:
        result = oidc.complete(flow, request.args)
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        return _failed(exc, flow.origin)
    if isinstance(result, tuple):
        key, account_name = result
        return _popup(title="Link to your account?",
                      message=f"The address this sign-in gave already belongs to the account "
                              f"“{account_name}”. Link this sign-in to it? You can then sign in either way.",
                      form={"action": f"/auth/oidc/{name}/confirm", "token": key,
                            "button": "Link and sign in"})
    return _signed_in(flow.origin, result)


@sign_in.post("/<name>/confirm")
@rate_limit("RATELIMIT_LOGIN")
def confirm_link(name: str):
    identity.require_enabled()
    if request.form.get("decision") != "link":
        return _popup(title="Not linked", message="Nothing was linked. You can close this window.")
    try:
        origin, session = oidc.confirm(name, web.link_token())
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        return _failed(exc)
    return _signed_in(origin, session)
