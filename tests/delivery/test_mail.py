"""The mail outbox and its sender: off the request path, retries with backoff, nothing lost."""
from __future__ import annotations

import email.header
import email.policy
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import accounts as account_support
from support.accounts import SMTPServer, account_config, count, free_port, html_of, send_outbox, text_of
from support.app import PAGE, base_config

from widget_server import clock, create_app
from widget_server.delivery import mail
from widget_server.delivery import outbox as outbox_module
from widget_server.extensions import db
from widget_server.models import OutboxMessage
from widget_server.ops import cli

smtp_server = account_support.smtp_server


@pytest.fixture
def config_overrides(request, smtp_server):
    return account_config(smtp_server.url, ADMIN_EMAIL="owner@blog.example", **getattr(request, "param", {}))


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
        return rows


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example:2525?from=c@blog.example",
     ("mail.example", 2525, False, None, None, "c@blog.example")),
    ("smtps://user%40x.org:p%40ss@mail.example?from=c@blog.example",
     ("mail.example", 465, True, "user@x.org", "p@ss", "c@blog.example")),
    ("smtp://bob@x.org:secret@mail.example",
     ("mail.example", 587, False, "bob@x.org", "secret", "bob@x.org")),
    ("smtp://127.0.0.1", ("127.0.0.1", 587, False, None, None, "comments@127.0.0.1")),
])
def test_smtp_url(url, expected):
    s = mail.parse_smtp_url(url)
    assert (s.host, s.port, s.implicit_tls, s.username, s.password, s.sender) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25", "smtp://h:notaport"])
def test_bad_smtp_url(url):
    with pytest.raises(mail.MailConfigError):
        mail.parse_smtp_url(url)


def test_bad_smtp_url_stops_the_app_at_start(database_url, tmp_path):
    with pytest.raises(mail.MailConfigError):
        create_app(base_config(database_url, tmp_path, SMTP_URL="http://nope",
                               PUBLIC_URL=account_support.PUBLIC_URL))


def test_reader_text_is_escaped_in_html_mail():
    text, body = mail.compose([("p", "<b>Bob</b> & co"), ("quote", '<script>alert(1)</script>\n"two"'),
                               ("link", "Read <it>", 'https://x.example/?a=1&b="2"')])
    assert "<script>" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>" in body
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in body
    assert 'href="https://x.example/?a=1&amp;b=&quot;2&quot;"' in body
    assert "> <script>alert(1)</script>" in text  # the text part is plain text, unescaped


def test_mail_is_queued_with_the_comment_and_sent_later(client, app, smtp_server, post):
    post("<img src=x onerror=alert(1)> *hello*", author="Bob")
    assert smtp_server.messages == []  # nothing sent on the request path
    (row,) = outbox(app)
    assert (row.recipient, row.kind, row.sent_at) == ("owner@blog.example", "admin-new", None)
    assert send_outbox(app) == 1
    (message,) = smtp_server.messages
    assert message["From"].addresses[0].addr_spec == "comments@blog.example"
    assert message["To"] == "owner@blog.example"
    assert message.get_content_type() == "multipart/alternative"
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_of(message)
    assert "<img" not in html_of(message)
    assert "<img src=x onerror=alert(1)> *hello*" in text_of(message)
    assert outbox(app)[0].sent_at is not None
    assert send_outbox(app) == 0  # sent once


def test_an_absent_mail_server_never_slows_posting_and_mail_is_retried(app, client, post, frozen_clock,
                                                                        smtp_server):
    smtp_server.stop()  # nothing listens on the configured port now
    started = time.monotonic()
    post("hello")
    assert time.monotonic() - started < 2
    assert send_outbox(app) == 0
    (row,) = outbox(app)
    assert row.attempts == 1 and row.sent_at is None and row.last_error
    assert row.next_attempt_at == frozen_clock() + timedelta(seconds=30)

    smtp_server.start()
    frozen_clock.advance(seconds=29)
    assert send_outbox(app) == 0  # not due yet
    frozen_clock.advance(seconds=2)
    assert send_outbox(app) == 1
    assert len(smtp_server.messages) == 1
    assert outbox(app)[0].attempts == 2


def test_backoff_doubles_up_to_a_cap():
    delays = [outbox_module.backoff(n).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert delays == [30, 60, 120, 240, outbox_module.BACKOFF_CAP]


def test_gives_up_after_max_attempts(app, post, frozen_clock, smtp_server):
    smtp_server.stop()
    post("hello")
    for _ in range(outbox_module.MAX_ATTEMPTS):
        send_outbox(app)
        frozen_clock.advance(seconds=outbox_module.BACKOFF_CAP + 1)
    (row,) = outbox(app)
    assert row.attempts == outbox_module.MAX_ATTEMPTS and row.failed_at is not None and row.sent_at is None
    smtp_server.start()
    assert send_outbox(app) == 0


def test_nothing_is_lost_across_a_restart(database_url, tmp_path, post, app):
    post("queued before the restart")
    assert count(app, OutboxMessage, OutboxMessage.sent_at.is_(None)) == 1
    # A new process (same database) with a mail server that now answers sends it.
    server = SMTPServer().start()
    try:
        restarted = create_app(base_config(database_url, tmp_path / "restarted",
                                           **account_config(server.url, ADMIN_EMAIL="owner@blog.example")))
        assert send_outbox(restarted) == 1
        assert "queued before the restart" in text_of(server.messages[0])
        with restarted.app_context():
            db.engine.dispose()
    finally:
        server.stop()


def test_a_leased_row_is_not_taken_twice(app, post):
    post("hello")
    with app.app_context():
        row_id = db.session.execute(select(OutboxMessage.id)).scalar_one()
        assert outbox_module._claim(OutboxMessage, row_id) is True
        assert outbox_module._claim(OutboxMessage, row_id) is False  # a second sender finds it leased
        db.session.remove()


def test_without_smtp_mail_waits_in_the_outbox(app, post):
    app.config["SMTP_URL"] = None
    post("hello")
    assert send_outbox(app) == 0
    assert count(app, OutboxMessage, OutboxMessage.attempts == 0) == 1


def test_worker_command_sends_what_is_due(app, post, smtp_server):
    post("hello")
    result = app.test_cli_runner().invoke(cli.main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("config_overrides", [{"OUTBOX_THREAD": True}], indirect=True)
def test_background_thread_sends_soon_after_the_request(app, client, smtp_server):
    try:
        response = client.post("/api/v1/comments", json={"url": PAGE, "text": "threaded"})
        assert response.status_code == 201
        (message,) = smtp_server.wait_for(1)
        assert "threaded" in text_of(message)
    finally:
        app.extensions["widget_outbox_worker"].stop()


def test_no_background_thread_when_switched_off(app, client):
    client.get("/healthz")
    assert "widget_outbox_worker" not in app.extensions


class FakeSMTP:
    """An SMTP client that records what it was asked to do (``calls``) and offers no STARTTLS."""

    calls: list = []

    def __init__(self, *args, **kwargs):
        self.sock = object()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def ehlo(self):
        pass

    def has_extn(self, name):
        return False  # no STARTTLS offered

    def login(self, *args):
        self.calls.append("login")

    def send_message(self, message, from_addr=None, to_addrs=None, **kwargs):
        self.calls.append(("message", from_addr, to_addrs, message["To"]))


@pytest.fixture
def fake_smtp(monkeypatch) -> list:
    monkeypatch.setattr(FakeSMTP, "calls", [])
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    return FakeSMTP.calls


def test_credentials_are_never_sent_in_clear_to_a_remote_server(fake_smtp):
    sent = fake_smtp
    settings = mail.parse_smtp_url("smtp://u:p@mail.example?from=c@blog.example")
    data = {"recipient": "a@example.org", "subject": "s", "text_body": "t", "html_body": "<p>t</p>",
            "headers": "{}"}
    with pytest.raises(mail.MailConfigError):
        mail.send_mail(settings, data)
    assert sent == []
    mail.send_mail(mail.parse_smtp_url(f"smtp://u:p@127.0.0.1:{free_port()}?from=c@b.example"), data)
    assert [call if call == "login" else call[0] for call in sent] == ["login", "message"]


# --- one address field, one recipient (audit finding 3) ---------------------------------------

# RFC 2047 encoded-words that Python's mail library decodes into a second recipient, and other
# ways to put several mailboxes (or a name, a comment, a group) into one address field.
SMUGGLED = "=?utf-8?q?victim1=40evil.example=2c?=x@y.example"
NOT_ONE_ADDRESS = [
    SMUGGLED,
    "=?utf-8?b?dmljdGltQGV2aWwuZXhhbXBsZQ==?=@example.org",
    "a@example.org, b@example.org",
    "a@example.org,b@example.org",
    '"a@example.org,b"@example.org',
    "Bob <bob@example.org>",
    "bob(a comment)@example.org",
    "friends: a@example.org, b@example.org;",
]


@pytest.mark.parametrize("address", NOT_ONE_ADDRESS)
@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/comments", {"url": PAGE, "text": "tell me", "notify": True}),
    ("/api/v1/auth/signup", {"display_name": "Someone"}),
    ("/api/v1/auth/forgot", {}),
    ("/api/v1/auth/login", {"password": "whatever it is"}),
])
def test_an_address_field_holds_one_plain_address(client, app, path, body, address):
    response = client.post(path, json=body | {"email": address})
    assert response.status_code == 400, response.json
    assert set(response.json["error"]["fields"]) == {"email"}
    assert count(app, OutboxMessage) == 0


def _stored_mail(app, recipient: str, subject: str = "s", headers: str = "{}") -> None:
    """A row as an older version may have stored it, before addresses were parsed."""
    with app.app_context():
        text, body = mail.compose([("p", "hello")])
        db.session.add(OutboxMessage(kind="reply", recipient=recipient, subject=subject, text_body=text,
                                     html_body=body, headers=headers, created_at=clock.now(),
                                     next_attempt_at=clock.now(), attempts=0, last_error=""))
        db.session.commit()
        db.session.remove()


def test_a_mail_goes_to_its_one_recipient_only(app, smtp_server):
    _stored_mail(app, SMUGGLED)
    _stored_mail(app, "ann@example.org")
    assert send_outbox(app) == 1
    assert smtp_server.envelopes == [["ann@example.org"]]  # the envelope names exactly the row's address
    (message,) = smtp_server.messages
    assert [a.addr_spec for a in message["To"].addresses] == ["ann@example.org"]
    smuggled = next(row for row in outbox(app) if row.recipient == SMUGGLED)
    assert smuggled.failed_at is not None and smuggled.sent_at is None  # refused for good, not retried
    assert "victim1" not in smuggled.last_error and "evil" not in smuggled.last_error


def test_the_envelope_is_the_row_not_the_headers(fake_smtp):
    settings = mail.parse_smtp_url("smtp://127.0.0.1?from=c@blog.example")
    data = {"recipient": "ann@example.org", "subject": "s", "text_body": "t", "html_body": "<p>t</p>",
            "headers": '{"Cc": "eve@example.org"}'}
    mail.send_mail(settings, data)
    assert fake_smtp == [("message", "c@blog.example", ["ann@example.org"], "ann@example.org")]


# --- no address in mail errors (audit finding 8) -----------------------------------------------


def test_mail_errors_keep_no_recipient_address(app, smtp_server, caplog):
    _stored_mail(app, "ann.private@example.org")
    smtp_server.collector.refuse_recipients = True
    with caplog.at_level("DEBUG"):
        assert send_outbox(app) == 0
    (row,) = outbox(app)
    assert row.last_error and "550" in row.last_error
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("widget_server"))
    assert "giving up" in ours  # (the test mail server's own log does name it)
    for where in (row.last_error, ours):
        assert "ann.private" not in where
    assert row.failed_at is not None  # a 5xx answer is final: no day and a half of retries


def test_the_sites_own_address_may_be_local(app, smtp_server, post):
    app.config["ADMIN_EMAIL"] = "root@localhost"  # not a reader's address: only its shape is checked
    post("hello")
    assert send_outbox(app) == 1
    assert smtp_server.envelopes == [["root@localhost"]]


# --- headers as they travel: the bytes the mail server received (issue 12) ----------------------


def header_lines(raw: bytes) -> list[bytes]:
    """The raw header block, one entry per header, folded continuation lines kept as sent."""
    block = raw.split(b"\r\n\r\n", 1)[0]
    fields: list[bytes] = []
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def test_every_header_is_sent_as_mail_programs_read_it(app, smtp_server):
    # A token URL as long as real ones and longer than a 78-character line.
    unsubscribe = f"{account_support.PUBLIC_URL}/mail/unsubscribe?token={'T' * 40}.{'s1g' * 20}_-"
    subject = "New reply to your comment on \u201cMuscle spasms \u2014 causes, cures\u201d"
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    _stored_mail(app, "ann@example.org", subject=subject, headers=json.dumps(headers))
    assert send_outbox(app) == 1
    (raw,) = smtp_server.raw
    fields = header_lines(raw)
    for field in fields:
        assert field.isascii() and all(len(line) <= 998 for line in field.split(b"\r\n")), field

    # RFC 2369 / 8058: one-click unsubscribe only works when the URL is there verbatim, not
    # RFC 2047-encoded (=?utf-8?q?=3Chttps...) and not broken across lines.
    assert f"List-Unsubscribe: <{unsubscribe}>".encode() in fields
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in fields
    assert not [f for f in fields if b"=?" in f and not f.startswith(b"Subject:")]
    assert b"From: Comments <comments@blog.example>" in fields
    assert b"To: ann@example.org" in fields
    assert b"Auto-Submitted: auto-generated" in fields

    # Non-ASCII in the subject: RFC 2047 encoded-words that decode to exactly the subject.
    (subject_field,) = [f for f in fields if f.startswith(b"Subject: ")]
    assert b"=?utf-8?" in subject_field.lower()
    unfolded = subject_field[len(b"Subject: "):].decode().replace("\r\n", "")
    assert str(email.header.make_header(email.header.decode_header(unfolded))) == subject


def test_a_header_that_cannot_be_sent_verbatim_is_still_sent():
    settings = mail.parse_smtp_url("smtp://127.0.0.1?from=c@blog.example")
    url = "<https://kommentare.b\u00fccher.example/mail/unsubscribe?token=t>"
    message = mail.build_message(settings, {
        "recipient": "ann@example.org", "subject": "s", "text_body": "t", "html_body": "<p>t</p>",
        "headers": json.dumps({"List-Unsubscribe": url})})
    raw = message.as_bytes()
    assert raw.isascii() and b"List-Unsubscribe: =?utf-8?" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == url
