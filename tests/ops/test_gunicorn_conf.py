"""gunicorn's own settings (widget_server/ops/gunicorn_conf.py; the tests start gunicorn through
the old name widget_server.gunicorn_conf, which deployments made before the move still use): whose
forwarded scheme it believes, and no client address or query string in its own log lines."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import Gunicorn, free_port, migrate

from widget_server.ops.gunicorn_conf import scrub

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Two secure-scheme headers that disagree: gunicorn answers 400 when it believes the peer
# (InvalidSchemeHeaders), and ignores both when it does not.
CONFLICTING_SCHEME = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "off"}


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "PROMETHEUS_"))}
    env.update({f"WIDGET_{k}": v for k, v in settings.items()})
    return env


def forwarded_allow_ips(**settings: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from widget_server.ops import gunicorn_conf as c; "
                           "print(c.forwarded_allow_ips)"], cwd=ROOT, env=_env(**settings),
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, ""),
    ({"TRUSTED_PROXIES": "0"}, ""),
    ({"TRUSTED_PROXIES": "1"}, "127.0.0.1,::1"),
    ({"TRUSTED_PROXIES": "1", "FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.0.2.1"}, "10.0.0.0/8,192.0.2.1"),
])
def test_forwarded_allow_ips_follows_the_trusted_proxies_setting(settings, expected):
    assert forwarded_allow_ips(**settings) == expected


def test_a_bad_forwarded_allow_ips_stops_gunicorn_in_one_line(tmp_path):
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "-c", "python:widget_server.gunicorn_conf",
                           "widget_server:create_app()"], cwd=ROOT,
                          env=_env(INSTANCE_PATH=str(tmp_path), BIND=f"127.0.0.1:{free_port()}",
                                   FORWARDED_ALLOW_IPS="proxy.example"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert ("Error: WIDGET_FORWARDED_ALLOW_IPS: 'proxy.example' is not an IP address "
            "or network") in done.stderr.splitlines()


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url, tmp_path)
    return url


def _gunicorn(tmp_path, database: str, **settings: str) -> Gunicorn:
    env = {"WIDGET_DATABASE_URL": database, "WIDGET_INSTANCE_PATH": str(tmp_path),
           "WIDGET_SECRET_KEY": "k", **{f"WIDGET_{k}": v for k, v in settings.items()}}
    return Gunicorn(env, tmp_path / f"gunicorn-{len(list(tmp_path.glob('gunicorn-*')))}.log",
                    workers=1, threads=2).start()


def test_without_trusted_proxies_no_client_chooses_the_scheme_and_the_log_names_no_client(tmp_path,
                                                                                           database):
    server = _gunicorn(tmp_path, database)
    try:
        assert server.get("/healthz", headers=CONFLICTING_SCHEME).status == 200  # not even read
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"NOT A REQUEST LINE\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
    finally:
        assert server.stop() == 0
    refused = [line for line in server.log().splitlines() if "Invalid request from" in line]
    assert refused and all("ip=[address]" in line for line in refused)
    assert not [line for line in server.log().splitlines()
                if "127.0.0.1" in line and "Listening at:" not in line]


def test_with_a_trusted_proxy_gunicorn_believes_the_proxys_address_only(tmp_path, database):
    server = _gunicorn(tmp_path, database, TRUSTED_PROXIES="1")  # the proxy: 127.0.0.1 by default
    try:
        assert server.get("/healthz", headers=CONFLICTING_SCHEME).status == 400
    finally:
        assert server.stop() == 0
    other = _gunicorn(tmp_path, database, TRUSTED_PROXIES="1", FORWARDED_ALLOW_IPS="192.0.2.1")
    try:
        assert other.get("/healthz", headers=CONFLICTING_SCHEME).status == 200
    finally:
        assert other.stop() == 0


@pytest.mark.parametrize(("line", "scrubbed"), [
    ("Invalid request from ip=203.0.113.9: Invalid HTTP Version", "Invalid request from ip=[address]: "
                                                                  "Invalid HTTP Version"),
    ("Invalid request from ip=2001:db8::7: bad", "Invalid request from ip=[address]: bad"),
    ("Invalid request from ip=::ffff:10.0.0.1: bad", "Invalid request from ip=[address]: bad"),
    ("Error handling request GET /account/reset?token=s3cret",
     "Error handling request GET /account/reset?[query]"),
    ("Error handling request /mail/unsubscribe?token=a&b=c",
     "Error handling request /mail/unsubscribe?[query]"),
    ("Booting worker with pid: 1234", "Booting worker with pid: 1234"),
    ("Worker exiting at 12:30:45 (gunicorn 27.0.1)", "Worker exiting at 12:30:45 (gunicorn 27.0.1)"),
    ("Listening at: http://127.0.0.1:8000 (77)", "Listening at: http://127.0.0.1:8000 (77)"),
])
def test_scrub(line, scrubbed):
    assert scrub(line) == scrubbed


@pytest.mark.parametrize(("settings", "line"), [
    ({"RATELIMIT_POST": "lots"}, "Error: WIDGET_RATELIMIT_POST must be rate limits such as"),
    ({"WORKERS": "many"}, "Error: WIDGET_WORKERS must be a whole number"),
    ({"DATABASE_URL": "mysql://u:secret@db.example/c"},
     "Error: WIDGET_DATABASE_URL: mysql:// needs the Python package mysqlclient"),
    ({"INSTANCE_PATH": "/proc/no/such/folder"},
     "Error: WIDGET_INSTANCE_PATH: cannot use /proc/no/such/folder"),
])
def test_every_bad_setting_stops_gunicorn_in_one_line(tmp_path, settings, line):
    env = _env(**{"INSTANCE_PATH": str(tmp_path), "BIND": f"127.0.0.1:{free_port()}", **settings})
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "-c", "python:widget_server.gunicorn_conf",
                           "widget_server:create_app()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "secret" not in done.stderr
    # gunicorn's "Starting gunicorn" (a JSON log line) comes first; then the one line that says why.
    errors = [text for text in done.stderr.splitlines() if text.strip() and not text.startswith("{")]
    assert len(errors) == 1 and errors[0].startswith(line), done.stderr
