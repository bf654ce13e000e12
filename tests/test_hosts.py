"""Where the server is never comes from the request (widget_server/hosts.py).

Links in mail, feeds and pages, and the server's own origin, come from
``WIDGET_PUBLIC_URL`` (or, without mail, the listen address and localhost);
a request for a Host the server does not answer to is refused with a JSON 400.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import accounts as account_support
from support.accounts import PUBLIC_URL, account_config, link_with, send_outbox
from support.app import PAGE, base_config, wipe
from support.processes import free_port

from widget_server import create_app
from widget_server.config import ConfigError

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ATTACKER = "attacker.test"


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "PROMETHEUS_"))}
    return {**env, **settings}


# --- WIDGET_PUBLIC_URL is required with mail or accounts -----------------------------------------


@pytest.mark.parametrize("settings", [
    {"ACCOUNTS": True},
    {"ACCOUNTS": "true"},
    {"SMTP_URL": "smtp://127.0.0.1:2525?from=comments@blog.example"},
    {"SMTP_URL": "smtp://127.0.0.1:2525?from=comments@blog.example", "ACCOUNTS": "auto"},
])
def test_mail_or_accounts_without_a_public_url_refuse_to_start(database_url, tmp_path, settings):
    with pytest.raises(ConfigError, match="WIDGET_PUBLIC_URL must be set"):
        create_app(base_config(database_url, tmp_path, **settings))


def test_without_mail_or_accounts_no_public_url_is_needed(database_url, tmp_path):
    app = create_app(base_config(database_url, tmp_path, ACCOUNTS="auto", SMTP_URL=None))
    try:
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        wipe(app)  # closes the pool's connections too


@pytest.mark.parametrize("bad", ["comments.example", "ftp://comments.example", "https://",
                                 "https://comments.example/?next=x", "https://comments.example/#top",
                                 "https://user:pw@comments.example"])
def test_public_url_must_be_a_plain_http_url(database_url, tmp_path, bad):
    with pytest.raises(ConfigError, match="WIDGET_PUBLIC_URL"):
        create_app(base_config(database_url, tmp_path, PUBLIC_URL=bad))


@pytest.mark.parametrize("bad", ["8000", "127.0.0.1:port", "127.0.0.1:70000"])
def test_bind_must_be_an_address(database_url, tmp_path, bad):
    with pytest.raises(ConfigError, match="WIDGET_BIND"):
        create_app(base_config(database_url, tmp_path, BIND=bad))


@pytest.mark.parametrize("bad", ["https://app.example", "[::1]", "two words", ".", "app.example/"])
def test_allowed_hosts_must_be_host_names(database_url, tmp_path, bad):
    with pytest.raises(ConfigError, match="WIDGET_ALLOWED_HOSTS"):
        create_app(base_config(database_url, tmp_path, ALLOWED_HOSTS=["app", bad]))


def test_serve_says_why_it_will_not_start_in_one_line(tmp_path):
    done = subprocess.run([str(VENV_BIN / "widget-server"), "serve", "--port", str(free_port())], cwd=ROOT,
                          env=_env(WIDGET_INSTANCE_PATH=str(tmp_path), WIDGET_ACCOUNTS="true"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: WIDGET_PUBLIC_URL must be set")


def test_gunicorn_says_why_it_will_not_start_in_one_line(tmp_path):
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "-c", "python:widget_server.gunicorn_conf",
                           "widget_server:create_app()"], cwd=ROOT,
                          env=_env(WIDGET_INSTANCE_PATH=str(tmp_path), WIDGET_ACCOUNTS="true",
                                   WIDGET_BIND=f"127.0.0.1:{free_port()}"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "WIDGET_PUBLIC_URL" in line]
    assert errors == ["Error: WIDGET_PUBLIC_URL must be set when mail or reader accounts "
                      "are on (links in mail are built from it, never from a request's Host), "
                      "e.g. WIDGET_PUBLIC_URL=https://comments.example.com"]


# --- links in mail ------------------------------------------------------------------------------


@pytest.fixture
def config_overrides(request):
    """Settings for this test's app; ``{"mail": True, ...}`` adds accounts and the local SMTP server."""
    settings = dict(getattr(request, "param", {}))
    if settings.pop("mail", False):
        return account_config(request.getfixturevalue("smtp_server").url, **settings)
    return settings


def _reset_mails(app, smtp_server) -> list:
    send_outbox(app)
    return [m for m in smtp_server.to("mary@example.org") if "reset" in m["Subject"].lower()]


@pytest.mark.parametrize("config_overrides", [{"mail": True}], indirect=True)
def test_forgot_password_with_a_foreign_host_is_refused_and_mails_nothing(app, client, smtp_server,
                                                                          make_reader):
    make_reader()
    response = client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"},
                           headers={"Host": ATTACKER})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "unknown_host"
    assert _reset_mails(app, smtp_server) == []


@pytest.mark.parametrize(("config_overrides", "headers"), [
    ({"mail": True}, {"Host": "localhost:9999", "X-Forwarded-Host": ATTACKER}),
    ({"mail": True}, {"Host": "127.0.0.1:1", "X-Forwarded-Proto": "http"}),
    ({"mail": True, "TRUSTED_PROXIES": 1},
     {"Host": "localhost", "X-Forwarded-Host": "localhost:9999", "X-Forwarded-Proto": "http"}),
], indirect=["config_overrides"])
def test_reset_link_is_built_from_the_public_url_whatever_the_request_says(app, client, smtp_server,
                                                                           make_reader, headers):
    make_reader()
    assert client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"},
                       headers=headers).status_code == 202
    (message,) = _reset_mails(app, smtp_server)
    assert link_with(message, "/account/reset?token=").startswith(f"{PUBLIC_URL}/account/reset?token=")


@pytest.mark.parametrize("config_overrides", [{"mail": True, "TRUSTED_PROXIES": 1}],
                         indirect=True)
def test_a_foreign_forwarded_host_is_refused_too(app, client, smtp_server, make_reader):
    make_reader()
    response = client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"},
                           headers={"X-Forwarded-Host": ATTACKER})
    assert response.status_code == 400
    assert _reset_mails(app, smtp_server) == []


# --- Host names the server answers to ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", f"/api/v1/comments?url={PAGE}", "/demo", "/",
                                  "/api/v1/feed.atom", "/no/such/page", "/metrics"])
@pytest.mark.parametrize("host", [ATTACKER, "evil.example:8000", "localhost.attacker.test"])
def test_an_unknown_host_gets_the_json_400(client, path, host):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "unknown_host"
    assert host not in response.get_data(as_text=True)  # the answer does not echo it


def test_an_unknown_host_is_refused_before_the_origin_check(client):
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "x"},
                           headers={"Host": ATTACKER, "Origin": "https://blog.example"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "unknown_host"


@pytest.mark.parametrize(("config_overrides", "host"), [
    ({}, "localhost"),
    ({}, "localhost:5000"),
    ({}, "127.0.0.1:8000"),
    ({"BIND": "192.0.2.7:8123"}, "192.0.2.7:8123"),
    ({"PUBLIC_URL": "https://comments.example/base"}, "comments.example"),
    ({"ALLOWED_HOSTS": ["app", ".internal.example"]}, "app:8000"),
    ({"ALLOWED_HOSTS": ["app", ".internal.example"]}, "metrics.internal.example"),
    ({"ALLOWED_HOSTS": ["app:8000"]}, "app"),
    ({"ALLOWED_HOSTS": ["*"]}, ATTACKER),
], indirect=["config_overrides"])
def test_known_hosts_are_answered(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


# --- the server's own origin ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_spoofed_host_cannot_make_a_foreign_origin_the_servers_own(client, scheme):
    foreign = f"{scheme}://{ATTACKER}"
    response = client.post("/api/v1/comments", json={"url": f"{foreign}/page", "text": "x"},
                           headers={"Host": ATTACKER, "Origin": foreign})
    assert response.status_code in (400, 403)
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("config_overrides", [{"ALLOWED_HOSTS": [ATTACKER]}], indirect=True)
def test_own_origin_never_follows_the_host_header_even_for_an_answered_host(client):
    foreign = f"http://{ATTACKER}"
    response = client.post("/api/v1/comments", json={"url": f"{foreign}/page", "text": "x"},
                           headers={"Host": ATTACKER, "Origin": foreign})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"  # readable (CORS), but refused
    assert response.json["error"]["origin"] == foreign


def test_own_origin_does_not_follow_the_hosts_port(client):
    other = "http://localhost:9999"
    response = client.post("/api/v1/comments", json={"url": f"{other}/demo", "text": "x"},
                           headers={"Host": "localhost:9999", "Origin": other})
    assert response.status_code == 403


@pytest.mark.parametrize("config_overrides", [{"BIND": "127.0.0.1:8123"}], indirect=True)
@pytest.mark.parametrize(("origin", "own"), [
    ("http://127.0.0.1:8123", True), ("http://localhost:8123", True),
    ("http://localhost:8000", False), ("http://localhost", False), ("https://localhost:8123", False),
])
def test_without_a_public_url_the_own_origin_is_the_listen_address_and_localhost(client, origin, own):
    response = client.post("/api/v1/comments", json={"url": f"{origin}/demo", "text": "x"},
                           headers={"Origin": origin})
    assert response.status_code == (201 if own else 403)


@pytest.mark.parametrize("config_overrides", [{"BIND": "0.0.0.0:8123"}], indirect=True)
def test_listening_on_every_interface_makes_localhost_the_own_origin(client):
    for origin in ("http://127.0.0.1:8123", "http://localhost:8123"):
        response = client.post("/api/v1/comments", json={"url": f"{origin}/demo", "text": "x"},
                               headers={"Origin": origin})
        assert response.status_code == 201
    assert client.post("/api/v1/comments", json={"url": "http://0.0.0.0:8123/demo", "text": "x"},
                       headers={"Origin": "http://0.0.0.0:8123"}).status_code == 403


@pytest.mark.parametrize("config_overrides", [{"PUBLIC_URL": "https://comments.example/base/"}],
                         indirect=True)
@pytest.mark.parametrize(("origin", "own"), [
    ("https://comments.example", True), ("http://comments.example", False),
    ("http://127.0.0.1:8000", False), ("http://localhost:8000", False),
])
def test_with_a_public_url_the_own_origin_is_its_origin_only(client, origin, own):
    response = client.post("/api/v1/comments", json={"url": f"{origin}/demo", "text": "x"},
                           headers={"Origin": origin})
    assert response.status_code == (201 if own else 403)


# --- absolute links in pages and feeds -------------------------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"PUBLIC_URL": "https://comments.example/base/"}],
                         indirect=True)
@pytest.mark.parametrize(("path", "expected"), [
    ("/demo", '<link rel="canonical" href="https://comments.example/base/demo">'),
    ("/", 'src="https://comments.example/base/widget.js"'),
    (f"/api/v1/feed.atom?url={PAGE}",
     '<link rel="self" type="application/atom+xml" href="https://comments.example/base/api/v1/feed.atom?url='),
    ("/api/v1/feed.atom", '<link rel="alternate" type="text/html" href="https://comments.example/base/" />'),
])
def test_absolute_links_come_from_the_public_url(client, path, expected):
    response = client.get(path, headers={"Host": "localhost:9999"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert expected in body
    assert "localhost:9999" not in body


@pytest.mark.parametrize("config_overrides", [{"BIND": "127.0.0.1:8123"}], indirect=True)
def test_without_a_public_url_absolute_links_use_the_listen_address(client):
    body = client.get("/demo", headers={"Host": "localhost:9999"}).get_data(as_text=True)
    assert '<link rel="canonical" href="http://127.0.0.1:8123/demo">' in body
    assert "localhost:9999" not in body
