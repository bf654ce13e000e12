"""Tables for reader accounts, reply notifications, the mail outbox and webhooks.

Imported at the end of ``models.py`` so that every user of the models (the app,
Alembic, the tests) sees these tables too. Nothing here stores a usable secret:
session, refresh and e-mail link tokens are kept as SHA-256 hashes, passwords
as argon2 hashes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models import UTCDateTime, utcnow


class User(db.Model):
    """A reader account. A row exists only once its e-mail address is confirmed."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(100))
    # Two keys under which names that look alike to a reader are equal (names.py): the
    # confusable skeleton of the case-folded name, and of the name as written.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # Nullable only because SQLite cannot add a NOT NULL column in place; always set.
    name_skeleton: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountSession(db.Model):
    """A signed-in reader: a short-lived bearer token plus a rotating refresh token."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# EmailToken purposes.
SIGNUP = "signup"
RESET = "reset"


class EmailToken(db.Model):
    """A single-use, expiring link sent by mail (sign-up confirmation, password reset).

    A sign-up keeps the wanted display name in ``payload`` until its link is used:
    no account (and no reserved name) exists before the address is proven, and the
    password is chosen on the link's page. A reset keeps a fingerprint of the password
    hash it may replace, so it dies when the password changes.
    """

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(db.Model):
    """Reply notifications for one comment, to one address (opt-in, each one confirmed on its own)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("comment_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _Deliverable:
    """Columns shared by everything the outbox sender delivers with retries."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the sender may try next; while one sender works on a row this is
    # pushed into the future (a lease), so two senders never take the same row.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gave up


class OutboxMessage(_Deliverable, db.Model):
    """One e-mail, fully composed, waiting to be sent (committed with what caused it)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),
                      Index("ix_outbox_recipient_created", "recipient", "created_at"))  # per-address caps

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # what the mail is about: "reply", "signup", ...
    recipient: Mapped[str] = mapped_column(String(254))  # empty for a mail that was not to be sent
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text, default="{}")  # JSON: extra headers


class WebhookDelivery(_Deliverable, db.Model):
    """One event for one configured URL; signed when sent, so retries carry a fresh timestamp."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(32), unique=True)  # X-Widget-Delivery
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON bytes that are signed and sent
