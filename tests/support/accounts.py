"""Test helpers for accounts, mail and webhooks: a local SMTP server (aiosmtpd),
a local webhook receiver (http.server), and fixtures that wire them into the app.

Imported by tests/test_accounts.py, test_mail.py, test_notifications.py and
test_webhooks.py; everything listens on 127.0.0.1 only.
"""
from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import argon2
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from widget_server.delivery import outbox
from widget_server.extensions import db

PUBLIC_URL = "https://comments.example"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collector:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # each mail's bytes as the server received them
        self.envelopes: list[list[str]] = []  # the RCPT TO addresses of each accepted mail
        self.refuse_recipients = False  # answer RCPT TO with a 550 that echoes the address
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse_recipients:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(raw)
            self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


class SMTPServer:
    """aiosmtpd on 127.0.0.1; ``messages`` are parsed ``EmailMessage`` objects."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.collector = _Collector()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?from=comments@blog.example"

    @property
    def messages(self) -> list:
        with self.collector.lock:
            return list(self.collector.messages)

    @property
    def raw(self) -> list[bytes]:
        with self.collector.lock:
            return list(self.collector.raw)

    @property
    def envelopes(self) -> list[list[str]]:
        with self.collector.lock:
            return list(self.collector.envelopes)

    def start(self) -> SMTPServer:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, got {len(self.messages)}")

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def links(message) -> list[str]:
    return re.findall(r"https?://\S+", text_of(message))


def link_path(url: str) -> str:
    """The path and query of a link in mail, for the test client."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def link_with(message, fragment: str) -> str:
    found = [url for url in links(message) if fragment in url]
    assert found, f"no link with {fragment!r} in: {links(message)}"
    return found[0]


class WebhookReceiver:
    """http.server in a thread; answers with the next status in ``statuses`` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body, "status": status})
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.requests if r["status"] < 300]


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def account_config(smtp_url: str, **extra) -> dict:
    config = {"ACCOUNTS": True, "SMTP_URL": smtp_url, "OUTBOX_THREAD": False, "PUBLIC_URL": PUBLIC_URL,
              "PASSWORD_HASH_PARAMETERS": argon2.profiles.CHEAPEST}
    config.update(extra)
    return config


def send_outbox(app) -> int:
    """Run the outbox sender once, as the worker would."""
    with app.app_context():
        try:
            return outbox.process_due()
        finally:
            db.session.remove()


def count(app, model, *where) -> int:
    with app.app_context():
        try:
            return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        finally:
            db.session.remove()


class Reader:
    """A reader with an account, through the public API only."""

    def __init__(self, client, app, smtp: SMTPServer, email_address: str, name: str):
        self.client, self.app, self.smtp = client, app, smtp
        self.email, self.name = email_address, name
        self.token: str | None = None
        self.refresh_token: str | None = None

    def sign_up(self) -> Reader:
        before = len(self.smtp.to(self.email))
        response = self.client.post("/api/v1/auth/signup",
                                    json={"email": self.email, "display_name": self.name})
        assert response.status_code == 202, response.json
        send_outbox(self.app)
        message = self.smtp.to(self.email)[before]
        url = link_with(message, "/account/confirm")
        # The password is chosen on the link's page, once the address is proven.
        done = self.client.post(link_path(url), data={"password": PASSWORD, "password_again": PASSWORD})
        assert done.status_code == 200
        return self

    def sign_in(self, password: str = PASSWORD) -> dict:
        response = self.client.post("/api/v1/auth/login", json={"email": self.email, "password": password})
        assert response.status_code == 200, response.json
        self.token, self.refresh_token = response.json["token"], response.json["refresh_token"]
        return response.json

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_reader(client, app, smtp_server):
    def make(email_address: str = "mary@example.org", name: str = "Mary Smith", *, signed_in=True) -> Reader:
        reader = Reader(client, app, smtp_server, email_address, name).sign_up()
        if signed_in:
            reader.sign_in()
        return reader

    return make
