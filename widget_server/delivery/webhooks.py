"""Signed webhooks: ``comment.created``, ``comment.approved``, ``comment.deleted``.

``emit(event, comment)`` (called by ``events`` only) adds one ``WebhookDelivery``
per configured URL to the session (committed with the change that caused it);
the outbox posts them with retries and backoff. Each request carries

    X-Widget-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

signed at send time, so a retry hours later still passes a receiver's
freshness check. ``verify`` is the reference check (docs/accounts.md has a
standalone copy for receivers).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
import uuid
from collections.abc import Mapping
from urllib.error import HTTPError
from urllib.parse import urlsplit

from .. import clock, sites
from ..clock import iso
from ..config import ConfigError
from ..extensions import db
from ..models import Comment, WebhookDelivery
from ..urls import permalink
from . import outbox

CREATED = "comment.created"
APPROVED = "comment.approved"
DELETED = "comment.deleted"
EVENTS = (CREATED, APPROVED, DELETED)
SIGNATURE_HEADER = "X-Widget-Signature"
TIMEOUT = 10
TOLERANCE = 300  # seconds a receiver should accept between t= and its own clock


def comment_data(comment: Comment) -> dict:
    """What a webhook tells about a comment: public fields plus page, state and source text.

    Never the e-mail address, the IP hash or the edit token hash.
    """
    thread = comment.thread
    return {
        "id": comment.id, "parent_id": comment.parent_id, "number": comment.number,
        "state": comment.state, "url": thread.url, "title": thread.title,
        "link": permalink(thread.url, comment.number),
        "author": {"name": comment.author, "website": comment.website,
                   "verified": comment.user_id is not None},
        "text": comment.text, "html": comment.html,
        "created_at": iso(comment.created_at), "edited_at": iso(comment.edited_at),
    }


def emit(event: str, comment: Comment) -> None:
    """Queue ``event`` about ``comment`` for every webhook URL of its thread's site (in the
    caller's transaction)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    site = sites.for_thread(comment.thread)
    urls = site.config.get("WEBHOOK_URLS") or []
    if not urls:
        return
    db.session.flush()  # the comment needs its id
    data = comment_data(comment)
    for url in urls:
        delivery_id = uuid.uuid4().hex
        body = json.dumps({"id": delivery_id, "event": event, "created_at": iso(clock.now()),
                           "comment": data}, separators=(",", ":"), ensure_ascii=False)
        db.session.add(WebhookDelivery(delivery_id=delivery_id, event=event, url=url, body=body,
                                       created_at=clock.now(), next_attempt_at=clock.now(), attempts=0,
                                       last_error="", site_id=site.id))
    outbox.wake_after_commit()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE) -> bool:
    """True if ``header`` is a fresh, valid signature of ``body`` (what a receiver does)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


def _payload(row: WebhookDelivery) -> dict:
    return {"url": row.url, "event": row.event, "delivery_id": row.delivery_id, "body": row.body,
            "site_id": row.site_id}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is a failed delivery, not a silent GET elsewhere


_opener = urllib.request.build_opener(_NoRedirect)


def deliver(config: Mapping[str, object], data: dict) -> None:
    """POST one event; anything but a 2xx answer raises, and the outbox retries later."""
    body = data["body"].encode()
    timestamp = int(clock.now().timestamp())
    # The secret of the site the event is about, as it is now (a rotated secret signs retries).
    secret = str(sites.by_id(data.get("site_id")).config.get("WEBHOOK_SECRET") or config["WEBHOOK_SECRET"])
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in init_app
        data["url"], data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "widget-server-webhooks",
                 "X-Widget-Event": data["event"], "X-Widget-Delivery": data["delivery_id"],
                 SIGNATURE_HEADER: signature_header(secret, timestamp, body)})
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            response.read(65536)
            if not 200 <= response.status < 300:
                raise RuntimeError(f"receiver answered {response.status}")
    except HTTPError as exc:
        raise RuntimeError(f"receiver answered {exc.code}") from None


def _enabled(config: Mapping[str, object]) -> bool:
    """Whether any site (the default one: the server's settings) can sign webhooks."""
    return bool(config.get("WEBHOOK_SECRET")) or any(
        site.config.get("WEBHOOK_SECRET") for site in sites.current().by_name.values())


SENDER = outbox.Sender(WebhookDelivery, _payload, deliver, _enabled)


def check_settings(config: Mapping[str, object]) -> None:
    """Every webhook URL is http(s), and there is a secret to sign with."""
    urls = config.get("WEBHOOK_URLS") or []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"WIDGET_WEBHOOK_URLS: {url!r} is not an http(s) URL")
    if urls and not config.get("WEBHOOK_SECRET"):
        raise ConfigError("WIDGET_WEBHOOK_URLS is set but WIDGET_WEBHOOK_SECRET is not: "
                          "webhooks are always signed")
