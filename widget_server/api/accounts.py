"""Reader accounts API (/api/v1/auth/..., /api/v1/account...) and the pages that mail links open.

The JSON endpoints are for the widget (cross-origin, bearer tokens, JSON-only
writes like every other API call). The pages under /account/ and /mail/ are
where links in mail land: a GET only shows a page, its button POSTs a form
that carries the link's token (the token is the proof; the origin check does
not apply to them, which RFC 8058 one-click unsubscribe needs).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from .. import accounts, notifications, validation
from ..errors import APIError, ValidationError
from ..extensions import db, limiter, rate_limit_subject
from ..security import subject_hash

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
pages = Blueprint("account_pages", __name__)


def _limit(name: str):
    return limiter.limit(lambda: current_app.config[name])


def _sign_in_account() -> str:
    """Key of the per-account limit: a keyed hash of the address the sign-in names."""
    try:
        data = validation.json_body()
    except APIError:  # the view answers 400/415, which spends nothing
        data = {}
    return rate_limit_subject(subject_hash("sign-in", accounts.sign_in_address(data)))


# Failed sign-ins (401) per account, whichever clients they come from: many addresses
# cannot share out the guessing of one password. An address without an account is
# counted the same way, so a 429 tells nothing about whether it has one.
_account_limit = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], scope="account",
                               key_func=_sign_in_account,
                               deduct_when=lambda response: response.status_code == 401)


@bp.before_request
def _accounts_enabled():
    # Reply notifications work without accounts; everything else needs them on.
    if not request.path.startswith("/api/v1/notifications/"):
        accounts.require_enabled()


@bp.post("/auth/signup")
@_limit("RATELIMIT_SIGNUP")
def signup():
    accounts.signup(validation.json_body())
    db.session.commit()
    return jsonify({"status": "confirmation_sent",
                    "message": "Check your mail: the link in it finishes the sign-up."}), 202


@bp.post("/auth/confirm")
@_limit("RATELIMIT_RESET")
def confirm():
    user = accounts.confirm_signup(validation.json_body())
    db.session.commit()
    return jsonify({"user": accounts.user_view(user)}), 201


@bp.post("/auth/login")
@_limit("RATELIMIT_LOGIN")
@_account_limit
def login():
    body = accounts.login(validation.json_body())
    db.session.commit()
    return jsonify(body)


@bp.post("/auth/refresh")
@_limit("RATELIMIT_LOGIN")
def refresh():
    body = accounts.refresh(validation.json_body())
    db.session.commit()
    return jsonify(body)


@bp.post("/auth/logout")
def logout():
    if request.content_length:
        validation.json_body()
    session, _user = accounts.current_session()
    accounts.logout(session)
    db.session.commit()
    return Response(status=204)


@bp.post("/auth/forgot")
@_limit("RATELIMIT_RESET")
def forgot():
    accounts.forgot(validation.json_body())
    db.session.commit()
    return jsonify({"status": "reset_link_sent",
                    "message": "If this address has an account, a reset link is on its way."}), 202


@bp.post("/auth/reset")
@_limit("RATELIMIT_RESET")
def reset():
    accounts.reset_password(validation.json_body())
    db.session.commit()
    return jsonify({"status": "password_changed"})


@bp.get("/account")
def me():
    _session, user = accounts.current_session()
    return jsonify({"user": accounts.user_view(user)})


@bp.patch("/account")
@_limit("RATELIMIT_LOGIN")  # it checks current_password: no guessing through it
def update():
    data = validation.json_body()
    session, user = accounts.current_session()
    accounts.update_account(session, user, data)
    db.session.commit()
    return jsonify({"user": accounts.user_view(user)})


@bp.get("/account/data")
def download():
    _session, user = accounts.current_session()
    body = json.dumps(accounts.export(user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-comments-data.json"',
                             "Cache-Control": "no-store"})


@bp.post("/account/delete")
@_limit("RATELIMIT_LOGIN")
def delete():
    data = validation.json_body()
    _session, user = accounts.current_session()
    accounts.delete_account(user, data)
    db.session.commit()
    return Response(status=204)


@bp.post("/notifications/confirm")
def notifications_confirm():
    data = validation.json_body()
    confirmed = notifications.confirm_address(_token(data))
    db.session.commit()
    return jsonify({"confirmed": confirmed})


@bp.post("/notifications/unsubscribe")
def notifications_unsubscribe():
    data = validation.json_body()
    everything = data.get("all", False)
    if not isinstance(everything, bool):
        raise ValidationError({"all": "must be true or false"})
    removed = notifications.unsubscribe(_token(data), everything=everything)
    db.session.commit()
    return jsonify({"unsubscribed": removed})


def _token(data: dict) -> str:
    token = data.get("token")
    if not isinstance(token, str) or not token.strip():
        raise ValidationError({"token": "is required"})
    return token.strip()


# --- pages for links in mail -----------------------------------------------------------------

PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def _page(status: int = 200, **context) -> Response:
    response = Response(render_template("account_page.html", **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page_token() -> str:
    return (request.form.get("token") or request.args.get("token") or "").strip()[:500]


def _failed(exc: APIError) -> Response:
    message = next(iter((exc.fields or {}).values()), exc.message)
    return _page(400 if exc.status == 400 else exc.status, title="This link does not work",
                 message=f"The link {message}." if exc.fields else exc.message)


CONFIRM_FORM = {"button": "Create my account", "password": "Choose a password"}
RESET_FORM = {"button": "Save the new password", "password": "New password"}
DIFFER = "The two passwords differ. Try again."


def _password_form(form: dict, title: str, message: str, status: int = 200) -> Response:
    return _page(status, title=title, message=message, form=form | {"token": _page_token()})


def _two_passwords() -> str | None:
    """The password typed twice on a page, or None if the two differ."""
    password = request.form.get("password", "")
    return password if password == request.form.get("password_again", "") else None


@pages.get("/account/confirm")
def confirm_page():
    # The password is chosen here, by whoever holds the address (audit finding 6).
    return _password_form(CONFIRM_FORM, "Confirm your address",
                          "Choose the password of your comments account to finish creating it.")


@pages.post("/account/confirm")
@_limit("RATELIMIT_RESET")
def confirm_page_post():
    accounts.require_enabled()
    password = _two_passwords()
    if password is None:
        return _password_form(CONFIRM_FORM, "Confirm your address", DIFFER, 400)
    try:
        user = accounts.confirm_signup({"token": _page_token(), "password": password})
        db.session.commit()
    except ValidationError as exc:
        if exc.fields and "password" in exc.fields:
            return _password_form(CONFIRM_FORM, "Confirm your address",
                                  f"The password {exc.fields['password']}.", 400)
        return _failed(exc)
    except APIError as exc:
        return _failed(exc)
    return _page(title="Your account is ready",
                 message=f"Welcome, {user.display_name}. Go back to the page and sign in with your password.")


@pages.get("/account/reset")
def reset_page():
    return _password_form(RESET_FORM, "Choose a new password",
                          "Enter a new password for your comments account.")


@pages.post("/account/reset")
@_limit("RATELIMIT_RESET")
def reset_page_post():
    accounts.require_enabled()
    password = _two_passwords()
    if password is None:
        return _password_form(RESET_FORM, "Choose a new password", DIFFER, 400)
    try:
        accounts.reset_password({"token": _page_token(), "password": password})
        db.session.commit()
    except ValidationError as exc:
        if exc.fields and "password" in exc.fields:
            return _password_form(RESET_FORM, "Choose a new password",
                                  f"The password {exc.fields['password']}.", 400)
        return _failed(exc)
    return _page(title="Password changed",
                 message="Your password is changed and every session is signed out. "
                         "Go back to the page and sign in with the new password.")


@pages.get("/mail/confirm")
def notify_confirm_page():
    return _page(title="Reply notifications", message="Do you want an e-mail when someone replies to you?",
                 form={"button": "Yes, send me replies", "token": _page_token()})


@pages.post("/mail/confirm")
def notify_confirm_page_post():
    try:
        notifications.confirm_address(_page_token())
        db.session.commit()
    except APIError as exc:
        return _failed(exc)
    return _page(title="Confirmed", message="You will get an e-mail when someone replies to that comment. "
                                            "Every such mail has a link to stop them.")


@pages.get("/mail/unsubscribe")
def unsubscribe_page():
    return _page(title="Unsubscribe", message="Stop e-mails about replies to your comment?",
                 form={"button": "Unsubscribe", "token": _page_token(), "everything": True})


@pages.post("/mail/unsubscribe")
def unsubscribe_page_post():
    # Also the RFC 8058 one-click POST (body "List-Unsubscribe=One-Click", token in the URL).
    everything = request.form.get("all") == "1"
    try:
        notifications.unsubscribe(_page_token(), everything=everything)
        db.session.commit()
    except APIError as exc:
        return _failed(exc)
    return _page(title="Unsubscribed",
                 message="You will get no more e-mails about replies"
                         + (" to any comment." if everything else " to this comment."))
