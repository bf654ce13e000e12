"""deploy/nginx.conf.template in a real nginx (Debian's), in front of a real gunicorn.

The proxy is the compose file's, TLS aside (tests/nginx.py): it answers only its
own name, keeps tokens and client addresses out of its access log, sets the
forwarding headers itself, and serves neither /metrics nor /readyz.
"""
from __future__ import annotations

import http.client
import json
import uuid

import pytest
from flask import Flask
from support.nginx import Nginx
from support.pow import payload
from support.processes import Gunicorn, migrate

from widget_server.security import ip_hash

DOMAIN = "comments.test"
SECRET_KEY = "nginx-test-secret"
METRICS_TOKEN = "metrics-token-for-the-nginx-test"
SITE = "https://blog.example"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx-app")
    url = f"sqlite:///{folder / 'app.db'}"
    migrate(url, folder)
    server = Gunicorn({"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(folder),
                       "WIDGET_SECRET_KEY": SECRET_KEY, "WIDGET_TRUSTED_PROXIES": "1",
                       "WIDGET_PUBLIC_URL": f"https://{DOMAIN}", "WIDGET_ALLOWED_ORIGINS": SITE,
                       "WIDGET_METRICS_TOKEN": METRICS_TOKEN, "WIDGET_SPAM_MIN_SECONDS": "0"},
                      folder / "gunicorn.log", workers=1, threads=4).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(app_server):
    with Nginx(f"127.0.0.1:{app_server.port}", domain=DOMAIN).start() as nginx:
        yield nginx


def app_lines(app_server) -> list[dict]:
    return [r for r in app_server.log_records() if r.get("logger") == "widget_server.access"]


def client_tag(address: str) -> str:
    """The app's access-log tag for a client address (a keyed hash, observability.py)."""
    app = Flask("tags")
    app.config["SECRET_KEY"] = SECRET_KEY
    with app.app_context():
        return ip_hash(address)[:12]


def test_its_own_name_is_proxied_to_the_app(proxy):
    answer = proxy.request("GET", "/healthz")
    assert answer.status == 200
    assert answer.headers["X-Request-Id"]


@pytest.mark.parametrize("host", ["attacker.test", "127.0.0.1", f"{DOMAIN}.attacker.test", f"x.{DOMAIN}"])
@pytest.mark.parametrize("listener", ["port", "http_port"])
def test_any_other_host_is_refused_by_the_default_server(proxy, app_server, host, listener):
    probe = f"/probe-{uuid.uuid4().hex}"
    answer = proxy.request("GET", f"{probe}?token=never-logged", host=host, port=getattr(proxy, listener))
    assert answer is None  # 444: the connection is closed without a word
    assert not [line for line in app_lines(app_server) if line["path"] == probe]  # the app never saw it


def test_the_http_port_redirects_only_its_own_name(proxy):
    answer = proxy.request("GET", "/demo?x=1", port=proxy.http_port)
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{DOMAIN}/demo?x=1"


def test_a_clients_forwarding_headers_are_replaced(proxy, app_server):
    answer = proxy.request("GET", "/healthz", headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "attacker.test",
        "X-Forwarded-Proto": "https", "X-Request-Id": "chosen-by-the-client"})
    # The app trusts one hop: a forwarded host of the client's choosing would be a 400.
    assert answer.status == 200
    rid = answer.headers["X-Request-Id"]
    assert rid != "chosen-by-the-client"
    (line,) = [r for r in app_lines(app_server) if r["request_id"] == rid]
    assert line["client"] == client_tag("127.0.0.1")  # the address nginx saw
    assert line["client"] != client_tag("203.0.113.9")


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_operations_endpoints_are_not_served(proxy, app_server, path):
    assert app_server.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status == 200
    answer = proxy.request("GET", path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status == 404
    assert b"widget_http_requests_total" not in answer.body and b"migrations" not in answer.body


def test_the_access_log_holds_no_token_query_or_client_address(proxy, app_server):
    secrets = [f"secret{n}{uuid.uuid4().hex}" for n in range(5)]
    proxy.request("GET", f"/account/reset?token={secrets[0]}")
    proxy.request("GET", f"/mail/unsubscribe?token={secrets[1]}&c=1")
    proxy.request("GET", f"/mail/confirm?token={secrets[2]}")
    proxy.request("GET", f"/api/v1/comments?url={SITE}/p&edit={secrets[3]}", headers={"Origin": SITE})
    proxy.request("GET", f"/nowhere?token={secrets[4]}", host="attacker.test")
    lines = proxy.access_log()
    paths = {line["path"] for line in lines}
    assert {"/account/reset", "/mail/unsubscribe", "/mail/confirm", "/api/v1/comments"} <= paths
    for line in lines:
        assert "?" not in line["path"]
        fields = {k: v for k, v in line.items() if k != "upstream"}  # the app's address, not a client's
        assert "127.0.0.1" not in json.dumps(fields)
    written = proxy.log_text("access.log") + proxy.log_text("main.log")
    assert not [s for s in secrets if s in written]
    assert "127.0.0.1 -" not in written  # nothing fell through to a log format with the address


def read_event(response, name: str) -> dict:
    """The data of the next event called ``name`` on an open stream (blocking, with the socket's timeout)."""
    current = None
    while True:
        line = response.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            current = line[7:]
        elif line.startswith("data: ") and current == name:
            return json.loads(line[6:])


def test_live_events_pass_through_the_proxy_unbuffered(proxy):
    page = f"{SITE}/live-{uuid.uuid4().hex[:8]}"
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        connection.request("GET", f"/api/v1/events?url={page}", headers={"Host": DOMAIN})
        stream = connection.getresponse()
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        # Thirteen bytes, long before any buffer would fill: they come only if nothing buffers.
        assert stream.readline() == b"retry: 3000\n"
        challenge = proxy.request("GET", "/api/v1/challenge", headers={"Origin": SITE})
        assert challenge.status == 200, challenge.body
        posted = proxy.request("POST", "/api/v1/comments", headers={"Origin": SITE}, body={
            "url": page, "text": "through nginx", "altcha": payload(json.loads(challenge.body))})
        assert posted.status == 201, posted.body
        created = read_event(stream, "comment")
        assert (created["change"], created["comment"]["html"]) == ("created", "<p>through nginx</p>")
        assert read_event(stream, "thread")["thread"]["comment_count"] == 1
    finally:
        connection.close()


def test_live_events_from_the_gevent_stream_process_pass_through_the_proxy(app_server, tmp_path):
    """As the compose file runs it: the streams upstream is a gevent process whose fan-out writes
    the chunks to the socket itself; nginx (HTTP/1.1 to it, keepalive) must pass them whole."""
    same = {k: v for k, v in app_server.env.items()
            if k.startswith("WIDGET_") and k not in ("WIDGET_BIND", "WIDGET_WORKERS", "WIDGET_THREADS")}
    streams = Gunicorn({**same, "WIDGET_WORKER_CLASS": "gevent"}, tmp_path / "streams.log",
                       workers=1).start(timeout=60)
    page = f"{SITE}/live-{uuid.uuid4().hex[:8]}"
    try:
        with Nginx(f"127.0.0.1:{app_server.port}", domain=DOMAIN,
                   streams=f"127.0.0.1:{streams.port}").start() as nginx:
            for n in range(2):  # one stream after another, each with its own events
                connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
                try:
                    connection.request("GET", f"/api/v1/events?url={page}", headers={"Host": DOMAIN})
                    stream = connection.getresponse()
                    assert stream.status == 200
                    assert stream.readline() == b"retry: 3000\n"
                    challenge = nginx.request("GET", "/api/v1/challenge", headers={"Origin": SITE})
                    posted = nginx.request("POST", "/api/v1/comments", headers={"Origin": SITE}, body={
                        "url": page, "text": f"fanned out {n}",
                        "altcha": payload(json.loads(challenge.body))})
                    assert posted.status == 201, posted.body
                    created = read_event(stream, "comment")
                    assert created["comment"]["html"] == f"<p>fanned out {n}</p>"
                    assert read_event(stream, "thread")["thread"]["comment_count"] == n + 1
                finally:
                    connection.close()
    finally:
        streams.stop()
