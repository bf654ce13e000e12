"""`widget-server serve` as `make run` starts it: a real gunicorn master that forks its worker.

The in-process tests never fork; this one does, so state inherited across the
fork (a lock held by the master's warm-up thread, once; the minifier's Go runtime, once)
cannot hang a worker.
It also reads what an operator reads: the logs are JSON lines only, a busy port
is one line, and several workers share one /metrics.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.pow import TEST_COST, payload
from support.processes import free_port, http, wait_for

from widget_server.assets import STATIC_DIR
from widget_server.extensions import MIGRATIONS

# Every script: each is minified by the worker that serves it first.
ASSETS = ["/demo", "/demo.css", *(f"/{path.name}" for path in sorted(STATIC_DIR.glob("*.js"))),
          "/widget-i18n/de.json", "/widget-i18n/account/ar.json", "/admin", "/admin.css",
          "/healthz", "/readyz"]
METRICS_TOKEN = "metrics-token-for-serve-tests"


@dataclass
class Served:
    base: str
    instance: Path
    process: subprocess.Popen
    stdout: str = ""
    stderr: str = ""

    def stop(self) -> Served:
        """Stop it as an operator does (SIGTERM), check it ended well, keep what it printed."""
        if self.process.returncode is None:
            self.process.terminate()
            self.stdout, self.stderr = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, self.stderr[-2000:]
        assert self.stdout.splitlines() == [
            f"widget-server on {self.base}  (demo page: {self.base}/demo, moderation: {self.base}/admin)"]
        return self


def _env(instance: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WIDGET_", "PROMETHEUS_"))}
    env.update(WIDGET_INSTANCE_PATH=str(instance), WIDGET_SECRET_KEY="serve-test",
               WIDGET_POW_COST=str(TEST_COST), **{f"WIDGET_{k}": v for k, v in settings.items()})
    return env


@pytest.fixture
def serve(tmp_path):
    """Start `widget-server serve` with these settings; stopped (and checked) at the end at the latest."""
    started: list[Served] = []

    def start(**settings: str) -> Served:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "widget_server", "serve", "--port", str(port)],
                                   env=_env(tmp_path, **settings), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        served = Served(f"http://127.0.0.1:{port}", tmp_path, process)
        started.append(served)
        wait_for(lambda: _answers(served.base, process), 30, "widget-server serve to answer")
        return served

    yield start
    for served in started:
        served.stop()


def _answers(base: str, process) -> bool:
    assert process.poll() is None, process.communicate()
    try:
        return http("GET", base + "/healthz", timeout=1).status == 200
    except OSError:
        return False


def test_serve_migrates_sqlite_and_serves_every_asset(serve):
    served = serve()
    assert (served.instance / "comments.db").exists()
    # The minifier is a Go library, whose runtime does not survive fork(): the master that
    # forks the workers must never have loaded it (it did once, and scripts hung at random).
    master_maps = Path(f"/proc/{served.process.pid}/maps").read_text()
    assert "minify" not in master_maps
    for _round in range(3):  # more requests than the worker has threads: none may hang
        for path in ASSETS:
            assert http("GET", served.base + path, timeout=10).status == 200, path
    altcha = payload(http("GET", served.base + "/api/v1/challenge").json)
    created = http("POST", served.base + "/api/v1/comments",
                   {"url": f"{served.base}/demo", "text": "served", "altcha": altcha})
    assert created.status == 201, created.json


def test_every_log_line_under_serve_is_json_and_said_once(serve):
    # A warning at start (accounts on, no mail server), migrations, gunicorn, probes, requests.
    served = serve(ACCOUNTS="true", PUBLIC_URL="http://127.0.0.1", ALLOWED_ORIGINS="https://blog.example")
    for i in range(5):
        assert http("GET", served.base + "/readyz", headers={"X-Request-Id": f"probe-{i}"}).status == 200

    lines = served.stop().stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line: a JSON object
    assert all(isinstance(r, dict) and r["level"] and r["logger"] for r in records)
    by_logger: dict[str, list[str]] = {}
    for record in records:
        by_logger.setdefault(record["logger"], []).append(record.get("msg") or record.get("route"))
    warnings = [r["msg"] for r in records if r["level"] == "warning"]
    assert len(warnings) == 1 and warnings[0].startswith("WIDGET_ACCOUNTS=true without WIDGET_SMTP_URL")
    migrations = list((MIGRATIONS / "versions").glob("*.py"))
    # The migrations that ran, nothing else.
    assert len(by_logger["alembic.runtime.migration"]) == len(migrations)
    assert all(m.startswith("Running upgrade") for m in by_logger["alembic.runtime.migration"])
    assert any("Listening at" in m for m in by_logger["gunicorn.error"])
    probes = [r for r in records if r.get("route") == "/readyz"]
    assert {r["request_id"] for r in probes} >= {f"probe-{i}" for i in range(5)}




def test_serve_with_several_workers_sums_their_metrics(serve):
    served = serve(WORKERS="2", THREADS="2", METRICS_TOKEN=METRICS_TOKEN)
    for i in range(20):
        assert http("GET", served.base + "/readyz", headers={"X-Request-Id": f"m-{i}"}).status == 200
    text = http("GET", served.base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).body
    counted = [s.value for f in text_string_to_metric_families(text.decode()) for s in f.samples
               if s.name == "widget_http_requests_total" and s.labels.get("route") == "/readyz"]
    assert counted == [20.0]

    stderr = served.stop().stderr
    assert "PROMETHEUS_MULTIPROC_DIR" not in stderr  # set before prometheus_client came in
    assert len({json.loads(line)["msg"] for line in stderr.splitlines() if "Booting worker" in line}) == 2


def test_a_busy_port_is_one_line_before_any_banner(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "widget_server", "serve", "--port", str(port)],
                              env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; is widget-server already "
        "running? Stop it, or choose another port (--port or WIDGET_BIND; with make run: make run PORT=8001)"]
    assert not (tmp_path / "comments.db").exists()  # nothing done before the line
