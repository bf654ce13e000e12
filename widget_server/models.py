"""The data model: threads per page, comments, likes, admin tokens, bans, audit."""
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


def utcnow() -> datetime:
    return clock.now()


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminToken(db.Model):
    __tablename__ = "admin_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Ban(db.Model):
    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "ip" (an ip_hash) or "email"
    value: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON


from . import account_models  # noqa: E402,F401  (accounts, outbox, webhooks: same metadata)
