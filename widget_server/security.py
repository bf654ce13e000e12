"""Hashes and secrets: client keys, IP hashes, avatar hashes, edit and admin tokens, signed tokens.

Nothing here stores a raw IP address or a usable token: addresses are keyed
with the instance secret (so a leaked database cannot be reversed with a
rainbow table of IPv4), and tokens are random 256-bit values kept as SHA-256.

Every hash of an address goes through ``client_address`` first, so rate limits,
bans, likes, the duplicate rule and log tags all see one client however its
address is spelled (docs/security.md).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime

from flask import current_app
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from . import clock

UNKNOWN_CLIENT = "unknown"
IPV6_PREFIX = 64  # what one subscriber is usually given (RFC 6177): new host bits are no new client


def _keyed(purpose: str, value: str) -> str:
    return _hmac(current_app.config["SECRET_KEY"], purpose, value)


def _hmac(key: str, purpose: str, value: str) -> str:
    # hmac.digest: the same HMAC as hmac.new(...).hexdigest(), in one C call (a thread's tree
    # computes one per comment).
    return hmac.digest(key.encode(), f"{purpose}:{value}".encode(), "sha256").hex()


@functools.lru_cache(maxsize=4096)
def client_address(raw: str | None) -> str:
    """The one canonical form of a client's address that everything is keyed on.

    IPv4 is the address itself (so IPv4 hashes stay what earlier releases stored);
    an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``, as dual-stack sockets report
    IPv4 clients) is that IPv4 address; IPv6 is its /64 network; a zone index or a
    port a proxy wrote along is dropped; anything else is ``unknown``.
    """
    text = (raw or "").strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        inside, closed, _port = text[1:].partition("]")
        text = inside if closed else ""
    elif text.count(":") == 1:  # "10.0.0.1:51234" (IPv6 always has at least two colons)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = int(address) >> (128 - IPV6_PREFIX) << (128 - IPV6_PREFIX)  # without any %zone
        return str(ipaddress.IPv6Network((network, IPV6_PREFIX)))
    return str(address)


@functools.lru_cache(maxsize=4096)
def _address_hash(key: str, address: str) -> str:
    # Keyed by the secret too: the hashes follow a changed secret (and another app's, in tests).
    return _hmac(key, "ip", address)[:32]


def ip_hash(ip: str | None) -> str:
    """The poster's address as stored with a comment and matched by bans. Remembered per
    address: a post asks for it three times, and one client sends many requests."""
    return _address_hash(current_app.config["SECRET_KEY"], client_address(ip))


def ip_hashes(ip: str | None) -> tuple[str, str]:
    """``ip_hash``, and the hash of the address as spelled, which is what releases before
    canonical addresses stored for IPv6: a ban made from such a comment keeps holding. Both
    (the same one twice for an address spelled canonically, as every IPv4 address is)."""
    key = current_app.config["SECRET_KEY"]
    return _address_hash(key, client_address(ip)), _address_hash(key, (ip or "").strip())


def imported_ip_hash(ip: str | None) -> str:
    """``ip_hash`` of an address from an imported file; blank when there is none or it does
    not parse, so such comments are not lumped together as one banable "unknown" poster."""
    return ip_hash(ip) if client_address(ip) != UNKNOWN_CLIENT else ""


def derived_key(purpose: str) -> str:
    """A key for one purpose (the ALTCHA HMAC key), derived from the instance secret."""
    return _keyed("key", purpose)


def voter_hash(ip: str | None) -> str:
    return _keyed("voter", client_address(ip))[:32]


def client_hash(ip: str | None) -> str:
    """The client's key in rate-limit storage: keyed, so Redis never holds an address."""
    return _keyed("client", client_address(ip))[:32]


def subject_hash(purpose: str, value: str) -> str:
    """A keyed hash of anything else a limit counts by (an e-mail address, say)."""
    return _keyed(purpose, value)[:32]


def fingerprint(purpose: str, value: str) -> str:
    """A keyed digest of ``value`` that tells whether it changed, and nothing about it."""
    return _keyed(purpose, value)[:32]


def key_fingerprint(secret: str) -> str:
    """Names an instance secret without revealing it: an export says which secret keyed its hashes."""
    return hmac.new(secret.encode(), b"widget-server key fingerprint", hashlib.sha256).hexdigest()[:16]


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


# --- signed tokens ---------------------------------------------------------------------------
# One serializer, keyed by the instance secret and salted by purpose (a form token can never
# pass as an unsubscribe link), stamped by the service clock so tests can move time. The
# purposes are the salts earlier releases used, so links already mailed keep working.
FORM_TOKEN = "widget-form-token"  # noqa: S105 - a salt, not a secret
NOTIFY_CONFIRM = "widget-server notify-confirm"
UNSUBSCRIBE = "widget-server unsubscribe"
MODERATION_LINK = "widget-server moderation-link"  # approve/spam/delete links in the admin's mail
MODERATION_LINK_MAX_AGE = 14 * 86400


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
