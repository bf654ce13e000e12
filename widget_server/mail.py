"""Mail: composing (reader text always escaped), the outbox, and the sender.

Nothing is ever sent on the request path. A request only adds fully composed
``OutboxMessage`` rows (and ``WebhookDelivery`` rows, see webhooks.py) to the
session, so they are committed in the same transaction as the comment or
account change that caused them: no mail is lost across a restart and a slow
or absent mail server never slows posting. A sender (``process_due``) takes due
rows, delivers them, and retries failures with exponential backoff. It runs in
``widget-server worker`` and, unless ``WIDGET_OUTBOX_THREAD=false``, in a
background thread of each app process (started on the first request); both may
run at once: a row is leased before it is sent, so it is sent once.
"""
from __future__ import annotations

import html
import json
import logging
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from ipaddress import ip_address
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import func, select, update

from .account_models import OutboxMessage, WebhookDelivery
from .extensions import db
from .models import utcnow
from .validation import one_mailbox

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; doubled after every failure
BACKOFF_CAP = 6 * 3600
MAX_ATTEMPTS = 12  # about a day and a half of retries, then the row is marked failed
LEASE = timedelta(minutes=5)  # a sender that died mid-send frees its row after this
SMTP_TIMEOUT = 20
BATCH = 50


class MailConfigError(ValueError):
    """WIDGET_SMTP_URL cannot be used."""


class Undeliverable(ValueError):
    """This mail can never be delivered (a bad stored address, a 5xx answer): no retries."""

    permanent = True


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    sender: str


def parse_smtp_url(url: str) -> SMTPSettings:
    """``smtp://user:pass@host:port?from=addr`` (STARTTLS when offered) or ``smtps://`` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError("WIDGET_SMTP_URL must look like smtp://user:pass@host:587?from=addr "
                              "or smtps://user:pass@host:465?from=addr")
    implicit_tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit_tls else 587)
    except ValueError:
        raise MailConfigError("WIDGET_SMTP_URL has an invalid port") from None
    query = parse_qs(parts.query)
    sender = (query.get("from") or [""])[0].strip()
    if not sender:
        user = unquote(parts.username or "")
        sender = user if "@" in user else f"comments@{parts.hostname}"
    return SMTPSettings(
        host=parts.hostname, port=port, implicit_tls=implicit_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=sender,
    )


def smtp_settings(config) -> SMTPSettings | None:
    url = config.get("SMTP_URL")
    return parse_smtp_url(url) if url else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# --- composing -------------------------------------------------------------------------------

Block = tuple  # ("p", text) | ("quote", text) | ("link", label, url)


def compose(blocks: list[Block]) -> tuple[str, str]:
    """The text and HTML bodies of a mail. Every piece of text is escaped for HTML.

    Reader text (names, comment text, page titles) goes in as plain text only:
    the sanitized comment HTML is never used in mail.
    """
    text_parts: list[str] = []
    html_parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "p":
            text_parts.append(block[1])
            html_parts.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "quote":
            text_parts.append("\n".join("> " + line for line in block[1].splitlines()) or ">")
            quoted = html.escape(block[1]).replace("\n", "<br>\n")
            html_parts.append('<blockquote style="margin:0 0 1em;padding:0 1em;border-left:3px solid #ccc">'
                              f"{quoted}</blockquote>")
        elif kind == "link":
            label, url = block[1], block[2]
            text_parts.append(f"{label}:\n{url}")
            html_parts.append(f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>')
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown mail block {kind!r}")
    text = "\n\n".join(text_parts) + "\n"
    body = ('<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">\n'
            + "\n".join(html_parts) + "\n</body></html>\n")
    return text, body


CAP_WINDOWS = (("MAIL_PER_ADDRESS_HOUR", timedelta(hours=1), "an hour"),
               ("MAIL_PER_ADDRESS_DAY", timedelta(days=1), "a day"))


def _over_cap(recipient: str) -> str | None:
    """Why ``recipient`` may get no more mail now (WIDGET_MAIL_PER_ADDRESS_*), or None.

    Counts the rows queued for the address, sent or not. Always runs both counts, whatever
    the answer, so that a request path costs the same for every address."""
    config = current_app.config
    now = utcnow()
    reason = None
    for setting, window, label in CAP_WINDOWS:
        limit = config.get(setting) or 0
        queued = db.session.execute(
            select(func.count(OutboxMessage.id))
            .where(OutboxMessage.recipient == recipient, OutboxMessage.created_at > now - window)
        ).scalar_one()
        if limit and queued >= limit and reason is None:
            reason = f"not sent: already {queued} mails to this address in {label} (WIDGET_{setting})"
    return reason


def enqueue(recipient: str, kind: str, subject: str, blocks: list[Block],
            headers: dict[str, str] | None = None, *, send: bool = True,
            capped: bool = True) -> OutboxMessage:
    """Add a composed mail to the session; it is sent after the caller commits.

    ``capped`` (every reader's address; not the site's own) applies the per-address caps.
    A mail that is not to be sent (``send`` False, or over a cap) is still composed and
    stored, so the work is the same, but marked failed at once and stripped of its address,
    subject and text: an unsent mail keeps nothing of who it was for.
    """
    text, body = compose(blocks)
    reason = _over_cap(recipient) if capped else None
    if not send:
        reason = "not sent: the caller asked for no mail (no such account)"
    now = utcnow()
    message = OutboxMessage(kind=kind, recipient=recipient, subject=" ".join(subject.split())[:300],
                            text_body=text, html_body=body, headers=json.dumps(headers or {}),
                            created_at=now, next_attempt_at=now, attempts=0, last_error="")
    if reason is not None:
        message.recipient = message.subject = message.text_body = message.html_body = ""
        message.headers, message.failed_at, message.last_error = "{}", now, reason[:500]
        if send:
            log.info("%s mail not sent: %s", kind, reason)
    db.session.add(message)
    wake_after_request()
    return message


def wake_after_request() -> None:
    """Ask this process's sender thread to look at the outbox once the request is done."""
    if has_app_context():  # outside one (CLI), the worker's polling finds the rows
        g.widget_outbox_dirty = True


# --- sending ---------------------------------------------------------------------------------


def recipient_address(recipient: str) -> Address:
    """The stored recipient as one parsed mailbox, or Undeliverable (rows older than the
    address checks, or written by hand, may hold anything). Only the shape is checked here:
    WIDGET_ADMIN_EMAIL may well be ``root@localhost``."""
    try:
        return Address(addr_spec=one_mailbox(recipient))
    except (ValueError, IndexError, TypeError):
        raise Undeliverable("the stored recipient is not one plain e-mail address") from None


def build_message(settings: SMTPSettings, data: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(display_name="Comments", addr_spec=settings.sender)
    message["To"] = recipient_address(data["recipient"])  # a parsed Address, never a string to re-parse
    message["Subject"] = data["subject"]
    message["Date"] = formatdate(utcnow().timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in json.loads(data["headers"] or "{}").items():
        if name.lower() not in ("to", "cc", "bcc", "from", "sender", "reply-to"):  # only ours above
            message[name] = value
    message.set_content(data["text_body"])
    message.add_alternative(data["html_body"], subtype="html")
    return message


def send_mail(settings: SMTPSettings, data: dict) -> None:
    """Deliver one message or raise: the caller records the failure and retries later."""
    message = build_message(settings, data)
    context = ssl.create_default_context()
    if settings.implicit_tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=SMTP_TIMEOUT,
                                                context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
    with client:
        client.ehlo()
        if not settings.implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            encrypted = isinstance(client.sock, ssl.SSLSocket)
            if not encrypted and not _is_loopback(settings.host):
                raise MailConfigError("the SMTP server offers no TLS: refusing to send the password in clear")
            client.login(settings.username, settings.password or "")
        # The envelope names the one parsed recipient; headers never add another.
        recipient = message["To"].addresses[0].addr_spec
        try:
            client.send_message(message, from_addr=settings.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _text in exc.recipients.values()})
            if all(500 <= code < 600 for code in codes):
                raise Undeliverable(f"the mail server refused the recipient ({codes})") from None
            raise


def _mail_payload(row: OutboxMessage) -> dict:
    return {"recipient": row.recipient, "subject": row.subject, "text_body": row.text_body,
            "html_body": row.html_body, "headers": row.headers}


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 60 s, 2 min ... 6 h."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def _claim(model, row_id: int) -> bool:
    """Lease one due row to this sender; False if another sender took it first."""
    now = utcnow()
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.sent_at.is_(None), model.failed_at.is_(None),
               model.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=model.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


# Anything shaped like an e-mail address, with or without angle brackets or quotes.
_ADDRESS_RE = re.compile(r"[^\s<>()\[\]{},;:'\"]+@[^\s<>()\[\]{},;:'\"]+")


def error_text(error: Exception) -> str:
    """What is stored and logged of a failure: its kind and message, with no address in it
    (mail servers echo the recipient in their answers; audit finding 8)."""
    return _ADDRESS_RE.sub("<address>", f"{error.__class__.__name__}: {error}")[:500]


def _record(model, row_id: int, attempts: int, error: Exception | None) -> None:
    now = utcnow()
    if error is None:
        values = {"sent_at": now, "last_error": ""}
    else:
        message = error_text(error)
        values = {"last_error": message}
        if attempts >= MAX_ATTEMPTS or getattr(error, "permanent", False):
            values["failed_at"] = now
            log.error("giving up on %s %s after %d attempts: %s",
                      model.__tablename__, row_id, attempts, message)
        else:
            values["next_attempt_at"] = now + backoff(attempts)
            log.warning("%s %s failed (attempt %d), retrying later: %s",
                        model.__tablename__, row_id, attempts, message)
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


def _due(model) -> list:
    return list(db.session.execute(
        select(model)
        .where(model.sent_at.is_(None), model.failed_at.is_(None), model.next_attempt_at <= utcnow())
        .order_by(model.next_attempt_at, model.id)
        .limit(BATCH)
    ).scalars())


def process_due() -> int:
    """Deliver every due mail and webhook once; return how many were delivered.

    No database transaction stays open while a mail server or webhook
    receiver is being talked to.
    """
    from . import webhooks

    config = current_app.config
    senders = []
    settings = smtp_settings(config)
    if settings is not None:
        senders.append((OutboxMessage, _mail_payload, lambda data: send_mail(settings, data)))
    if config.get("WEBHOOK_SECRET"):
        senders.append((WebhookDelivery, webhooks.payload, webhooks.deliver))
    delivered = 0
    for model, payload, deliver in senders:
        rows = [(row.id, row.attempts, payload(row)) for row in _due(model)]
        db.session.commit()
        for row_id, attempts, data in rows:
            if not _claim(model, row_id):
                continue
            try:
                deliver(data)
            except Exception as exc:  # any failure: record it and retry with backoff
                _record(model, row_id, attempts + 1, exc)
            else:
                _record(model, row_id, attempts + 1, None)
                delivered += 1
    return delivered


class OutboxWorker:
    """Runs ``process_due`` in a loop: every ``interval`` seconds, or at once when woken."""

    def __init__(self, app: Flask, interval: float = 10.0):
        self.app = app
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> OutboxWorker:
        self._thread = threading.Thread(target=self.run, name="widget-outbox", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        with self.app.app_context():
            try:
                return process_due()
            except Exception:  # the database may be down: log, keep the loop alive
                log.exception("outbox sender failed")
                db.session.rollback()
                return 0
            finally:
                db.session.remove()

    def run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.interval)
            self._wake.clear()


def init_app(app: Flask) -> None:
    """Check the mail settings and, unless switched off, start a sender thread on the first request."""
    if app.config.get("SMTP_URL"):
        parse_smtp_url(app.config["SMTP_URL"])  # fail at start, not at the first mail
    if not app.config.get("OUTBOX_THREAD", True):
        return
    lock = threading.Lock()

    def _worker() -> OutboxWorker | None:
        worker = app.extensions.get("widget_outbox_worker")
        if worker is None and (app.config.get("SMTP_URL") or app.config.get("WEBHOOK_URLS")):
            with lock:
                worker = app.extensions.get("widget_outbox_worker")
                if worker is None:
                    worker = app.extensions["widget_outbox_worker"] = OutboxWorker(app).start()
        return worker

    @app.before_request
    def _start_sender():
        _worker()

    @app.after_request
    def _wake_sender(response):
        if g.get("widget_outbox_dirty"):
            worker = _worker()
            if worker is not None:
                worker.wake()
        return response
