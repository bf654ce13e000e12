"""Every table: threads per page, comments, likes, admin tokens, bans, audit, reader accounts,
reply subscriptions, the mail outbox and webhook deliveries."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .extensions import db

# Comment states. Only PUBLISHED is shown to readers; DELETED rows are kept as
# tombstones while they still have visible replies; SPAM is kept for the record.
PUBLISHED = "published"
PENDING = "pending"
DELETED = "deleted"
SPAM = "spam"
STATES = (PUBLISHED, PENDING, DELETED, SPAM)
# Replies nest at most this deep: past it, a reply joins its parent's siblings.
MAX_DEPTH = 30


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always read back timezone-aware.

    SQLite has no time zone type and hands back naive values; PostgreSQL keeps
    ``timestamptz``. This makes both look the same to the code.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Thread(db.Model):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Highest comment number handed out; bumped atomically for each new comment.
    last_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped on every change to the thread: the read cache and ETags key on it.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    comments: Mapped[list[Comment]] = relationship(back_populates="thread", lazy="raise")


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("thread_id", "number"),
        Index("ix_comments_thread_state", "thread_id", "state"),
        Index("ix_comments_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # Nesting level (0 for top-level); capped so a reply chain cannot grow
    # deeper than readers (and JSON encoders) can follow.
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    author: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    website: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=PUBLISHED)
    # Why the anti-spam rules or the moderation mode held it (shown on /admin).
    held_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Keyed hash of the poster's address (never the address itself).
    ip_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    # SHA-256 of the edit token handed to the author once.
    edit_token_hash: Mapped[str | None] = mapped_column(String(64))
    # Where an imported comment came from ("disqus:123"), so a second import
    # of the same file creates no duplicates.
    import_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The reader account that posted it (shown with author.verified); null for anonymous posts.
    # No ON DELETE action: deleting an account unlinks its comments first (accounts.delete_account).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    thread: Mapped[Thread] = relationship(back_populates="comments", lazy="joined")


class Like(db.Model):
    __tablename__ = "likes"
    __table_args__ = (UniqueConstraint("comment_id", "voter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class AdminToken(db.Model):
    __tablename__ = "admin_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ban(db.Model):
    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "ip" (an ip_hash) or "email"
    value: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON


# --- reader accounts, reply notifications, the outbox and webhooks ---------------------
# Nothing here stores a usable secret: session, refresh and e-mail link tokens are kept as
# SHA-256 hashes, passwords as argon2 hashes.


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountSession(db.Model):
    """A signed-in reader: a short-lived bearer token plus a rotating refresh token."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class _Deliverable:
    """Columns shared by everything the outbox sender delivers with retries."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When the sender may try next; while one sender works on a row this is
    # pushed into the future (a lease), so two senders never take the same row.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
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


class ThreadChange(db.Model):
    """One row per thread version (delivery/feed.py): what changed, for the other instances'
    caches and for open event streams resuming with Last-Event-ID. Written in the transaction
    that bumps the version, so a row exists exactly when its change was committed."""

    __tablename__ = "thread_changes"
    __table_args__ = (UniqueConstraint("thread_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the log outlives nothing it needs
    url: Mapped[str] = mapped_column(String(2048))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="")  # comment | thread | "" (cache only)
    change: Mapped[str] = mapped_column(String(16), default="")
    data: Mapped[str] = mapped_column(Text, default="")  # the event's JSON, as streams send it
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
