"""Admin authentication: bearer tokens stored as SHA-256, compared in constant time."""
from __future__ import annotations

import functools
import hmac
from datetime import timedelta

from flask import g, request
from sqlalchemy import select

from .errors import APIError
from .extensions import db
from .models import AdminToken, utcnow
from .security import new_token, token_hash


def create_token(name: str) -> str:
    """Store a new admin token's hash and return the token (shown once)."""
    token = new_token()
    db.session.add(AdminToken(name=name, token_hash=token_hash(token)))
    db.session.commit()
    return token


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate() -> AdminToken:
    presented = _bearer()
    if presented is None:
        raise APIError(401, "unauthorized", "send an admin token: Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": 'Bearer realm="widget-server"'})
    wanted = token_hash(presented)
    # Look the hash up, then compare in constant time: the lookup is by a
    # SHA-256 of a 256-bit secret, which leaks nothing useful through timing.
    row = db.session.execute(
        select(AdminToken).where(AdminToken.token_hash == wanted, AdminToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        raise APIError(401, "unauthorized", "this admin token is not valid",
                       headers={"WWW-Authenticate": 'Bearer realm="widget-server", error="invalid_token"'})
    now = utcnow()
    # Recorded at most once a minute, and committed at once, so read-only use
    # shows up in `token list` without a write on every admin request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        db.session.commit()
    return row


def admin_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.admin = authenticate()
        return view(*args, **kwargs)

    return wrapper
