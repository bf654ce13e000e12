"""The host site's own login (SSO): its backend signs who the reader is, we trade that for a session.

The token is a JWT signed with HS256 and the site's secret (``WIDGET_SSO_SECRET``),
read with joserfc: ``sub`` (the site's own user id), ``name`` and ``exp`` are
required, ``email`` and ``picture`` optional. Only HS256 is accepted (never
``none``, never a key the token names), and ``exp`` is checked against the
service clock. The same ``sub`` is the same account on every sign-in
(accounts/external.py); ``picture`` is accepted and not used: the widget loads
nothing from other sites.
"""
from __future__ import annotations

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from .. import clock
from ..errors import APIError, ValidationError, problem
from . import checks, external
from .identity import unauthorized

PROVIDER = "sso"
LABEL = "the site's own sign-in"
MAX_TOKEN = 8192
MAX_SUBJECT = 255
ALGORITHMS = ["HS256"]


def enabled() -> bool:
    return bool(current_app.config.get("SSO_SECRET"))


def _claims(token: str, secret: str) -> dict:
    """The checked claims of a token, or a 401 that says what is wrong (never which part of the
    key), since the page that hands it over is the site owner's to debug."""
    try:
        decoded = jwt.decode(token, OctKey.import_key(secret), algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(now=lambda: int(clock.now().timestamp()),
                              sub={"essential": True}, exp={"essential": True},
                              name={"essential": True}).validate(decoded.claims)
    except JoseError as exc:
        reason = {"missing_claim": "lacks a required claim (sub, name and exp)",
                  "expired_token": "has expired", "bad_signature": "has a bad signature"}.get(
            exc.error, "is not a valid token for this site")
        raise unauthorized(f"the sign-in token {reason}") from None
    except (ValueError, TypeError):
        raise unauthorized("the sign-in token is not a valid token for this site") from None
    return decoded.claims


def sign_in(data: dict) -> dict:
    """``POST /api/v1/auth/sso {"token"}``: a session for the site's reader. The caller commits."""
    if not enabled():
        raise APIError(404, "not_found", "this server has no host-site sign-in (WIDGET_SSO_SECRET)")
    token = data.get("token")
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise ValidationError({"token": problem("required", "is required: the JWT the site signed")})
    claims = _claims(token.strip(), current_app.config["SSO_SECRET"])
    subject, name, email = claims.get("sub"), claims.get("name"), claims.get("email")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT:
        raise unauthorized("the sign-in token's sub must be the site's user id, as text")
    if not isinstance(name, str) or not name.strip():
        raise unauthorized("the sign-in token's name must be the reader's name, as text")
    if email is not None and not isinstance(email, str):
        raise unauthorized("the sign-in token's email must be text")
    checked = None
    if email:
        problems: dict[str, str] = {}
        checked = _email(email, problems)
    asserted = external.Asserted(provider=PROVIDER, label=LABEL, subject=subject.strip(), name=name,
                                 email=checked, email_verified=checked is not None)
    result = external.sign_in(asserted)
    assert isinstance(result, dict)  # the site's login never asks to link: see external.py
    return result


def _email(value: str, problems: dict[str, str]) -> str | None:
    """The address as the accounts' forms check it; a bad one is dropped, not refused."""
    found = checks.email({"email": value}, problems)
    return found if not problems else None
