"""The outbox: everything the service sends (mail, webhooks) is a row first, then delivered.

Nothing is ever sent on the request path. A request only adds rows to the
session, so they are committed in the same transaction as the comment or
account change that caused them: nothing is lost across a restart, and a slow
or absent receiver never slows a request. A sender (``process_due``) takes due
rows, delivers them, and retries failures with exponential backoff. It runs in
``widget-server worker`` and, unless ``WIDGET_OUTBOX_THREAD=false``, in a
background thread of each app process (started on the first request); both may
run at once: a row is leased before it is sent, so it is sent once.

The outbox knows no kind of message: mail and webhooks each register a
``Sender`` (``delivery.events.init_app`` does) that says which table holds its
rows, what of a row to take along outside the transaction, and how to deliver it.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from .. import clock
from ..extensions import db

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; doubled after every failure
BACKOFF_CAP = 6 * 3600
MAX_ATTEMPTS = 12  # about a day and a half of retries, then the row is marked failed
LEASE = timedelta(minutes=5)  # a sender that died mid-send frees its row after this
BATCH = 50
_DIRTY = "widget_outbox_dirty"


@dataclass(frozen=True)
class Sender:
    """One kind of deliverable: its table, what to read of a row, how to deliver, when it is on."""

    model: type
    payload: Callable[[object], dict]
    deliver: Callable[[Mapping[str, object], dict], None]  # raises on failure: retried later
    enabled: Callable[[Mapping[str, object]], bool]


def wake_after_commit() -> None:
    """Ask this process's sender to look at the outbox once the current request is answered."""
    db.session.info[_DIRTY] = True


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 60 s, 2 min ... 6 h."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def _claim(model, row_id: int) -> bool:
    """Lease one due row to this sender; False if another sender took it first."""
    now = clock.now()
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
    now = clock.now()
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
        .where(model.sent_at.is_(None), model.failed_at.is_(None), model.next_attempt_at <= clock.now())
        .order_by(model.next_attempt_at, model.id)
        .limit(BATCH)
    ).scalars())


def process_due() -> int:
    """Deliver every due row of every enabled sender once; return how many were delivered.

    No database transaction stays open while a mail server or webhook
    receiver is being talked to.
    """
    config = current_app.config
    delivered = 0
    for sender in current_app.extensions.get("widget_outbox_senders", ()):
        if not sender.enabled(config):
            continue
        model = sender.model
        rows = [(row.id, row.attempts, sender.payload(row)) for row in _due(model)]
        db.session.commit()
        for row_id, attempts, data in rows:
            if not _claim(model, row_id):
                continue
            try:
                sender.deliver(config, data)
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


def init_app(app: Flask, senders: list[Sender]) -> None:
    """Register the senders and, unless switched off, start a sender thread on the first request."""
    app.extensions["widget_outbox_senders"] = tuple(senders)
    if not app.config.get("OUTBOX_THREAD", True):
        return
    lock = threading.Lock()

    def _worker() -> OutboxWorker | None:
        worker = app.extensions.get("widget_outbox_worker")
        if worker is None and any(sender.enabled(app.config) for sender in senders):
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
        # registry.has(): no session is made just to ask (the read path uses none)
        if db.session.registry.has() and db.session.info.pop(_DIRTY, False):
            worker = _worker()
            if worker is not None:
                worker.wake()
        return response
