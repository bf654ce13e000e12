"""The test environment: which services there are, the app's test settings, and small
helpers every test module may use (a frozen clock, a poster, a live server).

Test modules import from here (``from support.app import PAGE``), never from
``conftest``: conftest only declares fixtures.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from support.pow import TEST_COST
from widget_server import create_app
from widget_server.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("WIDGET_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("WIDGET_TEST_REDIS_URL")
CHROMIUM = os.environ.get("WIDGET_TEST_CHROMIUM", "/usr/bin/chromium")
SITE = "https://blog.example"
PAGE = f"{SITE}/2026/11/muscle-spasms"


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


def migrate_database(url: str, instance: Path) -> None:
    """Bring the database at ``url`` to the newest schema, as `widget-server db upgrade` does."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(instance)})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()


def base_config(database_url: str, instance: Path, **overrides) -> dict:
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "ALLOWED_ORIGINS": [SITE],
        "RATELIMIT_ENABLED": False,
        "POW_COST": TEST_COST,  # on, but solved in microseconds (support/pow.py)
        # Unique per test: Redis-backed limits of one test never leak into another.
        "RATELIMIT_NAMESPACE": f"widget-test-{uuid.uuid4().hex[:8]}",
    }
    config.update(overrides)
    return config


def wipe(app) -> None:
    """Empty every table the models declare (committed data of a test that went through HTTP)."""
    tables = [table.name for table in db.metadata.sorted_tables]
    app.extensions["widget_feed"].stop()  # its thread polls the database: not past the test
    with app.app_context():
        # Children first (foreign keys are on); comment_counts last, since deleting comments
        # writes to it (its triggers). DELETE, not TRUNCATE, on PostgreSQL too: a test leaves a
        # few rows, and TRUNCATE gives every table and index a new file (about ten times slower).
        ordered = [t for t in reversed(tables) if t != "comment_counts"] + ["comment_counts"]
        for table in ordered:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - the models' names
        if db.engine.dialect.name == "postgresql":  # ids from 1 again, as SQLite's rowids are
            db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class FrozenClock:
    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


class Poster:
    """Factory for comments through the public API (so every test uses the real path)."""

    def __init__(self, client):
        self.client = client

    def __call__(self, text="A comment", url=PAGE, expect=(201, 202), **fields):
        body = {"url": url, "text": text, **fields}
        response = self.client.post("/api/v1/comments", json=body)
        assert response.status_code in ((expect,) if isinstance(expect, int) else expect), response.json
        return response.json


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


def chromium_path() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    if IN_CI:
        pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM}: `make test` installs it")
    pytest.skip(f"Chromium not found at {CHROMIUM}; `make test` installs it")
