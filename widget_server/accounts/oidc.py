"""Sign-in through a provider, in a popup, without a cookie (docs/accounts.md, "How a provider
sign-in travels").

``begin`` keeps the flow in the database (``SignInFlow``: the hash of ``state``, the ``nonce``,
the PKCE verifier, the host page's origin) and returns the provider's authorization URL,
built by Authlib with ``state``, ``nonce`` and an S256 code challenge. ``take`` finds the flow
again by the ``state`` the provider sends back and marks it used: the caller commits that at
once, so a second use of the same state (or code) is refused whatever happens next. ``complete``
exchanges the code with the verifier, asks who the reader is (remote.py) and signs in, links,
or asks the reader to confirm a link (accounts/external.py).

Every function leaves its changes in the session: the caller commits.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from requests import RequestException
from sqlalchemy import delete, select

from .. import clock, cors
from ..config import sign_in_providers
from ..errors import APIError
from ..extensions import db
from ..hosts import base_url
from ..models import SignInFlow, User
from ..providers import MASTODON, OIDC, Provider
from ..security import new_token, token_hash
from ..urls import normalize_origin
from . import external, outbound, remote

FLOW_LIFETIME = timedelta(minutes=10)
LINK, STATE, CONFIRM = "link", "state", "confirm"


def providers() -> list[Provider]:
    found = current_app.extensions.get("widget_sign_in_providers")
    if found is None:
        found = current_app.extensions["widget_sign_in_providers"] = sign_in_providers(current_app.config)
    return found


def provider_named(name: str) -> Provider:
    found = next((p for p in providers() if p.name == name), None)
    if found is None:
        raise APIError(404, "not_found", f"no sign-in provider is called {name!r} here")
    return found


def listing() -> list[dict]:
    """The providers for the widget's buttons; one whose discovery fails is there, disabled."""
    return [p.public() | {"available": remote.available(p)} for p in providers()]


def redirect_uri(provider: Provider) -> str:
    return f"{base_url()}/auth/oidc/{provider.name}/callback"


def page_origin(raw: object) -> str:
    """The host page's origin, exactly as a browser writes it, and one the server allows."""
    origin = normalize_origin(raw) if isinstance(raw, str) else None
    if not origin or origin == "*" or origin != raw or not cors.origin_allowed(origin):
        raise APIError(
            400,
            "origin_not_allowed",
            "origin must be the page's origin (scheme://host[:port]), one of WIDGET_ALLOWED_ORIGINS",
        )
    return origin


def _flow(stage: str, key: str, provider: str) -> SignInFlow:
    found = db.session.execute(
        select(SignInFlow).where(SignInFlow.key_hash == token_hash(key))
    ).scalar_one_or_none()
    if (
        found is None
        or found.stage != stage
        or found.provider != provider
        or found.used_at is not None
        or found.expires_at <= clock.now()
    ):
        raise APIError(
            400, "invalid_state", "this sign-in has expired or was already used: start it again from the page"
        )
    found.used_at = clock.now()
    return found


def _new_flow(stage: str, provider: str, **values) -> str:
    key = new_token()
    now = clock.now()
    # Flows past their time are of no use to anyone: each new one clears them away.
    db.session.execute(delete(SignInFlow).where(SignInFlow.expires_at <= now))
    db.session.add(
        SignInFlow(
            key_hash=token_hash(key),
            stage=stage,
            provider=provider,
            created_at=now,
            expires_at=now + FLOW_LIFETIME,
            **values,
        )
    )
    return key


def grant_link(user: User, data: dict) -> str:
    """``POST /api/v1/account/identities``: the start URL that links a provider to ``user``."""
    provider = provider_named(str(data.get("provider", "")))
    origin = page_origin(data.get("origin"))
    key = _new_flow(LINK, provider.name, origin=origin, user_id=user.id)
    query = {"origin": origin, "link": key} | (
        {"instance": str(data.get("instance", ""))} if provider.kind == MASTODON else {}
    )
    return f"{base_url()}/auth/oidc/{provider.name}/start?{urlencode(query)}"


def _client(provider: Provider, instance: str | None) -> tuple[str, str]:
    if provider.kind != MASTODON:
        return provider.client_id, provider.client_secret
    registered = remote.mastodon_client(provider, instance or "", redirect_uri(provider))
    return registered.client_id, registered.client_secret


def _session(provider: Provider, client: tuple[str, str]) -> OAuth2Session:
    found = _oauth(provider, client)
    # A reader named the Mastodon instance: its connections are checked like every other request.
    return outbound.guard(found, private_ok=remote.allow_private()) if provider.kind == MASTODON else found


def _oauth(provider: Provider, client: tuple[str, str]) -> OAuth2Session:
    return OAuth2Session(
        client[0],
        client[1],
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri(provider),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
    )


def begin(name: str, args: dict) -> str:
    """``GET /auth/oidc/<name>/start``: the provider's authorization URL for a new flow."""
    provider = provider_named(name)
    origin = page_origin(args.get("origin"))
    user_id = None
    if args.get("link"):
        user_id = _flow(LINK, str(args["link"]), provider.name).user_id
    instance = remote.instance_url(args.get("instance")) if provider.kind == MASTODON else None
    authorize, _token_url = remote.endpoints(provider, instance)
    client = _client(provider, instance)
    nonce, verifier = new_token(), generate_token(64)
    state = _new_flow(STATE, provider.name, instance=instance, origin=origin, nonce=nonce,
                      code_verifier=verifier, user_id=user_id)
    extra = {"nonce": nonce} if provider.kind == OIDC else {}
    url, _ = _session(provider, client).create_authorization_url(
        authorize, state=state, code_verifier=verifier, **extra
    )
    return url


def take(name: str, args: dict) -> SignInFlow:
    """The flow the provider's answer belongs to, now used (commit it before going on)."""
    state = args.get("state")
    if not isinstance(state, str) or not state:
        raise APIError(400, "invalid_state", "the provider's answer has no state: start again from the page")
    return _flow(STATE, state, provider_named(name).name)


def complete(flow: SignInFlow, args: dict) -> dict | tuple[str, str]:
    """The session of the reader, or (confirmation key, the account's name) when linking to an
    existing account needs the reader's yes."""
    provider = provider_named(flow.provider)
    if args.get("error"):
        raise remote.refused(f"{provider.label} did not sign you in ({str(args['error'])[:100]})")
    code = args.get("code")
    if not isinstance(code, str) or not code:
        raise remote.refused(f"{provider.label} sent no code")
    _authorize, token_url = remote.endpoints(provider, flow.instance)
    try:
        token = _session(provider, _client(provider, flow.instance)).fetch_token(
            token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=flow.code_verifier,
            headers={"Accept": "application/json"},
            timeout=remote.TIMEOUT,
            allow_redirects=False,
        )
    except (OAuthError, RequestException, ValueError) as exc:
        raise remote.refused(
            f"{provider.label} did not accept this sign-in "
            f"({getattr(exc, 'error', None) or type(exc).__name__})"
        ) from None
    asserted = remote.identify(provider, token, nonce=flow.nonce, instance=flow.instance)
    link_to = db.session.get(User, flow.user_id) if flow.user_id else None
    result = external.sign_in(asserted, link_to=link_to)
    if isinstance(result, external.Confirm):
        key = _new_flow(
            CONFIRM,
            provider.name,
            origin=flow.origin,
            user_id=result.user.id,
            payload=json.dumps(asserted.__dict__),
        )
        return key, result.user.display_name
    return result


def confirm(name: str, key: str) -> tuple[str, dict]:
    """The reader said yes to linking: (origin, session)."""
    flow = _flow(CONFIRM, key, provider_named(name).name)
    asserted = external.Asserted(**json.loads(flow.payload))
    return flow.origin, external.confirm_link(db.session.get(User, flow.user_id), asserted)
