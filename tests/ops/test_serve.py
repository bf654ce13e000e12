"""`widget-server serve` as `make run` starts it: a real gunicorn master that forks its worker.

The in-process tests never fork; this one does, so state inherited across the
fork (a lock held by the master's warm-up thread, once) cannot hang a worker.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.processes import free_port, http, wait_for

ASSETS = ["/demo", "/demo.css", "/widget.js", "/widget-account.js", "/widget-i18n/de.json",
          "/widget-i18n/account/ar.json", "/admin", "/admin.js", "/admin.css", "/healthz", "/readyz"]


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WIDGET_")}
    env.update(WIDGET_INSTANCE_PATH=str(tmp_path), WIDGET_SECRET_KEY="serve-test")
    process = subprocess.Popen([sys.executable, "-m", "widget_server", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 30, "widget-server serve to answer")
        yield base, tmp_path
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output[-2000:]
    assert f"demo page: {base}/demo" in output


def _answers(base: str) -> bool:
    try:
        return http("GET", base + "/healthz", timeout=1).status == 200
    except OSError:
        return False


def test_serve_migrates_sqlite_and_serves_every_asset(served):
    base, instance = served
    assert (instance / "comments.db").exists()
    for _round in range(3):  # more requests than the worker has threads: none may hang
        for path in ASSETS:
            assert http("GET", base + path, timeout=10).status == 200, path
    created = http("POST", base + "/api/v1/comments", {"url": f"{base}/demo", "text": "served"})
    assert created.status == 201, created.json
