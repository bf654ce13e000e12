"""A database whose schema is not the code's (widget_server/schema.py): every request that needs it
answers 503 with the reason /readyz gives, never 500; /healthz fails while there is no schema at all."""
from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from altcha import create_challenge_v1
from support.app import (
    PAGE,
    PG_URL,
    base_config,
    database_backends,
    require_service,
    scratch_postgres_database,
)
from support.pow import payload

from widget_server import create_app
from widget_server.extensions import db
from widget_server.security import derived_key

UPGRADE = "run `widget-server db upgrade`"


@pytest.fixture(params=database_backends())
def empty_database(request, tmp_path):
    """A database nobody has migrated: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_postgres_database(require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")) as url:
        yield url


@pytest.fixture
def unmigrated(empty_database, tmp_path):
    app = create_app(base_config(empty_database, tmp_path))
    yield app.test_client()
    with app.app_context(), contextlib.suppress(Exception):
        db.engine.dispose()


def test_healthz_fails_without_a_schema_and_says_what_to_run(unmigrated):
    response = unmigrated.get("/healthz")
    assert response.status_code == 503
    assert UPGRADE in response.json["error"]["message"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/api/v1/comments?url={PAGE}", None),
    ("POST", "/api/v1/comments", {"url": PAGE, "text": "first!"}),
    ("GET", f"/api/v1/counts?url={PAGE}", None),
    ("GET", "/api/v1/admin/comments", None),
    ("DELETE", "/api/v1/admin/comments/1", None),
    ("GET", "/api/v1/feeds/recent.atom", None),
])
def test_api_requests_answer_503_with_the_reason_readyz_gives(unmigrated, method, path, body):
    readyz = unmigrated.get("/readyz").json["error"]["message"]
    assert UPGRADE in readyz
    headers = {"Authorization": "Bearer some-admin-token-that-is-long-enough"}
    if body is not None:  # a solved proof of work, made without the database (it cannot answer)
        body = {**body, "altcha": _offline_solution(unmigrated.application)}
    response = unmigrated.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 503, response.json
    assert response.json["error"] == {"code": "service_unavailable", "message": readyz}
    assert response.headers["Retry-After"]


def _offline_solution(app) -> str:
    with app.app_context():
        made = create_challenge_v1(max_number=10, hmac_key=derived_key("altcha"),
                                   expires=datetime.now(UTC) + timedelta(minutes=5))
    return payload({"algorithm": made.algorithm, "challenge": made.challenge, "maxnumber": made.max_number,
                    "salt": made.salt, "signature": made.signature})
