"""Reader accounts API for the widget (/api/v1/auth/..., /api/v1/account...).

Cross-origin, bearer tokens, JSON-only writes like every other API call. The
pages that links in account mail open are in pages.py.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from .. import sites, web
from ..errors import APIError
from ..extensions import db, rate_limit, rate_limit_subject
from ..security import subject_hash
from . import external, identity, oidc, sso
from . import service as accounts

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


def _sign_in_account() -> str:
    """Key of the per-account limit: a keyed hash of the address the sign-in names."""
    try:
        data = web.json_body()
    except APIError:  # the view answers 400/415, which spends nothing
        data = {}
    return rate_limit_subject(subject_hash("sign-in", accounts.sign_in_address(data)))


# Failed sign-ins (401) per account, whichever clients they come from: many addresses
# cannot share out the guessing of one password. An address without an account is
# counted the same way, so a 429 tells nothing about whether it has one.
_account_limit = rate_limit("RATELIMIT_LOGIN_ACCOUNT", scope="account", key_func=_sign_in_account,
                            deduct_when=lambda response: response.status_code == 401)


@bp.before_request
def _accounts_enabled():
    identity.require_enabled()


def _signed_in():
    return identity.current_session(web.bearer_token())


@bp.post("/auth/signup")
@rate_limit("RATELIMIT_SIGNUP")
def signup():
    accounts.signup(web.json_body())
    db.session.commit()
    return jsonify({"status": "confirmation_sent",
                    "message": "Check your mail: the link in it finishes the sign-up."}), 202


@bp.post("/auth/confirm")
@rate_limit("RATELIMIT_RESET")
def confirm():
    user = accounts.confirm_signup(web.json_body())
    db.session.commit()
    return jsonify({"user": identity.user_view(user)}), 201


@bp.post("/auth/login")
@rate_limit("RATELIMIT_LOGIN")
@_account_limit
def login():
    body = accounts.login(web.json_body())
    db.session.commit()
    return jsonify(body)


@bp.post("/auth/sso")
@rate_limit("RATELIMIT_LOGIN")
def sso_sign_in():
    """The host site's own login: its signed token for a session (accounts/sso.py)."""
    body = sso.sign_in(web.json_body(), sites.for_origin(request.headers.get("Origin")))
    db.session.commit()
    return jsonify(body)


@bp.get("/auth/providers")
def sign_in_providers():
    """The widget's sign-in buttons: each configured provider, ``available`` false while its
    discovery document cannot be fetched; and whether the host site's login is on."""
    return jsonify({"providers": oidc.listing(),
                    "sso": sso.enabled(sites.for_origin(request.headers.get("Origin")))})


@bp.post("/auth/refresh")
@rate_limit("RATELIMIT_LOGIN")
def refresh():
    body = accounts.refresh(web.json_body())
    db.session.commit()
    return jsonify(body)


@bp.post("/auth/logout")
def logout():
    web.bodyless()
    session, _user = _signed_in()
    accounts.logout(session)
    db.session.commit()
    return Response(status=204)


@bp.post("/auth/forgot")
@rate_limit("RATELIMIT_RESET")
def forgot():
    accounts.forgot(web.json_body())
    db.session.commit()
    return jsonify({"status": "reset_link_sent",
                    "message": "If this address has an account, a reset link is on its way."}), 202


@bp.post("/auth/reset")
@rate_limit("RATELIMIT_RESET")
def reset():
    accounts.reset_password(web.json_body())
    db.session.commit()
    return jsonify({"status": "password_changed"})


@bp.get("/account")
def me():
    _session, user = _signed_in()
    return jsonify({"user": identity.user_view(user)})


@bp.patch("/account")
@rate_limit("RATELIMIT_LOGIN")  # it checks current_password: no guessing through it
def update():
    data = web.json_body()
    session, user = _signed_in()
    accounts.update_account(session, user, data)
    db.session.commit()
    return jsonify({"user": identity.user_view(user)})


@bp.post("/account/identities")
@rate_limit("RATELIMIT_LOGIN")
def link():
    """Start linking a provider to the signed-in account: the URL the widget's popup opens."""
    data = web.json_body()
    _session, user = _signed_in()
    url = oidc.grant_link(user, data)
    db.session.commit()
    return jsonify({"url": url}), 201


@bp.delete("/account/identities/<int:identity_id>")
@rate_limit("RATELIMIT_LOGIN")
def unlink(identity_id: int):
    _session, user = _signed_in()
    external.unlink(user, identity_id)
    db.session.commit()
    return jsonify({"user": identity.user_view(user)})


@bp.get("/account/data")
def download():
    _session, user = _signed_in()
    body = json.dumps(accounts.export(user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-comments-data.json"',
                             "Cache-Control": "no-store"})


@bp.post("/account/delete")
@rate_limit("RATELIMIT_LOGIN")
def delete():
    data = web.json_body()
    _session, user = _signed_in()
    accounts.delete_account(user, data)
    db.session.commit()
    return Response(status=204)
