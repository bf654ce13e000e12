"""ID tokens as remote.py checks them (issue 18): signed by the issuer's published key, for our
client, from the configured issuer, with the flow's nonce, not expired. Each wrong one refused."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from widget_server.accounts import remote
from widget_server.errors import APIError
from widget_server.providers import parse

ISSUER = "https://id.example"
PROVIDER = parse(
    f'[{{"name": "corp", "label": "Corp", "issuer": "{ISSUER}", "client_id": "ours", "client_secret": "s"}}]'
)[0]
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, another key
NONCE = "the flow's nonce"


@pytest.fixture
def issuer(app_context, monkeypatch):
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
    }
    app_context.extensions["widget_oidc_discovery"] = {"corp": (time.monotonic() + 60, document)}
    published = KeySet([KEY]).as_dict(private=False)
    monkeypatch.setattr(remote, "_get", lambda url, **kw: published if url == document["jwks_uri"] else {})


def id_token(key=KEY, alg="RS256", **claims) -> dict:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "ours", "sub": "u1", "nonce": NONCE, "iat": now, "exp": now + 300} | claims
    return {
        "id_token": jwt.encode(
            {"alg": alg, "kid": "k1"}, {k: v for k, v in body.items() if v is not None}, key, algorithms=[alg]
        )
    }


def test_a_good_id_token_passes(issuer):
    assert remote._id_token_claims(PROVIDER, id_token(), NONCE)["sub"] == "u1"
    assert remote._id_token_claims(PROVIDER, id_token(aud=["ours", "x"], azp="ours"), NONCE)["sub"] == "u1"


WRONG = {
    "wrong audience": {"aud": "another-client"},
    "several audiences, azp not ours": {"aud": ["ours", "another-client"], "azp": "another-client"},
    "wrong issuer": {"iss": "https://evil.example"},
    "wrong nonce": {"nonce": "a replayed token's nonce"},
    "no nonce": {"nonce": None},
    "expired": {"exp": int(time.time()) - 3600},
    "no sub": {"sub": None},
}


@pytest.mark.parametrize("claims", list(WRONG.values()), ids=list(WRONG))
def test_a_wrong_id_token_is_refused(issuer, claims):
    with pytest.raises(APIError) as refused:
        remote._id_token_claims(PROVIDER, id_token(**claims), NONCE)
    assert refused.value.status == 400 and refused.value.code == "sign_in_refused"


@pytest.mark.parametrize(
    "token",
    [lambda: id_token(key=OTHER_KEY), lambda: {"id_token": "a.b.c"}, lambda: {}, lambda: {"id_token": 5}],
    ids=["signed by another key", "not a JWT", "no ID token", "not text"],
)
def test_a_forged_or_missing_id_token_is_refused(issuer, token):
    with pytest.raises(APIError) as refused:
        remote._id_token_claims(PROVIDER, token(), NONCE)
    assert refused.value.status == 400


def test_microsofts_common_issuer_is_the_template_filled_with_the_tokens_tenant(app_context, monkeypatch):
    common = parse('[{"name": "microsoft", "client_id": "ours", "client_secret": "s"}]')[0]
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    document = {"issuer": template, "jwks_uri": "https://login.microsoftonline.com/keys",
                "authorization_endpoint": "x", "token_endpoint": "y"}
    app_context.extensions["widget_oidc_discovery"] = {"microsoft": (time.monotonic() + 60, document)}
    published = KeySet([KEY]).as_dict(private=False)
    monkeypatch.setattr(remote, "_get", lambda url, **kw: published)
    tenant = "https://login.microsoftonline.com/t1/v2.0"
    assert remote._id_token_claims(common, id_token(iss=tenant, tid="t1"), NONCE)["sub"] == "u1"
    with pytest.raises(APIError):
        remote._id_token_claims(common, id_token(iss=tenant, tid="t2"), NONCE)
