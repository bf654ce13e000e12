"""Request ids, JSON access logs, /metrics and /readyz (widget_server/observability.py)."""
from __future__ import annotations

import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.app import PAGE, base_config
from support.processes import Gunicorn, free_port, migrate

from widget_server import create_app
from widget_server.config import ConfigError

METRICS_TOKEN = "metrics-token-for-the-tests"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def config_overrides(request) -> dict:
    """Every app here serves /metrics to the scraper's token (besides what a test asks for)."""
    return {"METRICS_TOKEN": METRICS_TOKEN, **getattr(request, "param", {})}


def scrape(client) -> str:
    response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sample(client, name: str, **labels) -> float:
    """One sample's value from /metrics (0 when it has not appeared yet)."""
    text = scrape(client)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


STRICT_PREVIEW = {"RATELIMIT_ENABLED": True, "RATELIMIT_PREVIEW": "1 per minute"}


def access_lines(err: str) -> list[dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "widget_server.access"]


def test_request_id_is_made_and_returned(client):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    assert client.get("/healthz").headers["X-Request-Id"] != response.headers["X-Request-Id"]


@pytest.mark.parametrize(("incoming", "kept"), [
    ("edge-7f3a.42", True),
    ("a" * 128, True),
    ("a" * 129, False),
    ("two words", False),
    ('"><script>', False),
])
def test_request_id_from_the_proxy_is_kept_only_when_plain(client, incoming, kept):
    returned = client.get("/healthz", headers={"X-Request-Id": incoming}).headers["X-Request-Id"]
    assert (returned == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_error_answers_carry_a_request_id_too(client):
    response = client.get("/no/such/page", headers={"X-Request-Id": "lost-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "lost-1"


def test_access_log_is_one_json_line_per_request_without_the_address(client, capsys):
    capsys.readouterr()
    client.get(f"/api/v1/comments?url={PAGE}", headers={"X-Request-Id": "log-me"},
               environ_base={"REMOTE_ADDR": "203.0.113.9"})
    lines = access_lines(capsys.readouterr().err)
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "log-me"
    assert line["method"] == "GET" and line["path"] == "/api/v1/comments"
    assert line["route"] == "/api/v1/comments" and line["status"] == 200
    assert line["duration_ms"] >= 0 and line["level"] == "info" and line["ts"].endswith("Z")
    assert "203.0.113.9" not in json.dumps(line)
    assert re.fullmatch(r"[0-9a-f]{12}", line["client"])


def test_app_log_lines_carry_the_request_id(app, client, capsys, monkeypatch):
    import logging

    @app.get("/_test/log")
    def _log():
        logging.getLogger("widget_server.test").warning("something odd")
        return "ok"

    capsys.readouterr()
    client.get("/_test/log", headers={"X-Request-Id": "odd-1"})
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    odd = [r for r in records if r.get("msg") == "something odd"]
    assert odd == [{"ts": odd[0]["ts"], "level": "warning", "logger": "widget_server.test",
                    "msg": "something odd", "request_id": "odd-1"}]


@pytest.mark.parametrize("config_overrides", [{"LOG_FORMAT": "text"}], indirect=True)
def test_text_logs_are_one_readable_line_each_for_a_person(app, client, capsys):
    import logging

    @app.get("/_test/log")
    def _log():
        logging.getLogger("widget_server.test").warning("something odd")
        return "ok"

    capsys.readouterr()
    client.get("/_test/log")
    client.get(f"/api/v1/comments?url={PAGE}")
    lines = capsys.readouterr().err.splitlines()
    assert not [line for line in lines if line.startswith("{")], lines
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} warning widget_server\.test: something odd", lines[0]), lines
    requests = [line for line in lines if " GET " in line]
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} GET /_test/log 200 [\d.]+ ms", requests[0]), lines
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} GET /api/v1/comments 200 [\d.]+ ms", requests[1]), lines


@pytest.mark.parametrize(("setting", "terminal", "text"), [
    ("auto", True, True), ("auto", False, False), ("json", True, False), ("text", False, True)])
def test_auto_is_text_only_when_a_person_reads_the_terminal(monkeypatch, setting, terminal, text):
    from widget_server.ops import observability

    class Stderr:
        def isatty(self):
            return terminal

    monkeypatch.setattr("sys.stderr", Stderr())
    assert observability.text_logs(setting) is text


def test_metrics_count_requests_comments_and_cache_hits(client, post):
    reads = {"route": "/api/v1/comments", "method": "GET", "status": "200"}
    before = {
        "posts": sample(client, "widget_http_requests_total", route="/api/v1/comments", method="POST",
                        status="201"),
        "reads": sample(client, "widget_http_requests_total", **reads),
        "created": sample(client, "widget_comments_created_total", state="published"),
        "hits": sample(client, "widget_thread_cache_total", result="hit"),
        "misses": sample(client, "widget_thread_cache_total", result="miss"),
        "latency": sample(client, "widget_http_request_seconds_count", route="/api/v1/comments"),
    }
    post("counted")
    for _ in range(3):
        assert client.get(f"/api/v1/comments?url={PAGE}").status_code == 200
    assert sample(client, "widget_http_requests_total", route="/api/v1/comments", method="POST",
                  status="201") == before["posts"] + 1
    assert sample(client, "widget_http_requests_total", **reads) == before["reads"] + 3
    assert sample(client, "widget_comments_created_total", state="published") == before["created"] + 1
    assert sample(client, "widget_thread_cache_total", result="miss") == before["misses"] + 1
    assert sample(client, "widget_thread_cache_total", result="hit") == before["hits"] + 2
    assert sample(client, "widget_http_request_seconds_count", route="/api/v1/comments") == \
        before["latency"] + 4
    text = scrape(client)
    assert 'widget_http_request_seconds_bucket{le="0.005",route="/api/v1/comments"}' in text


def test_unmatched_paths_share_one_label(client):
    client.get("/random/a")
    client.get("/random/b")
    text = scrape(client)
    assert "/random/" not in text
    assert 'route="<unmatched>"' in text


@pytest.mark.parametrize("config_overrides", [STRICT_PREVIEW], indirect=True)
def test_metrics_count_rate_limit_refusals(client):
    before = sample(client, "widget_rate_limited_total")
    assert client.post("/api/v1/preview", json={"text": "one"}).status_code == 200
    assert client.post("/api/v1/preview", json={"text": "two"}).status_code == 429
    assert sample(client, "widget_rate_limited_total") == before + 1


@pytest.mark.parametrize("config_overrides", [{"METRICS_TOKEN": None}], indirect=True)
def test_metrics_are_off_without_a_token(client):
    for headers in ({}, SCRAPER):
        response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
        assert "widget_http_requests_total" not in response.get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-of-some-length"},
                                     {"Authorization": f"Basic {METRICS_TOKEN}"},
                                     {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"}])
def test_metrics_need_the_token(client, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "widget_http_requests_total" not in response.get_data(as_text=True)


def test_a_short_metrics_token_stops_the_app_at_start(database_url, tmp_path):
    with pytest.raises(ConfigError, match="WIDGET_METRICS_TOKEN must be at least 16"):
        create_app(base_config(database_url, tmp_path, METRICS_TOKEN="short"))


def test_readyz_when_database_is_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready" and response.json["migrations"]
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_refuses_a_database_that_needs_migrations(tmp_path):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert "widget-server db upgrade" in response.json["error"]["message"]
    # No schema at all: nothing can work, and liveness says so with the same step to take.
    health = app.test_client().get("/healthz")
    assert health.status_code == 503 and "widget-server db upgrade" in health.json["error"]["message"]


def test_healthz_lives_on_an_older_schema_that_readyz_refuses(tmp_path):
    """A rolling upgrade: the old code on the newer schema (or the reverse) stays alive, not ready."""
    from sqlalchemy import text
    from support.app import migrate_database

    from widget_server.extensions import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate_database(url, tmp_path)
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '0003'"))
        db.session.commit()
    assert app.test_client().get("/healthz").status_code == 200
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and "database schema is at 0003" in ready.json["error"]["message"]


def test_readyz_refuses_when_the_database_is_down(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(base_config(url, tmp_path))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"error": {"code": "service_unavailable",
                                       "message": "the database does not answer"}}


def test_openapi_documents_the_operations_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/metrics" in paths and "/readyz" in paths


def test_gunicorn_workers_share_one_metrics_view_and_log_json(tmp_path):
    """Two worker processes: /metrics sums both (multiprocess mode), logs are JSON lines."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url, tmp_path)
    server = Gunicorn({"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(tmp_path),
                       "WIDGET_SECRET_KEY": "k", "WIDGET_METRICS_TOKEN": METRICS_TOKEN},
                      tmp_path / "gunicorn.log", workers=2, threads=2).start()
    try:
        for i in range(20):
            assert server.get("/readyz", headers={"X-Request-Id": f"probe-{i}"}).status == 200
        assert server.get("/metrics").status == 401
        text = server.get("/metrics", headers=SCRAPER).body.decode()
        served = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
                  if s.name == "widget_http_requests_total" and s.labels.get("route") == "/readyz"}
        assert served == {"widget_http_requests_total": 20.0}
    finally:
        assert server.stop() == 0
    # gunicorn's own lines too, and nothing from Alembic on the probes (issue 12).
    assert len(server.log_records()) == len(server.log().splitlines())
    assert not [r for r in server.log_records() if r["logger"].startswith("alembic")]
    access = [r for r in server.log_records() if r.get("logger") == "widget_server.access"]
    assert {r["request_id"] for r in access if r["route"] == "/readyz"} == {f"probe-{i}" for i in range(20)}
