"""Fixtures only: an app per test on SQLite (and PostgreSQL when asked), a controllable
clock, a rolled-back database session for service tests, a live server and Debian's Chromium.

``WIDGET_TEST_DATABASE_URL`` runs every database test on PostgreSQL as well;
``WIDGET_TEST_REDIS_URL`` runs the rate-limit tests on Redis as well. With
``CI=true`` a missing service or browser is a failure, never a skip. Helpers
and constants live in ``support/`` (tests import them from there).
"""
from __future__ import annotations

import collections
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from support import factories
from support.app import (
    PG_URL,
    FrozenClock,
    LiveServer,
    Poster,
    base_config,
    chromium_path,
    database_backends,
    migrate_database,
    require_service,
    scratch_postgres_database,
    wipe,
)
from support.pow import SolvingClient
from werkzeug.routing.rules import Rule

from widget_server import clock, create_app
from widget_server.extensions import db


@pytest.fixture(scope="session", autouse=True)
def no_env_file():
    """A developer's own instance/.env (read by every create_app) stays out of the tests."""
    named = "WIDGET_ENV_FILE" in os.environ
    os.environ.setdefault("WIDGET_ENV_FILE", "")
    yield
    if not named:
        os.environ.pop("WIDGET_ENV_FILE", None)


# Modules by how long they took (seconds, tests/durations.json, from `pytest --junitxml`), the
# longest first: the suite is spread over workers module by module (`--dist loadscope`), and a
# long module picked up last would leave the other workers idle while it runs. A module not in
# the file counts as DURATION_UNKNOWN seconds; `make durations` writes the file again.
DURATIONS = json.loads((Path(__file__).parent / "durations.json").read_text("utf-8"))
DURATION_UNKNOWN = 5.0


def pytest_collection_modifyitems(items):
    def took(item) -> float:
        return DURATIONS.get(item.nodeid.split("::")[0].removeprefix("tests/"), DURATION_UNKNOWN)

    items.sort(key=took, reverse=True)  # stable: a module's own order is kept
    # pytest-xdist schedules by test id: of tests sharing one, it would run only the first.
    seen = collections.Counter(item.nodeid for item in items)
    twice = sorted(nodeid for nodeid, n in seen.items() if n > 1)
    if twice:
        raise pytest.UsageError(f"{len(twice)} test ids name more than one test, e.g. {twice[0]}")


def _share_url_builders_between_apps() -> None:
    """Every test builds its own app, and Werkzeug compiles each URL rule's builder (an AST turned
    into code) for every app: a tenth of a second per app, most of a small test's time. The code
    depends only on the rule, so apps with the same rules share it. Tests only; the service builds
    one app per process."""
    original = Rule._compile_builder
    built: dict[tuple, object] = {}

    def compile_builder(self, append_unknown: bool = True):
        key = (self.rule, self.host, self.subdomain, tuple(self._trace),
               repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in built:
            built[key] = original(self, append_unknown)
        return built[key]

    Rule._compile_builder = compile_builder


_share_url_builders_between_apps()


@pytest.fixture(autouse=True)
def settings_stay_with_their_test():
    """A command run in-process (`serve` sets WIDGET_BIND for its gunicorn app) must not change
    the settings of the tests after it on the same worker: WIDGET_* variables are put back."""
    before = {k: v for k, v in os.environ.items() if k.startswith("WIDGET_")}
    yield
    for key in [k for k in os.environ if k.startswith("WIDGET_") and k not in before]:
        del os.environ[key]
    os.environ.update(before)


@pytest.fixture(scope="session", autouse=True)
def clients_solve_challenges():
    """Every app's test client solves a (cheap) proof of work before it posts a comment, as the
    widget does; tests of the proof of work itself use a plain FlaskClient (support/pow.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "test_client_class", SolvingClient)
        yield


@pytest.fixture(scope="session", params=database_backends())
def database_url(request, tmp_path_factory):
    instance = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{instance / 'test.db'}"
        migrate_database(url, instance)
        yield url
        return
    server = require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    with scratch_postgres_database(server) as url:
        migrate_database(url, instance)
        yield url


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
def app_context(app):
    """For pure functions that read the app's settings: an app context, no request."""
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app):
    """For tests that call services directly: an app context whose session works inside one
    outer transaction, rolled back at the end (the services' own commits become savepoints).

    Tests that go through HTTP use ``app`` instead: the read path reads through its own
    connection, which sees only committed rows, so those tests commit and are wiped.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        session = db._make_scoped_session({"bind": connection, "join_transaction_mode": "create_savepoint"})
        real, db.session = db.session, session
        try:
            yield session
        finally:
            session.remove()
            db.session = real
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def frozen_clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


@pytest.fixture
def post(client) -> Poster:
    return Poster(client)


@pytest.fixture
def admin_token(app) -> str:
    with app.app_context():
        return factories.admin_token()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a real port (SQLite), shared by the browser tests."""
    instance = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{instance / 'live.db'}"
    migrate_database(url, instance)
    app = create_app(base_config(url, instance, ALLOWED_ORIGINS=["*"]))
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"],
    }
