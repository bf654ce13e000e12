"""What the server asks the sign-in providers: discovery, keys, who the reader is, and Mastodon's
app registration. Every request has a timeout, follows no redirect, and goes only where the
configuration (or, for Mastodon, a checked public instance) says.

OpenID Connect ID tokens are checked with joserfc against the issuer's published keys: the
signature, ``iss`` (the discovery document's, which must be the configured issuer), ``aud`` (our
client id; ``azp`` too when there are several), ``exp``, ``iat`` and the flow's ``nonce``.
"""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import requests
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from .. import clock
from ..errors import APIError
from ..extensions import db
from ..models import ProviderClient
from ..providers import GITHUB, MASTODON, OIDC, Provider
from . import outbound
from .external import Asserted

log = logging.getLogger(__name__)
TIMEOUT = 10
DISCOVERY_TTL, FAILURE_TTL = 3600.0, 60.0
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "RS384", "RS512", "ES384"]
LEEWAY = 60


def unavailable(message: str) -> APIError:
    return APIError(502, "provider_unavailable", message)


def refused(message: str) -> APIError:
    return APIError(400, "sign_in_refused", message)


def allow_private() -> bool:
    return bool(current_app.config.get("OIDC_ALLOW_PRIVATE"))


def instance_session() -> requests.Session:
    """For requests to a Mastodon instance: each connection's address checked (outbound.py)."""
    return outbound.guard(requests.Session(), private_ok=allow_private())


def _get(url: str, *, session: requests.Session | None = None, **kwargs) -> dict:
    try:
        response = (session or requests).get(
            url,
            timeout=TIMEOUT,
            allow_redirects=False,
            headers={"Accept": "application/json", **kwargs.pop("headers", {})},
            **kwargs,
        )
        response.raise_for_status()
        found = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise unavailable(
            f"{urlsplit(url).netloc} did not answer as expected ({type(exc).__name__})"
        ) from None
    if not isinstance(found, dict | list):
        raise unavailable(f"{urlsplit(url).netloc} answered something that is not JSON")
    return found


# --- OpenID Connect discovery (cached per process; a failure is retried a minute later) ------


def discovery(provider: Provider) -> dict:
    cache = current_app.extensions.setdefault("widget_oidc_discovery", {})
    now = time.monotonic()
    found = cache.get(provider.name)
    if found and found[0] > now:
        if found[1] is None:
            raise unavailable(
                f"{provider.label} sign-in is unavailable for now: its discovery document "
                "could not be fetched"
            )
        return found[1]
    try:
        document = _get(provider.issuer + "/.well-known/openid-configuration")
        issuer = document.get("issuer", "")
        if (
            not isinstance(issuer, str)
            or issuer.rstrip("/") != provider.issuer.rstrip("/")
            and "{tenantid}" not in issuer
        ):
            raise unavailable(f"{provider.label}'s discovery document names another issuer ({issuer!r})")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise unavailable(f"{provider.label}'s discovery document has no {key}")
    except APIError as exc:
        log.warning(
            "sign-in provider %s is unavailable: %s; its button is disabled, tried again in a minute",
            provider.name,
            exc.message,
        )
        cache[provider.name] = (now + FAILURE_TTL, None)
        raise
    cache[provider.name] = (now + DISCOVERY_TTL, document)
    return document


def available(provider: Provider) -> bool:
    if provider.kind != OIDC:
        return True
    try:
        discovery(provider)
    except APIError:
        return False
    return True


def endpoints(provider: Provider, instance: str | None) -> tuple[str, str]:
    """The authorization and token endpoints."""
    if provider.kind == OIDC:
        document = discovery(provider)
        return document["authorization_endpoint"], document["token_endpoint"]
    if provider.kind == GITHUB:
        return provider.authorize_url, provider.token_url
    return f"{instance}/oauth/authorize", f"{instance}/oauth/token"


# --- Mastodon: a checked public instance, and our registration with it ----------------------


def _public(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(outbound.public_address(a) for a in addresses)


def instance_url(raw: object) -> str:
    """The base URL of the Mastodon instance a reader typed (``example.social``), refused when its
    name resolves to a private, loopback or other non-public address (unless
    WIDGET_OIDC_ALLOW_PRIVATE, for tests, which also allows http://)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 253:
        raise refused("name your Mastodon instance, e.g. mastodon.social")
    text = raw.strip().lower().removeprefix("@").rstrip("/")
    if "@" in text:  # "@ann@example.social": the instance is after the last @
        text = text.rsplit("@", 1)[1]
    scheme = "https"
    if text.startswith(("http://", "https://")):
        scheme, _, text = text.partition("://")
    try:
        parts = urlsplit(f"{scheme}://{text}")
        host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
        host = host.encode("idna").decode("ascii") if host else None
    except (ValueError, UnicodeError):
        host = None
    if not host or parts.path or parts.query or parts.username or (scheme == "http" and not allow_private()):
        raise refused("name your Mastodon instance by its host name, e.g. mastodon.social")
    if not allow_private() and not _public(host, port):
        raise refused(f"{host} is not a public Mastodon instance")
    default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    return f"{scheme}://{host}" + ("" if default else f":{port}")


def mastodon_client(provider: Provider, instance: str, redirect_uri: str) -> ProviderClient:
    """Our app on the instance, registered on first use and kept (the caller commits)."""
    found = db.session.execute(
        select(ProviderClient).where(
            ProviderClient.provider == provider.name, ProviderClient.instance == instance
        )
    ).scalar_one_or_none()
    if found is not None and found.redirect_uri == redirect_uri:
        return found
    try:
        response = instance_session().post(
            f"{instance}/api/v1/apps",
            timeout=TIMEOUT,
            allow_redirects=False,
            data={
                "client_name": "Comments",
                "redirect_uris": redirect_uri,
                "scopes": " ".join(provider.scopes),
            },
        )
        response.raise_for_status()
        app = response.json()
        client_id, secret = app["client_id"], app["client_secret"]
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ValueError("not text")
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise unavailable(
            f"{urlsplit(instance).netloc} did not register this comment server (is it a Mastodon instance?)"
        ) from None
    if found is None:
        found = ProviderClient(provider=provider.name, instance=instance, created_at=clock.now())
        db.session.add(found)
    found.redirect_uri, found.client_id, found.client_secret = redirect_uri, client_id, secret
    db.session.flush()
    return found


# --- who the reader is ----------------------------------------------------------------------


def _id_token_claims(provider: Provider, token: dict, nonce: str) -> dict:
    document = discovery(provider)
    value = token.get("id_token")
    if not isinstance(value, str):
        raise refused(f"{provider.label} sent no ID token")
    keys = KeySet.import_key_set(_get(document["jwks_uri"]))
    try:
        decoded = jwt.decode(value, keys, algorithms=ID_TOKEN_ALGORITHMS)
        claims = decoded.claims
        issuer = str(document["issuer"]).replace("{tenantid}", str(claims.get("tid", "")))
        jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            leeway=LEEWAY,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": provider.client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise refused(
            f"{provider.label}'s ID token is not valid for this server "
            f"({getattr(exc, 'error', type(exc).__name__)})"
        ) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise refused(f"{provider.label}'s ID token was issued to another client")
    return claims


def _oidc(provider: Provider, token: dict, nonce: str) -> Asserted:
    claims = dict(_id_token_claims(provider, token, nonce))
    userinfo_url = discovery(provider).get("userinfo_endpoint")
    if isinstance(userinfo_url, str) and token.get("access_token"):
        info = _get(userinfo_url, headers={"Authorization": f"Bearer {token['access_token']}"})
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise refused(f"{provider.label} described another user than its ID token")
        claims = {**info, **{k: v for k, v in claims.items() if k in ("iss", "aud", "sub")}}
    username = claims.get("preferred_username") or claims.get("nickname")
    handle = f"@{username}" if isinstance(username, str) and username and "@" not in username else None
    name = next(
        (v for v in (claims.get("name"), username, claims.get("given_name")) if isinstance(v, str) and v), ""
    )
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = claims.get("email_verified") in (True, "true")
    return Asserted(
        provider=provider.name,
        label=provider.label,
        subject=str(claims["sub"]),
        name=name,
        handle=handle,
        email=email,
        email_verified=verified,
    )


def _github(provider: Provider, token: dict) -> Asserted:
    auth = {"Authorization": f"Bearer {token.get('access_token', '')}"}
    user = _get(f"{provider.api_url}/user", headers=auth)
    if (
        not isinstance(user, dict)
        or not isinstance(user.get("id"), int)
        or not isinstance(user.get("login"), str)
    ):
        raise refused("GitHub did not say who you are")
    emails = _get(f"{provider.api_url}/user/emails", headers=auth)
    primary = (
        next((e for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")), None)
        if isinstance(emails, list)
        else None
    )
    return Asserted(
        provider=provider.name,
        label=provider.label,
        subject=str(user["id"]),
        name=user.get("name") or user["login"],
        handle=f"@{user['login']}",
        email=primary.get("email") if primary else None,
        email_verified=primary is not None,
    )


def _mastodon(provider: Provider, token: dict, instance: str) -> Asserted:
    account = _get(
        f"{instance}/api/v1/accounts/verify_credentials",
        session=instance_session(),
        headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
    )
    if (
        not isinstance(account, dict)
        or not isinstance(account.get("id"), str | int)
        or not isinstance(account.get("username"), str)
    ):
        raise refused("the instance did not say who you are")
    host = urlsplit(instance).netloc
    return Asserted(
        provider=provider.name,
        label=provider.label,
        subject=f"{host}/{account['id']}",
        name=account.get("display_name") or account["username"],
        handle=f"@{account['username']}@{host}",
    )


def identify(provider: Provider, token: dict, *, nonce: str, instance: str | None) -> Asserted:
    if provider.kind == OIDC:
        return _oidc(provider, token, nonce)
    if provider.kind == GITHUB:
        return _github(provider, token)
    assert provider.kind == MASTODON and instance
    return _mastodon(provider, token, instance)
