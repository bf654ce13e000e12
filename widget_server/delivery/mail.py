"""Mail: the SMTP settings, composing (reader text always escaped), queueing and sending.

Nothing is sent on the request path: ``enqueue`` adds a fully composed
``OutboxMessage`` to the session, committed with the change that caused it;
the outbox (outbox.py) sends it with retries.
"""
from __future__ import annotations

import html
import json
import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email import policy as email_policy
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from ipaddress import ip_address
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..fields import one_mailbox
from ..models import OutboxMessage
from . import outbox

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 20


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
    now = clock.now()
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
    now = clock.now()
    message = OutboxMessage(kind=kind, recipient=recipient, subject=" ".join(subject.split())[:300],
                            text_body=text, html_body=body, headers=json.dumps(headers or {}),
                            created_at=now, next_attempt_at=now, attempts=0, last_error="")
    if reason is not None:
        message.recipient = message.subject = message.text_body = message.html_body = ""
        message.headers, message.failed_at, message.last_error = "{}", now, reason[:500]
        if send:
            log.info("%s mail not sent: %s", kind, reason)
    db.session.add(message)
    outbox.wake_after_commit()
    return message


# --- sending ---------------------------------------------------------------------------------


def recipient_address(recipient: str) -> Address:
    """The stored recipient as one parsed mailbox, or Undeliverable (rows older than the
    address checks, or written by hand, may hold anything). Only the shape is checked here:
    WIDGET_ADMIN_EMAIL may well be ``root@localhost``."""
    try:
        return Address(addr_spec=one_mailbox(recipient))
    except (ValueError, IndexError, TypeError):
        raise Undeliverable("the stored recipient is not one plain e-mail address") from None


class VerbatimHeader(UnstructuredHeader):
    """A header sent as written, on one line. List-Unsubscribe's ``<https://...>`` is read by mail
    programs only verbatim: the default folding turns a URL longer than a line into RFC 2047
    encoded-words (``=?utf-8?q?=3Chttps...``), and no mail program offers one-click unsubscribe
    then. RFC 5322 allows lines of 998 characters; our values are ASCII URLs well below that.
    One that is not (a non-ASCII WIDGET_PUBLIC_URL) is folded as before: the mail still goes."""

    max_length = 998

    def fold(self, *, policy):
        line = f"{self.name}: {self}"
        if not line.isascii() or len(line) > self.max_length:
            return super().fold(policy=policy)
        return line + policy.linesep


_HEADERS = HeaderRegistry()
for _name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
    _HEADERS.map_to_type(_name, VerbatimHeader)
# SMTP's CRLF line ends; an own header registry (clone() would share the default one's).
POLICY = email_policy.SMTP.clone(header_factory=_HEADERS)


def build_message(settings: SMTPSettings, data: dict) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = Address(display_name="Comments", addr_spec=settings.sender)
    message["To"] = recipient_address(data["recipient"])  # a parsed Address, never a string to re-parse
    message["Subject"] = data["subject"]
    message["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
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


def _payload(row: OutboxMessage) -> dict:
    return {"recipient": row.recipient, "subject": row.subject, "text_body": row.text_body,
            "html_body": row.html_body, "headers": row.headers}


def _deliver(config: Mapping[str, object], data: dict) -> None:
    send_mail(parse_smtp_url(str(config["SMTP_URL"])), data)


SENDER = outbox.Sender(OutboxMessage, _payload, _deliver, lambda config: bool(config.get("SMTP_URL")))


def check_settings(config: Mapping[str, object]) -> None:
    """Fail at start, not at the first mail."""
    if config.get("SMTP_URL"):
        parse_smtp_url(str(config["SMTP_URL"]))
