"""Every table: threads per page, comments, likes, admin tokens, bans, audit, reader accounts,
reply subscriptions, the mail outbox and webhook deliveries."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
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
# Search structures the migrations keep beside the models (Alembic's comparison leaves them
# alone, migrations/env.py): SQLite's FTS5 table (and its shadow tables, same prefix) and
# PostgreSQL's trigram indexes. moderation/search.py queries them.
SEARCH_TABLE = "comments_search"
TRIGRAM_INDEXES = {"ix_comments_text_trgm": "text", "ix_comments_author_trgm": "author",
                   "ix_comments_email_trgm": "email"}
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


# The site every server has (sites/): its origins are WIDGET_ALLOWED_ORIGINS and the server's own,
# its settings the WIDGET_* values. A server that never adds a site has only this one.
DEFAULT_SITE = "default"


class Site(db.Model):
    """One site served by this server (sites/, docs/sites.md): its origins and the settings it
    overrides. What a site does not override is the server's ``WIDGET_*`` value."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    origins: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of normalized origins
    settings: Mapped[str] = mapped_column(Text, default="{}")  # JSON: lower-case key -> value as written
    # Bumped on every change: every instance compares (count, sum of versions, newest update).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Thread(db.Model):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # The site the page's origin belongs to. NULL (a database not made by the migrations, or rows
    # written by an older release) counts as the default site. No foreign key: a site is removed
    # only once it has no threads (sites.service.remove), and adding it needs no table rebuild.
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)
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
        # Every list is newest first and pages on (created_at, id) as a row comparison, so each
        # filter has an index ending in (created_at, id): a page costs what it returns
        # (docs/performance.md, "At scale"). The thread's feed and counts use the first.
        Index("ix_comments_thread_state", "thread_id", "state", "created_at", "id"),
        Index("ix_comments_thread_created", "thread_id", "created_at", "id"),
        Index("ix_comments_state_created", "state", "created_at", "id"),
        Index("ix_comments_created", "created_at", "id"),
        # "Has this address a published comment?" (moderation=first): one probe, on both columns
        # so that no planner prefers walking every published comment.
        Index("ix_comments_email_key", "email_key", "state"),
        # A large thread's comments that changed since the tree was built (comments/trees.py),
        # read from the index alone.
        Index("ix_comments_thread_tree", "thread_id", "number", "id", "parent_id", "revision"),
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
    # The address lower-cased, computed by the database (never written by the code): what
    # moderation=first and the duplicate check look addresses up by, through its index. A
    # generated column rather than an index on lower(email), which SQLite cannot reflect.
    email_key: Mapped[str | None] = mapped_column(String(254), Computed("lower(email)"))
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
    # A digest of the source record it was last written from: a later import of the same source
    # updates the comment only when the source changed (not when a moderator here did).
    import_hash: Mapped[str | None] = mapped_column(String(32))
    # The reader account that posted it (shown with author.verified); null for anonymous posts.
    # No ON DELETE action: deleting an account unlinks its comments first (accounts.delete_account).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # How the account proved itself when it posted ("via Mastodon, @ann@example.social");
    # None for a password sign-in. Public, so never an e-mail address.
    verified_via: Mapped[str | None] = mapped_column(String(200))
    # Moved on by a trigger at every update of the row (never written by the code): what tells
    # the tree cache which comments of a large thread changed (comments/trees.py, migration scale_3).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Issue 19: a keyed hash of the Idempotency-Key the widget sent with the post, so a post sent
    # again (the connection dropped before the answer came) is answered, not stored twice.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    thread: Mapped[Thread] = relationship(back_populates="comments", lazy="joined")


class CommentCount(db.Model):
    """Changes to the number of comments per UTC day of creation and state, one row per change.

    Written only by database triggers (migrations scale_1, stats_2) on every insert, state
    change, delete and move to another thread of a comment, and on every change of a thread's
    site, whichever code path made it; never by the application. Rows are only ever inserted
    (no row lock for concurrent posts to wait on), and ``moderation.stats`` folds the past days
    into one row per day, state and site when it reads them.
    """

    __tablename__ = "comment_counts"
    __table_args__ = (Index("ix_comment_counts_day_state", "day", "state"),
                      # One site's days and totals, from the index alone (moderation.stats).
                      Index("ix_comment_counts_site_day", "site_id", "day", "state", "n"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, UTC
    state: Mapped[str] = mapped_column(String(16))
    n: Mapped[int] = mapped_column(Integer)
    # The site of the comment's thread (threads.site_id as it was: NULL is the default site's).
    # Always written; the default -1 is refused by a trigger: only code older than migration
    # stats_2 leaves it out, and its fold would merge the sites (see that migration).
    site_id: Mapped[int | None] = mapped_column(Integer, server_default="-1")


class Like(db.Model):
    __tablename__ = "likes"
    __table_args__ = (UniqueConstraint("comment_id", "voter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Reaction(db.Model):
    """One reader's emoji reaction (issue 19) to a page (comment_id null) or to a comment.

    The reader is ``voter_hash``, as for likes; one of each emoji per reader and target, held by
    the two partial unique indexes. The thumbs-up on a comment is the older like (``likes`` and
    ``Comment.likes``, which imported counts live in): it is never stored here.
    """

    __tablename__ = "reactions"
    __table_args__ = (
        Index("ux_reactions_comment", "comment_id", "emoji", "voter_hash", unique=True,
              sqlite_where=text("comment_id IS NOT NULL"), postgresql_where=text("comment_id IS NOT NULL")),
        Index("ux_reactions_page", "thread_id", "emoji", "voter_hash", unique=True,
              sqlite_where=text("comment_id IS NULL"), postgresql_where=text("comment_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(16))
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
    # NULL: a global token (every site, as before sites). Else the one site it acts for, as
    # ``role`` ("owner" or "moderator"; NULL for a global token).
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)
    role: Mapped[str | None] = mapped_column(String(16))


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
    # A shadow ban takes the poster's comments as if nothing happened: they are kept as spam and
    # shown as published to their author only (comments/screening.py).
    shadow: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # NULL: a ban on every site; else on that site only.
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)


class SpentChallenge(db.Model):
    """A proof-of-work challenge already used for a post (comments/challenge.py): kept until it
    would have expired anyway, so a solution is accepted once, whichever instance sees it."""

    __tablename__ = "spent_challenges"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)  # the public SHA-256 hex
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Report(db.Model):
    """A reader's report of a comment (comments/reports.py): one per reader and comment."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    # A keyed hash of the reader: their account, else their canonical address (IPv6 by /64).
    reporter: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # spam, abusive, off_topic, illegal
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class FilterToken(db.Model):
    """The learning filter's counts (comments/learning.py): in how many comments the moderators
    marked as spam, and in how many they published, a feature occurs. One shared table, so every
    instance scores with what any moderator taught."""

    __tablename__ = "filter_tokens"

    token: Mapped[str] = mapped_column(String(80), primary_key=True)
    spam: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ham: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FilterLabel(db.Model):
    """What the filter learned a comment as, and from which features: a changed decision
    (spam, then restored) unlearns exactly what it learned."""

    __tablename__ = "filter_labels"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(8))  # "spam" or "ham"
    tokens: Mapped[str] = mapped_column(Text, default="")  # the features, one per line


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the site acted on; NULL: none/global


# --- reader accounts, reply notifications, the outbox and webhooks ---------------------
# Nothing here stores a usable secret: session, refresh and e-mail link tokens are kept as
# SHA-256 hashes, passwords as argon2 hashes.


class User(db.Model):
    """A reader account. A row exists only once its e-mail address is confirmed."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; None for an account that signs in only through a provider or the
    # host site and was given no (verified, free) address.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # Two keys under which names that look alike to a reader are equal (names.py): the
    # confusable skeleton of the case-folded name, and of the name as written.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    # Nullable only because SQLite cannot add a NOT NULL column in place; always set.
    name_skeleton: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: no password (identities only)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lang: Mapped[str | None] = mapped_column(String(16))  # the widget's language at sign-up: its mails'
    # Not a column: the "via ..." of the session a request signed in with (identity.current_session).
    signed_in_via = None


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
    # The public "via ..." of the identity this session signed in with (None: the password).
    via: Mapped[str | None] = mapped_column(String(200))


class Identity(db.Model):
    """A way into an account besides its password: an OpenID Connect or OAuth2 provider's
    account, or the host site's own login (provider ``sso``). One per provider account."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_identities_provider_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))  # a WIDGET_OIDC_PROVIDERS name, or "sso"
    subject: Mapped[str] = mapped_column(String(300))  # the provider's stable id (Mastodon: instance/id)
    handle: Mapped[str | None] = mapped_column(String(200))  # public: "@ann@example.social", "@ann"
    email: Mapped[str | None] = mapped_column(String(254))  # as the provider gave it (never shown)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFlow(db.Model):
    """One provider sign-in under way, kept here and not in a cookie: found by the hash of its
    ``state`` (or, before it starts, of a link grant; after, of a confirmation), used once."""

    __tablename__ = "sign_in_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(16))  # "link" (a grant), "state", "confirm"
    provider: Mapped[str] = mapped_column(String(64))
    instance: Mapped[str | None] = mapped_column(String(300))  # Mastodon: the instance's base URL
    origin: Mapped[str] = mapped_column(String(300), default="")  # where the result is posted
    nonce: Mapped[str] = mapped_column(String(100), default="")
    code_verifier: Mapped[str] = mapped_column(String(200), default="")  # PKCE
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # linking
    payload: Mapped[str] = mapped_column(Text, default="{}")  # "confirm": the identity to link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProviderClient(db.Model):
    """This server's registration with one Mastodon instance (made on first use, RFC 7591-style
    through its /api/v1/apps). The secret must be usable, so it is stored as given."""

    __tablename__ = "provider_clients"
    __table_args__ = (UniqueConstraint("provider", "instance", name="uq_provider_clients_instance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    instance: Mapped[str] = mapped_column(String(300))
    # The redirect URI registered with it: a new WIDGET_PUBLIC_URL registers again.
    redirect_uri: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


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
    lang: Mapped[str | None] = mapped_column(String(16))  # the reader's widget language: the mails'


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
    # Whose webhook it is: signed with that site's secret when sent (NULL: the default site's).
    site_id: Mapped[int | None] = mapped_column(Integer)


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
