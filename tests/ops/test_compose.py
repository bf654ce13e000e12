"""docker-compose.yml, the Dockerfile and the proxy config, checked offline.

No Docker engine runs here: the compose file is validated against the Compose
Specification (check-jsonschema's vendored schema) and resolved by Debian's
docker-compose 1.29 (`config` needs no engine), which also checks references
between services. `make test` installs docker-compose (scripts/install-test-tools.sh).
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.processes import need_binary

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV = {"POSTGRES_PASSWORD": "pw", "WIDGET_SECRET_KEY": "k" * 40, "WIDGET_DOMAIN": "comments.example.com",
       "WIDGET_ALLOWED_ORIGINS": "https://blog.example.com"}


def compose_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "POSTGRES_"))}
    return {**env, **ENV, **overrides}


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The compose file as docker-compose 1.29 resolves it (anchors, variables, defaults)."""
    binary = need_binary("docker-compose", "docker-compose",
                         "scripts/install-test-tools.sh (apt-get install docker-compose)")
    done = subprocess.run([binary, "-f", str(COMPOSE), "config"], cwd=ROOT, env=compose_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return YAML(typ="safe").load(io.StringIO(done.stdout))


def test_compose_file_matches_the_compose_specification():
    done = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                           "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_docker_compose_accepts_the_file_quietly():
    binary = need_binary("docker-compose", "docker-compose", "scripts/install-test-tools.sh")
    done = subprocess.run([binary, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=compose_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "", done.stderr


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "WIDGET_SECRET_KEY"])
def test_secrets_have_no_default(missing):
    binary = need_binary("docker-compose", "docker-compose", "scripts/install-test-tools.sh")
    env = compose_env()
    del env[missing]
    done = subprocess.run([binary, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and missing in done.stderr


def test_topology(resolved):
    services = resolved["services"]
    assert {"proxy", "app", "db", "redis", "migrate"} <= set(services)
    app = services["app"]
    assert app["deploy"]["replicas"] >= 2
    env = app["environment"]
    assert env["WIDGET_TRUSTED_PROXIES"] == "1"
    # Links in mail and the own origin come from the configured name, never from a request's Host.
    assert env["WIDGET_PUBLIC_URL"] == f"https://{ENV['WIDGET_DOMAIN']}"
    assert not env["WIDGET_METRICS_TOKEN"]  # /metrics off unless the operator sets a token
    assert env["WIDGET_ALLOWED_HOSTS"] == "app"  # a scraper on the compose network calls app:8000
    database = env["WIDGET_DATABASE_URL"]
    assert database.startswith("postgresql://") and "@db:5432/" in database
    assert env["WIDGET_REDIS_URL"].startswith("redis://redis:6379")
    assert env["WIDGET_SECRET_KEY"] == ENV["WIDGET_SECRET_KEY"]  # one key shared by every replica
    assert "ports" not in app  # only the proxy is reachable from outside
    assert services["proxy"]["ports"]
    # Start order: the database and Redis healthy, migrations done, then the app, then the proxy.
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["widget-server", "db", "upgrade"]


def test_every_long_running_service_has_a_health_check(resolved):
    for name, service in resolved["services"].items():
        if name == "migrate":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "/readyz" in " ".join(resolved["services"]["app"]["healthcheck"]["test"])


def test_state_lives_in_named_volumes(resolved):
    assert {"pgdata", "certs"} <= set(resolved["volumes"])
    db_volumes = resolved["services"]["db"]["volumes"]
    assert any(str(v).startswith("pgdata:/var/lib/postgresql/data") for v in db_volumes)


def test_the_proxy_sets_x_forwarded_for_itself_and_hides_operations_endpoints(resolved):
    conf = (ROOT / "deploy" / "nginx.conf.template").read_text()
    # Set, not appended: one trusted hop, and a client's own header is thrown away.
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", conf)
    assert "$proxy_add_x_forwarded_for" not in conf
    assert re.search(r"location = /metrics\s*\{\s*return 404;", conf)
    assert re.search(r"location = /readyz\s*\{\s*return 404;", conf)
    assert "ssl_certificate " in conf and "listen 443 ssl" in conf
    # Every ${...} is filled in by the nginx image from the proxy's environment.
    proxy_env = resolved["services"]["proxy"]["environment"]
    assert set(re.findall(r"\$\{(\w+)\}", conf)) == {
        "WIDGET_DOMAIN", "WIDGET_UPSTREAM", "WIDGET_STREAMS_UPSTREAM", "WIDGET_ACCESS_LOG"}
    assert set(re.findall(r"\$\{(\w+)\}", conf)) <= set(proxy_env)
    assert (proxy_env["WIDGET_UPSTREAM"], proxy_env["WIDGET_ACCESS_LOG"]) == ("app:8000", "/dev/stdout")
    # Event streams go to the gevent service, unbuffered (docs/live.md; test_nginx.py runs it).
    assert proxy_env["WIDGET_STREAMS_UPSTREAM"] == "streams:8000"
    assert resolved["services"]["streams"]["environment"]["WIDGET_WORKER_CLASS"] == "gevent"
    events = re.search(r"location = /api/v1/events \{(.*?)\}", conf, re.DOTALL).group(1)
    assert "proxy_buffering off;" in events and "proxy_pass http://widget_streams;" in events
    # Behaviour (unknown hosts refused, no tokens in the log) is checked in a real nginx: test_nginx.py.
    assert re.search(r"listen 80 default_server;\s*listen 443 ssl default_server;", conf)
    log_format = re.search(r"log_format widget_json .*?';", conf, re.DOTALL).group(0)
    assert not {"$request_uri", "$request", "$args", "$query_string", "$remote_addr"} & set(
        re.findall(r"\$\w+", log_format))


def test_dockerfile_runs_gunicorn_as_a_non_root_user_on_python_slim():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    cmd = next(line for line in reversed(lines) if line.startswith("CMD "))
    assert cmd.startswith('CMD ["gunicorn"') and "widget_server.ops.gunicorn_conf" in cmd
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "instance"} <= set(ignored)
