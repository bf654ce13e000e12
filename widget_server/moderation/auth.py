"""Admin authentication: bearer tokens stored as SHA-256, compared in constant time."""
from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import select

from .. import clock
from ..errors import APIError
from ..extensions import db
from ..models import AdminToken
from ..security import new_token, token_hash


def create_token(name: str, site_id: int | None = None, role: str | None = None) -> str:
    """Store a new admin token's hash and return the token (shown once): a global one, or one of
    the site ``site_id`` with ``role`` (moderation/access.py). The caller commits."""
    return create(name, site_id, role)[1]


def create(name: str, site_id: int | None = None, role: str | None = None) -> tuple[AdminToken, str]:
    """The new token's row (flushed, so it has its id) and the token itself."""
    token = new_token()
    row = AdminToken(name=name, token_hash=token_hash(token), site_id=site_id,
                     role=role if site_id is not None else None)
    db.session.add(row)
    db.session.flush()
    return row, token


def authenticate(presented: str | None) -> AdminToken:
    """The admin token a request presents (its bearer token), or 401."""
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
    return row


def record_use(token: AdminToken) -> bool:
    """Note when a token was last used, at most once a minute; True if that needs a commit.

    So read-only use shows up in ``token list`` without a write on every admin request.
    """
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        return True
    return False
