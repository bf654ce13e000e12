"""Who a reader is: passwords, sessions (bearer tokens), and whether accounts are on at all.

Sessions are bearer tokens (no cookies: the widget runs on other sites' pages,
where third-party cookies are blocked) kept only as SHA-256 hashes: a
short-lived token for requests and a rotating refresh token to renew it.
A sign-in for an unknown address still verifies a password hash, so neither
the answer nor its timing tells whether the address has an account.
"""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import select

from .. import clock
from ..clock import iso
from ..config import accounts_enabled
from ..errors import APIError
from ..extensions import db
from ..models import AccountSession, Identity, User
from ..security import new_token, token_hash

_DUMMY_PASSWORD = "not a password anyone has: widget-server timing equaliser"  # noqa: S105


def enabled() -> bool:
    return accounts_enabled(current_app.config)


def require_enabled() -> None:
    if not enabled():
        raise APIError(404, "not_found", "reader accounts are not enabled on this site")


# --- passwords -------------------------------------------------------------------------------


def hasher() -> PasswordHasher:
    found = current_app.extensions.get("widget_password_hasher")
    if found is None:
        # Tests may pass argon2.profiles.CHEAPEST; production uses argon2-cffi's defaults (RFC 9106).
        params = current_app.config.get("PASSWORD_HASH_PARAMETERS")
        found = PasswordHasher.from_parameters(params) if params else PasswordHasher()
        current_app.extensions["widget_password_hasher"] = found
        current_app.extensions["widget_dummy_hash"] = found.hash(_DUMMY_PASSWORD)
    return found


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Check a password; with ``stored`` None, spend the same time and say no."""
    check = hasher()
    try:
        check.verify(stored or current_app.extensions["widget_dummy_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None


# --- sessions --------------------------------------------------------------------------------


def user_view(user: User) -> dict:
    """What the widget shows of the signed-in reader (the address is never echoed)."""
    ways = db.session.execute(
        select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)).scalars()
    return {"id": user.id, "display_name": user.display_name, "created_at": iso(user.created_at),
            # addition (issue 18): the ways into the account, for its panel (linking, unlinking)
            "password": user.password_hash is not None,
            "identities": [{"id": i.id, "provider": i.provider, "handle": i.handle} for i in ways]}


def session_body(session: AccountSession, token: str, refresh: str, user: User) -> dict:
    return {"token": token, "token_expires_at": iso(session.expires_at),
            "refresh_token": refresh, "refresh_expires_at": iso(session.refresh_expires_at),
            "user": user_view(user)}


def lifetimes() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(seconds=cfg["SESSION_LIFETIME"]), timedelta(seconds=cfg["REFRESH_LIFETIME"])


def start_session(user: User, via: str | None = None) -> dict:
    """A new session for ``user``; the body answers sign-in. ``via``: the identity it signed in
    with, as the verified mark says it (None: the password). The caller commits."""
    token, refresh = new_token(), new_token()
    lifetime, refresh_lifetime = lifetimes()
    now = clock.now()
    session = AccountSession(user_id=user.id, token_hash=token_hash(token), refresh_hash=token_hash(refresh),
                             created_at=now, expires_at=now + lifetime,
                             refresh_expires_at=now + refresh_lifetime, via=via)
    db.session.add(session)
    db.session.flush()
    return session_body(session, token, refresh, user)


def unauthorized(message: str) -> APIError:
    return APIError(401, "unauthorized", message,
                    headers={"WWW-Authenticate": 'Bearer realm="widget-server", error="invalid_token"'})


def current_session(token: str | None) -> tuple[AccountSession, User]:
    """The session of a bearer token and its account, or 401 (then: refresh, or sign in again)."""
    require_enabled()
    if token is None:
        raise APIError(401, "unauthorized", "sign in first: Authorization: Bearer <session token>",
                       headers={"WWW-Authenticate": 'Bearer realm="widget-server"'})
    session = db.session.execute(
        select(AccountSession).where(AccountSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if session is None or session.revoked_at is not None or session.expires_at <= clock.now():
        raise unauthorized("the session has expired or was ended: refresh it or sign in again")
    user = db.session.get(User, session.user_id)
    user.signed_in_via = session.via
    return session, user


def posting_account(token: str | None) -> User | None:
    """For a new comment: the signed-in account, None without a bearer token (or with accounts off)."""
    if not enabled() or token is None:
        return None
    return current_session(token)[1]
