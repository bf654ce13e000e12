"""The host site's own login: POST /api/v1/auth/sso trades the site's signed JWT for a session
(issue 18). Every refused token changes nothing."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from support import accounts as account_support
from support.accounts import account_config, count
from support.app import PAGE

from widget_server import clock
from widget_server.models import AccountSession, Identity, User

SECRET = "s" * 20 + "-site-secret-of-32+"  # at least 32 characters, as the setting wants
OTHER_SECRET = "another site's secret, also long enough"
smtp_server = account_support.smtp_server
make_reader = account_support.make_reader


@pytest.fixture
def config_overrides(request, smtp_server):
    return account_config(smtp_server.url, **({"SSO_SECRET": SECRET} | getattr(request, "param", {})))


def token(secret=SECRET, algorithm="HS256", **claims) -> str:
    base = {"sub": "site-user-42", "name": "Ann Example",
            "exp": int((clock.now() + timedelta(minutes=10)).timestamp())}
    body = {k: v for k, v in (base | claims).items() if v is not None}
    return jwt.encode({"alg": algorithm}, body, OctKey.import_key(secret), algorithms=[algorithm])


def sso(client, value):
    return client.post("/api/v1/auth/sso", json={"token": value})


def test_a_signed_token_is_a_session_and_the_same_sub_is_the_same_account(client, app):
    first = sso(client, token(email="Ann@Example.org"))
    assert first.status_code == 200, first.json
    body = first.json
    assert set(body) == {"token", "token_expires_at", "refresh_token", "refresh_expires_at", "user"}
    assert body["user"]["display_name"] == "Ann Example"
    assert body["user"]["password"] is False
    assert [i["provider"] for i in body["user"]["identities"]] == ["sso"]
    me = client.get("/api/v1/account", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["user"]["id"] == body["user"]["id"]

    again = sso(client, token(name="Ann E."))  # a new name on the site does not make a new account
    assert again.status_code == 200 and again.json["user"]["id"] == body["user"]["id"]
    assert count(app, User) == 1 and count(app, Identity) == 1 and count(app, AccountSession) == 2


def test_a_comment_of_an_sso_reader_carries_the_verified_mark_and_where_it_comes_from(client, app):
    session = sso(client, token()).json
    posted = client.post("/api/v1/comments", json={"url": PAGE, "text": "Hello from the site"},
                         headers={"Authorization": f"Bearer {session['token']}"})
    assert posted.status_code == 201, posted.json
    author = client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"][0]["author"]
    assert author["name"] == "Ann Example" and author["verified"] is True
    assert author["verified_via"] == "via the site's own sign-in"
    # and the name is now a registered one: no anonymous poster may take it
    taken = client.post("/api/v1/comments", json={"url": PAGE, "text": "Me too", "author": "ann example"})
    assert taken.status_code == 400 and "author" in taken.json["error"]["fields"]


def _tampered() -> str:
    header, payload, signature = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "site-admin-1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((header, forged, signature))


def _unsigned() -> str:
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return part({"alg": "none", "typ": "JWT"}) + "." + part(
        {"sub": "x", "name": "X", "exp": int((clock.now() + timedelta(minutes=5)).timestamp())}) + "."


REFUSED = {
    "tampered claims": (_tampered, "bad signature"),
    "another site's secret": (lambda: token(secret=OTHER_SECRET), "bad signature"),
    "expired": (lambda: token(exp=int((clock.now() - timedelta(seconds=5)).timestamp())), "has expired"),
    "no exp": (lambda: token(exp=None), "lacks a required claim"),
    "no sub": (lambda: token(sub=None), "lacks a required claim"),
    "no name": (lambda: token(name=None), "lacks a required claim"),
    "alg none": (_unsigned, "not a valid token"),
    "HS512 (not the agreed algorithm)": (lambda: token(algorithm="HS512"), "not a valid token"),
    "not a JWT at all": (lambda: "not.a.jwt", "not a valid token"),
    "sub not text": (lambda: token(sub=42), "not a valid token"),
}


@pytest.mark.parametrize("make", [v[0] for v in REFUSED.values()], ids=list(REFUSED))
def test_refused_tokens_are_401_and_change_nothing(client, app, make):
    reason = REFUSED[next(k for k, v in REFUSED.items() if v[0] is make)][1]
    response = sso(client, make())
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "unauthorized"
    assert reason in response.json["error"]["message"]
    assert count(app, User) == 0 and count(app, Identity) == 0 and count(app, AccountSession) == 0


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, {"token": "x" * 9000}])
def test_a_missing_token_is_400(client, body):
    response = client.post("/api/v1/auth/sso", json=body)
    assert response.status_code == 400 and "token" in response.json["error"]["fields"]


def test_sso_email_of_an_existing_account_is_not_taken_and_links_nothing(client, app, make_reader):
    reader = make_reader("ann@example.org", "Ann Example")
    response = sso(client, token(email="ann@example.org"))
    assert response.status_code == 200
    assert response.json["user"]["id"] != client.get(
        "/api/v1/account", headers=reader.auth).json["user"]["id"]
    assert response.json["user"]["display_name"] == "Ann Example (2)"  # the name is the other account's
    with app.app_context():
        from widget_server.extensions import db

        emails = sorted(str(u.email) for u in db.session.query(User).all())
    assert emails == ["None", "ann@example.org"]


@pytest.mark.parametrize("config_overrides", [{"SSO_SECRET": None}], indirect=True)
def test_without_a_secret_there_is_no_sso(client):
    assert sso(client, token()).status_code == 404
