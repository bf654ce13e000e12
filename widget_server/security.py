"""Hashes and secrets: IP hashes, avatar hashes, edit and admin tokens.

Nothing here stores a raw IP address or a usable token: addresses are keyed
with the instance secret (so a leaked database cannot be reversed with a
rainbow table of IPv4), and tokens are random 256-bit values kept as SHA-256.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app


def _keyed(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def ip_hash(ip: str) -> str:
    return _keyed("ip", ip)[:32]


def voter_hash(ip: str) -> str:
    return _keyed("voter", ip)[:32]


def fingerprint(purpose: str, value: str) -> str:
    """A keyed digest of ``value`` that tells whether it changed, and nothing about it."""
    return _keyed(purpose, value)[:32]


def avatar_hash(user_id: int | None, email: str | None, author: str, ip_hash_value: str) -> str:
    """A short public hash for the identicon.

    An account's posts share one picture (keyed by the account, not its address). Any other
    post's picture comes from its name and keyed IP hash, never from the address alone: an
    address is proven by nobody, so a picture made from it would let anyone confirm a guessed
    address by posting with it and comparing pictures (audit finding 7). Imported comments,
    which have no IP hash, use the keyed address instead, which no new post can reproduce.
    """
    if user_id is not None:
        return _keyed("avatar-account", str(user_id))[:16]
    where = ip_hash_value or _keyed("avatar-address", (email or "").strip().lower())
    return _keyed("avatar", f"{author.strip().casefold()}|{where}")[:16]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented token against a stored hash."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)
