"""The contract is exact: every operation of the live ``/api/v1/openapi.json`` answers only
statuses, content types, headers and bodies that the description lists, and never 5xx.

schemathesis reads the description from the app (through WSGI, no server) and checks
answers with its not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance and response_schema_conformance checks (response objects
are closed in the description, so an unlisted field fails too):

- generated requests for every operation (the description's examples, boundary and
  invalid values, random data), as an anonymous client and with an admin token, against
  a database seeded with a thread, comments, a ban and audit entries;
- the same with every rate limit at one request a minute, so 429 shows up wherever a
  limit applies;
- a request from a foreign Origin to every /api/ operation;
- the answers generated data cannot reach (they need an edit token, a session, a link
  from a mail), walked through by hand and checked the same way.

Everything runs on SQLite and on PostgreSQL (``database_url``).
"""
from __future__ import annotations

import contextlib
import gzip
import re
import tempfile

import argon2
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema
from sqlalchemy import select
from support.app import PAGE, PG_URL, base_config, migrate_database, scratch_postgres_database
from support.pow import solved

from widget_server import config, create_app
from widget_server.delivery import subscriptions
from widget_server.extensions import db
from widget_server.models import AdminToken, OutboxMessage, Subscription
from widget_server.security import token_hash

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
ADMIN_TOKEN = "contract-test-admin-token"  # stored as its hash by the fixtures, like any token
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SPEC = "/api/v1/openapi.json"
PASSWORD = "correct horse battery"
# Accounts and reply notifications on, so their endpoints do more than answer 404 or 400.
# Mail is only queued (no outbox thread): tests read the links from the queue.
SITE_CONFIG = {"ACCOUNTS": "true", "SMTP_URL": "smtp://127.0.0.1:9?from=comments@blog.example",
               "OUTBOX_THREAD": False, "PUBLIC_URL": "https://comments.example",
               "PASSWORD_HASH_PARAMETERS": argon2.profiles.CHEAPEST,
               # The test client reads an answer to its end: event streams answer what was missed and end.
               "STREAMS_LIFETIME": 0}
FAST = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
        HealthCheck.data_too_large]


def _schemas() -> tuple[BaseSchema, BaseSchema, BaseSchema]:
    """The description as the app serves it, read once at collection time through WSGI, with
    the settings of each run: plain, with the admin token, with fewer cases (rate limits)."""

    def load(app, phases: dict | None = None, **extra) -> BaseSchema:
        run = SchemathesisConfig.from_dict({
            "seed": 20261127, "generation": {"deterministic": True},
            # Methods no operation has are the unsupported_method check's business, not this test's.
            "phases": {"coverage": {"unexpected-methods": []}, **(phases or {})},
            **extra})
        return schemathesis.openapi.from_wsgi(SPEC, app, config=run)

    with tempfile.TemporaryDirectory(prefix="widget-contract-") as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/unused.db", "SECRET_KEY": "contract",
                          "INSTANCE_PATH": folder})  # serves the description only: no database use
        return (load(app),
                load(app, auth={"openapi": {"adminToken": {"bearer": ADMIN_TOKEN}}}),
                # A few requests per operation are enough to spend a budget of one.
                load(app, phases={"coverage": {"enabled": False}}))


SCHEMA, _WITH_ADMIN_TOKEN, LIMITED = _schemas()
GENERATED = {
    "anonymous": SCHEMA,
    # Only the admin operations take the token; the others are the same as for anyone.
    "admin": _WITH_ADMIN_TOKEN.include(path_regex="^/api/v1/admin/"),
}


def _add_admin_token(app) -> None:
    with app.app_context():
        db.session.add(AdminToken(name="contract", token_hash=token_hash(ADMIN_TOKEN)))
        db.session.commit()
        db.session.remove()


def _seed(client) -> None:
    """A thread with published, replied-to, spam, pinned and deleted comments, a ban, audit entries."""

    def post(**fields):
        response = client.post("/api/v1/comments", json={"url": PAGE, **fields})
        assert response.status_code == 201, response.json
        return response.json

    first = post(text="First", author="Ann", email="ann@example.org", website="https://ann.example/")
    post(text="A reply", parent_id=first["comment"]["id"])
    spam = post(text="Spam, marked by an admin")
    gone = post(text="Deleted by its author")
    post(text="A reply to be left under a tombstone", parent_id=gone["comment"]["id"])
    assert client.delete(f"/api/v1/comments/{gone['comment']['id']}",
                         headers={"X-Edit-Token": gone["edit_token"]}).status_code == 204
    for path, body in [(f"/api/v1/admin/comments/{spam['comment']['id']}/spam", {}),
                       (f"/api/v1/admin/comments/{first['comment']['id']}/pin", {}),
                       ("/api/v1/admin/bans", {"kind": "email", "value": "spam@example.org"})]:
        assert client.post(path, json=body, headers=ADMIN).status_code in (200, 201)


@pytest.fixture(scope="module")
def own_database(database_url, tmp_path_factory):
    """A new database of the same kind as ``database_url`` for this module's long-lived apps,
    which the per-test ``app`` (it empties the shared database after each test) never meets."""
    folder = tmp_path_factory.mktemp("contract-db")
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'contract.db'}"
        migrate_database(url, folder)
        yield url
        return
    with scratch_postgres_database(PG_URL) as url:
        migrate_database(url, folder)
        yield url


@contextlib.contextmanager
def _module_app(url: str, folder, **overrides):
    app = create_app(base_config(url, folder, **SITE_CONFIG, **overrides))
    # The description under test is the one this app serves.
    assert app.test_client().get(SPEC).json == SCHEMA.raw_schema
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def contract_app(own_database, tmp_path_factory):
    """One seeded app per database for the generated requests: operations see each other's changes."""
    with _module_app(own_database, tmp_path_factory.mktemp("contract")) as app:
        _add_admin_token(app)
        _seed(app.test_client())
        yield app


@pytest.fixture(scope="module")
def limited_app(contract_app, own_database, tmp_path_factory):
    """The same data, served with every rate limit of the configuration at one request a minute."""
    limits = {name: "1 per minute" for name, value in config.load({}).items()
              if name.startswith("RATELIMIT_") and isinstance(value, str) and " per " in value}
    assert limits, "no rate-limit settings found"
    folder = tmp_path_factory.mktemp("limited")
    with _module_app(own_database, folder, RATELIMIT_ENABLED=True, **limits) as app:
        client = app.test_client()
        statuses = [client.post("/api/v1/preview", json={"text": "hi"}).status_code for _ in range(2)]
        assert statuses == [200, 429], "the limits are not in force"
        yield app


@pytest.fixture
def config_overrides() -> dict:
    """The function-scoped ``app`` (the walks through by hand) gets the same site settings."""
    return SITE_CONFIG


def _call_and_check(case, app):
    response = case.call(app=app)
    if response.headers.get("content-encoding") == ["gzip"]:
        # An HTTP client undoes the transfer's gzip; the in-process client does not.
        response.content = gzip.decompress(response.content)
    case.validate_response(response, checks=CHECKS)
    return response


@schemathesis.pytest.parametrize(**GENERATED)
# Six generated cases per operation beside the coverage phase's: the suite has a 15-minute budget.
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=FAST)
def test_every_answer_is_described(case, contract_app):
    _call_and_check(case, contract_app)


@LIMITED.parametrize()
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=FAST)
def test_rate_limited_answers_are_described(case, limited_app):
    _call_and_check(case, limited_app)


# --- answers generated data cannot reach -------------------------------------------------


class Walk:
    """Requests built by hand, sent and checked through schemathesis like generated ones."""

    def __init__(self, app):
        self.app = app

    def __call__(self, method: str, path: str, status: int, *, params: dict | None = None, json=None,
                 form: dict | None = None, **kwargs):
        operation = SCHEMA[path][method]
        if (method, path) == ("POST", "/api/v1/comments") and isinstance(json, dict) and "altcha" not in json:
            json = {**json, "altcha": solved(self.app.test_client())}  # as the widget sends it
        if json is not None:
            kwargs.update(body=json, media_type="application/json")
        if form is not None:
            kwargs.update(body=form, media_type="application/x-www-form-urlencoded")
        case = operation.Case(path_parameters=params, **kwargs)
        response = _call_and_check(case, self.app)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response

    def link(self, recipient: str, path: str) -> str:
        """The token of the newest link to ``path`` in mail queued for ``recipient``."""
        with self.app.app_context():
            text = db.session.execute(
                select(OutboxMessage.text_body).where(OutboxMessage.recipient == recipient)
                .order_by(OutboxMessage.id.desc())).scalars().first()
            db.session.remove()
        return re.search(re.escape(path) + r"\?token=([\w.\-]+)", text)[1]


@pytest.fixture
def walk(app) -> Walk:
    _add_admin_token(app)
    return Walk(app)


def test_comment_answers_with_an_edit_token_are_described(walk):
    new = {"url": PAGE, "text": "Mine", "author": "Ann", "email": "ann@example.org"}
    created = walk("POST", "/api/v1/comments", 201, json=new).json()
    mine = {"id": created["comment"]["id"]}
    token = {"X-Edit-Token": created["edit_token"]}
    assert "text" in walk("GET", "/api/v1/comments/{id}", 200, params=mine, headers=token).json()
    walk("PATCH", "/api/v1/comments/{id}", 200, params=mine, headers=token, json={"text": "Mine, edited"})
    walk("POST", "/api/v1/comments/{id}/like", 200, params=mine, json={})
    walk("POST", "/api/v1/comments", 409, json={**new, "text": "Mine, edited"})  # the same text again
    walk("POST", "/api/v1/comments", 202, json={  # more links than WIDGET_SPAM_MAX_LINKS: held
        "url": PAGE, "text": " ".join(f"https://l{n}.example/" for n in range(5))})
    reply = walk("POST", "/api/v1/comments", 201, json={"url": PAGE, "text": "Re", "parent_id": mine["id"]})
    walk("GET", "/api/v1/comments", 200, query={"url": PAGE, "sort": "top", "limit": 1})
    etag = walk("GET", "/api/v1/comments", 200, query={"url": PAGE}).headers["etag"][0]
    walk("GET", "/api/v1/comments", 304, query={"url": PAGE}, headers={"If-None-Match": etag})
    walk("DELETE", "/api/v1/comments/{id}", 204, params=mine, headers=token)
    walk("PATCH", "/api/v1/comments/{id}", 404, params=mine, headers=token, json={"text": "Gone"})
    walk("DELETE", "/api/v1/comments/{id}", 403, params={"id": reply.json()["comment"]["id"]}, headers=token)
    walk("GET", "/api/v1/counts", 200, query={"url": [PAGE, "https://elsewhere.example/"]})
    walk("GET", "/api/v1/feed.atom", 200, query={"url": PAGE})


def test_moderation_answers_are_described(walk):
    first = walk("POST", "/api/v1/comments", 201, json={"url": PAGE, "text": "One", "email": "a@example.org"})
    one = {"id": first.json()["comment"]["id"]}
    reply = walk("POST", "/api/v1/comments", 201, json={"url": PAGE, "text": "Re", "parent_id": one["id"]})
    re_ = {"id": reply.json()["comment"]["id"]}
    walk("GET", "/api/v1/admin/comments", 200, headers=ADMIN, query={"state": "published", "limit": 1})
    walk("GET", "/api/v1/admin/comments/{id}", 200, params=re_, headers=ADMIN)
    walk("POST", "/api/v1/admin/comments/{id}/pin", 409, params=re_, headers=ADMIN, json={})
    walk("POST", "/api/v1/admin/comments/{id}/spam", 200, params=one, headers=ADMIN, json={})
    walk("POST", "/api/v1/admin/comments/{id}/approve", 200, params=one, headers=ADMIN, json={})
    walk("POST", "/api/v1/admin/comments/{id}/pin", 200, params=one, headers=ADMIN, json={})
    walk("POST", "/api/v1/admin/comments/{id}/unpin", 200, params=one, headers=ADMIN, json={})
    thread = {"id": walk("GET", "/api/v1/admin/threads", 200, headers=ADMIN).json()["threads"][0]["id"]}
    walk("POST", "/api/v1/admin/threads/{id}/lock", 200, params=thread, headers=ADMIN, json={})
    walk("POST", "/api/v1/comments", 403, json={"url": PAGE, "text": "Too late"})  # thread_locked
    walk("POST", "/api/v1/admin/threads/{id}/unlock", 200, params=thread, headers=ADMIN, json={})
    ban = walk("POST", "/api/v1/admin/bans", 201, headers=ADMIN,
               json={"kind": "email", "comment_id": one["id"]})
    walk("POST", "/api/v1/admin/bans", 409, headers=ADMIN, json={"kind": "email", "comment_id": re_["id"]})
    walk("POST", "/api/v1/comments", 403, json={"url": PAGE, "text": "Banned", "email": "a@example.org"})
    walk("GET", "/api/v1/admin/bans", 200, headers=ADMIN)
    walk("DELETE", "/api/v1/admin/bans/{id}", 204, params={"id": ban.json()["ban"]["id"]}, headers=ADMIN)
    walk("POST", "/api/v1/admin/comments/bulk", 200, headers=ADMIN,
         json={"action": "delete", "ids": [1, one["id"]]})
    walk("POST", "/api/v1/admin/comments/{id}/approve", 409, params=one, headers=ADMIN, json={})
    walk("DELETE", "/api/v1/admin/comments/{id}", 204, params=re_, headers=ADMIN)
    walk("GET", "/api/v1/admin/audit", 200, headers=ADMIN, query={"limit": 2})
    walk("GET", "/api/v1/admin/stats", 200, headers=ADMIN, query={"days": 2})


def test_account_answers_are_described(walk):
    email = "mary@example.org"
    signup = {"email": email, "display_name": "Mary Smith"}  # the password comes after the proof
    walk("POST", "/api/v1/auth/signup", 202, json=signup)
    link = {"token": walk.link(email, "/account/confirm")}
    chosen = {"password": PASSWORD, "password_again": PASSWORD}
    walk("GET", "/account/confirm", 200, query=link)
    walk("POST", "/account/confirm", 400, query=link, form={"password": PASSWORD, "password_again": "other"})
    walk("POST", "/account/confirm", 200, query=link, form=chosen)
    walk("POST", "/account/confirm", 400, query=link, form=chosen)  # used
    walk("POST", "/api/v1/auth/confirm", 400, json=link | {"password": PASSWORD})
    walk("POST", "/api/v1/auth/signup", 202, json={**signup, "display_name": "M"})  # known address: a notice
    session = walk("POST", "/api/v1/auth/login", 200, json={"email": email, "password": PASSWORD}).json()
    walk("POST", "/api/v1/auth/login", 401, json={"email": email, "password": "wrong password"})
    me = {"Authorization": f"Bearer {session['token']}"}
    walk("GET", "/api/v1/account", 200, headers=me)
    walk("PATCH", "/api/v1/account", 200, headers=me, json={"display_name": "Mary S."})
    walk("POST", "/api/v1/comments", 201, headers=me, json={"url": PAGE, "text": "Signed in", "notify": True})
    data = walk("GET", "/api/v1/account/data", 200, headers=me).json()
    assert data["comments"] and data["sessions"]
    refresh = {"refresh_token": session["refresh_token"]}
    renewed = walk("POST", "/api/v1/auth/refresh", 200, json=refresh).json()
    walk("POST", "/api/v1/auth/refresh", 401, json=refresh)  # used
    walk("GET", "/api/v1/account", 401, headers=me)  # the old pair stopped working
    walk("POST", "/api/v1/comments", 401, headers=me, json={"url": PAGE, "text": "Stale session"})
    me = {"Authorization": f"Bearer {renewed['token']}"}
    walk("POST", "/api/v1/auth/forgot", 202, json={"email": email})
    reset = {"token": walk.link(email, "/account/reset")}
    walk("GET", "/account/reset", 200, query=reset)
    walk("POST", "/account/reset", 400, query=reset, form={"password": PASSWORD, "password_again": "other"})
    walk("POST", "/api/v1/auth/reset", 200, json={**reset, "password": PASSWORD + "!"})
    walk("POST", "/account/reset", 400, query=reset, form={"password": PASSWORD, "password_again": PASSWORD})
    walk("GET", "/api/v1/account", 401, headers=me)  # a reset signs out every session
    me = {"Authorization": "Bearer " + walk("POST", "/api/v1/auth/login", 200, json={
        "email": email, "password": PASSWORD + "!"}).json()["token"]}
    walk("POST", "/api/v1/auth/logout", 204, headers=me)
    me = {"Authorization": "Bearer " + walk("POST", "/api/v1/auth/login", 200, json={
        "email": email, "password": PASSWORD + "!"}).json()["token"]}
    walk("POST", "/api/v1/account/delete", 400, headers=me, json={"password": "wrong", "comments": "remove"})
    walk("POST", "/api/v1/account/delete", 204, headers=me,
         json={"password": PASSWORD + "!", "comments": "anonymize"})


def test_reply_notification_answers_are_described(walk):
    walk("POST", "/api/v1/comments", 201, json={"url": PAGE, "text": "Tell me", "email": "bo@example.org",
                                                "notify": True})
    with walk.app.app_context():
        subscription = db.session.execute(select(Subscription)).scalars().one()
        confirm = {"token": subscriptions.confirm_token(subscription)}
        unsubscribe = {"token": subscriptions.unsubscribe_token(subscription)}
        db.session.remove()
    walk("GET", "/mail/confirm", 200, query=confirm)
    walk("POST", "/mail/confirm", 200, query=confirm)
    walk("POST", "/api/v1/notifications/confirm", 200, json=confirm)
    walk("GET", "/mail/unsubscribe", 200, query=unsubscribe)
    walk("POST", "/mail/unsubscribe", 200, query=unsubscribe, form={"List-Unsubscribe": "One-Click"})
    walk("POST", "/api/v1/notifications/unsubscribe", 200, json={**unsubscribe, "all": True})
    walk("POST", "/mail/unsubscribe", 400, query={"token": "forged"})


def test_a_foreign_origin_is_refused_as_described(walk):
    """Every /api/ operation answers a request from a site that is not allowed with 403."""
    foreign = {"Origin": "https://elsewhere.example", **ADMIN}
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    api = [op for op in operations if op.path.startswith("/api/")]
    assert len(api) > 30
    for operation in api:
        params = {p.name: 1 for p in operation.path_parameters}
        walk(operation.method.upper(), operation.path, 403, params=params, headers=foreign)
