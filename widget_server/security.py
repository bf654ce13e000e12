"""Hashes and secrets: IP hashes, avatar hashes, edit and admin tokens, signed tokens.

Nothing here stores a raw IP address or a usable token: addresses are keyed
with the instance secret (so a leaked database cannot be reversed with a
rainbow table of IPv4), and tokens are random 256-bit values kept as SHA-256.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from . import clock


def _keyed(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def ip_hash(ip: str) -> str:
    return _keyed("ip", ip)[:32]


def voter_hash(ip: str) -> str:
    return _keyed("voter", ip)[:32]


def avatar_hash(email: str | None, author: str, ip_hash_value: str) -> str:
    """A short public hash for the identicon that does not reveal the e-mail."""
    seed = (email or "").strip().lower() or f"{author.strip().lower()}|{ip_hash_value}"
    return _keyed("avatar", seed)[:16]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented token against a stored hash."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


# --- signed tokens ---------------------------------------------------------------------------
# One serializer, keyed by the instance secret and salted by purpose (a form token can never
# pass as an unsubscribe link), stamped by the service clock so tests can move time. The
# purposes are the salts earlier releases used, so links already mailed keep working.
FORM_TOKEN = "widget-form-token"  # noqa: S105 - a salt, not a secret
NOTIFY_CONFIRM = "widget-server notify-confirm"
UNSUBSCRIBE = "widget-server unsubscribe"


class TokenExpired(ValueError):
    """A signed token that was valid, but is older than its purpose allows."""


class TokenInvalid(ValueError):
    """A signed token that is forged, damaged or made for another purpose."""


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose,
                                  signer=_ClockSigner)


def sign(purpose: str, payload: object) -> str:
    """A URL-safe token carrying ``payload`` (readable by anyone: never put a secret in it)."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age: int | None = None) -> tuple[object, datetime]:
    """The payload of a token made by ``sign`` for ``purpose``, and when it was signed."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise TokenExpired(purpose) from None
    except BadData:
        raise TokenInvalid(purpose) from None
