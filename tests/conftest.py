"""Shared fixtures: an app per test on SQLite (and PostgreSQL when asked),
a controllable clock, factories, a live server and Debian's Chromium.

``WIDGET_TEST_DATABASE_URL`` runs every database test on PostgreSQL as well;
``WIDGET_TEST_REDIS_URL`` runs the rate-limit tests on Redis as well. With
``CI=true`` a missing service or browser is a failure, never a skip.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from widget_server import clock, create_app
from widget_server.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("WIDGET_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("WIDGET_TEST_REDIS_URL")
CHROMIUM = os.environ.get("WIDGET_TEST_CHROMIUM", "/usr/bin/chromium")
SITE = "https://blog.example"
PAGE = f"{SITE}/2026/11/muscle-spasms"
TABLES = ("likes", "comments", "threads", "admin_tokens", "bans", "audit_log",
          "subscriptions", "email_tokens", "account_sessions", "outbox", "webhook_deliveries", "users")


def require_service(url: str | None, what: str, variable: str) -> str:
    """The service URL; in CI its absence fails the test instead of skipping it."""
    if url:
        return url
    if IN_CI:
        pytest.fail(f"CI=true but {variable} is not set: {what} tests must run in CI")
    pytest.skip(f"{variable} not set: {what} tests run only when it is")


def database_backends() -> list[str]:
    return ["sqlite", "postgresql"] if (PG_URL or IN_CI) else ["sqlite"]


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def scratch_postgres_database(url: str):
    """A new, empty PostgreSQL database for this test session, dropped afterwards.

    Several test runs (developers, CI, helpers) may share one server: none of
    them touches a database it did not create.
    """
    name = f"widget_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_psycopg(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str, instance: Path) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(instance)})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=database_backends())
def database_url(request, tmp_path_factory):
    instance = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{instance / 'test.db'}"
        _migrate(url, instance)
        yield url
        return
    server = require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    with scratch_postgres_database(server) as url:
        _migrate(url, instance)
        yield url


def base_config(database_url: str, instance: Path, **overrides) -> dict:
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "ALLOWED_ORIGINS": [SITE],
        "RATELIMIT_ENABLED": False,
        # Unique per test: Redis-backed limits of one test never leak into another.
        "RATELIMIT_NAMESPACE": f"widget-test-{uuid.uuid4().hex[:8]}",
    }
    config.update(overrides)
    return config


def wipe(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def config_overrides(request) -> dict:
    """Settings for this test's app: parametrize it indirectly, or override it in a module."""
    return getattr(request, "param", {})


@pytest.fixture
def app(database_url, tmp_path, config_overrides):
    app = create_app(base_config(database_url, tmp_path, **config_overrides))
    yield app
    wipe(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class FrozenClock:
    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def frozen_clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


class Poster:
    """Factory for comments through the public API (so every test uses the real path)."""

    def __init__(self, client):
        self.client = client

    def __call__(self, text="A comment", url=PAGE, expect=(201, 202), **fields):
        body = {"url": url, "text": text, **fields}
        response = self.client.post("/api/v1/comments", json=body)
        assert response.status_code in ((expect,) if isinstance(expect, int) else expect), response.json
        return response.json


@pytest.fixture
def post(client) -> Poster:
    return Poster(client)


@pytest.fixture
def admin_token(app) -> str:
    from widget_server.auth import create_token

    with app.app_context():
        return create_token("test-admin")


# --- a live HTTP server and a real browser -----------------------------------------------


class LiveServer:
    def __init__(self, app, port: int = 0):
        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        # Tell the app where it listens, as `widget-server serve` does: without WIDGET_PUBLIC_URL
        # its own origin and its links come from there (widget_server/hosts.py).
        app.config["BIND"] = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a real port (SQLite), shared by the browser tests."""
    instance = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{instance / 'live.db'}"
    _migrate(url, instance)
    app = create_app(base_config(url, instance, ALLOWED_ORIGINS=["*"]))
    server = LiveServer(app).start()
    yield server
    server.stop()


def chromium_path() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    if IN_CI:
        pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM}: `make test` installs it")
    pytest.skip(f"Chromium not found at {CHROMIUM}; `make test` installs it")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"],
    }
