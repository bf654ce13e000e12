"""What a complete export holds: every table of the schema, section by section, or a reason why not.

``export`` writes these sections and ``importers.restore`` reads them back, so the two can never
disagree about a table or a column. Every column of an exported table is written unless it is
named here as *derived* (rebuilt on restore) or *secret* (written only with ``--with-secrets``).
A table that is neither a section nor in ``LEFT_OUT`` fails tests/test_dataset.py, so a new
table cannot be forgotten silently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, and_

from .extensions import db
from .models import UTCDateTime
from .sites.settings import SECRET_KEYS

FORMAT = "widget-server-export"
VERSION = 2  # 1: threads and comments only (still read)


@dataclass(frozen=True)
class Section:
    name: str  # the key in the document and the table's name
    derived: tuple[str, ...] = ()  # rebuilt on restore (never trusted from a file)
    secret: tuple[str, ...] = ()  # only with --with-secrets; otherwise restored as "" or null
    # Secrets that are keys of a JSON object held in a text column (a site's settings): only with
    # --with-secrets; otherwise written as "" (the key stays, so a restore can say what to set).
    secret_keys: tuple[tuple[str, str], ...] = ()  # (column, key)
    undelivered_only: bool = False  # the outbox: only rows still to be sent

    @property
    def table(self) -> Table:
        return db.metadata.tables[self.name]

    def columns(self, with_secrets: bool) -> list[str]:
        skip = set(self.derived) | (set() if with_secrets else set(self.secret))
        return [c.name for c in self.table.columns if c.name not in skip]

    def hide_secret_keys(self, row: dict) -> None:
        """Blank the secret keys set in ``row``'s JSON columns (an export without secrets)."""
        for column, key in self.secret_keys:
            value = json.loads(row.get(column) or "{}")
            if value.get(key):
                value[key] = ""
                row[column] = json.dumps(value, sort_keys=True)  # as sites.service writes it

    def where(self):
        if not self.undelivered_only:
            return None
        table = self.table
        return and_(table.c.sent_at.is_(None), table.c.failed_at.is_(None))


# In the order a restore inserts them: a row's foreign keys point only at earlier sections.
SECTIONS = (
    # First: every other section's site_id (SITE_COLUMNS) names one of these, and a restore
    # translates it to this server's id of the same site. settings: the webhook and SSO keys
    # are secrets (blanked without --with-secrets: set them again with `widget-server site set`).
    Section("sites", secret_keys=tuple(("settings", key) for key in SECRET_KEYS)),
    # version: the read cache's key, set anew by a restore so no cached page outlives it.
    Section("threads", derived=("version",)),
    Section("users", secret=("password_hash",)),
    # A reader's ways in through a provider or the host site's login: kept, so a restored account
    # signs in as before (issue 18).
    Section("identities"),
    # html: rendered again from the Markdown source with the one sanitizer (an edited file cannot
    # carry HTML past it); email_key: the database computes it (a generated column); revision:
    # moved on by a trigger, only the tree cache reads it;
    # edit_token_hash: lets an author keep editing, so it is a secret.
    Section("comments", derived=("html", "email_key", "revision"), secret=("edit_token_hash",)),
    Section("likes"),
    # Issue 19: readers' emoji reactions to pages and comments (the 👍 on a comment is its like,
    # above); the reader is a keyed hash, like a like's.
    Section("reactions"),
    # Readers' reports (issue 14): the reporter is a keyed hash, like an address hash.
    Section("reports"),
    Section("subscriptions"),
    Section("bans"),
    Section("admin_tokens"),
    Section("audit_log"),
    Section("outbox", undelivered_only=True),
    Section("webhook_deliveries", undelivered_only=True),
)
BY_NAME = {s.name: s for s in SECTIONS}

# Tables deliberately not exported, and why (docs/migrating.md repeats this).
LEFT_OUT = {
    "account_sessions": "signed-in sessions: a restored server signs every reader out once",
    "email_tokens": "single-use sign-up and reset links that expire within hours; readers ask again",
    "alembic_version": "the schema's migration mark: the new server has its own",
    "comment_counts": "per-day counts for /admin's stats, kept by triggers as the comments are restored",
    "spent_challenges": "proof-of-work challenges already used, which expire within half an hour",
    "filter_tokens": "the learning filter's counts: `widget-server filter-train` learns them again "
                     "from the restored comments (spam as spam, published as not)",
    "filter_labels": "what the filter learned each comment as: rebuilt with the counts by filter-train",
    "thread_changes": "the change feed's log, from which open event streams resume: a restored "
                      "server starts its own from the restored threads",
    "sign_in_flows": "provider sign-ins under way, which expire within ten minutes",
    "provider_clients": "registrations with Mastodon instances: the new server registers again on "
                        "first use, under its own callback address",
}

# Columns that hold a site's id (no foreign key: see models.Thread.site_id). A restore translates
# each through the file's sites to this server's ids, and refuses a row naming a site the file
# does not have (tests/test_dataset.py: every column that names a site is listed here).
SITE_COLUMNS = ("site_id",)

# Columns whose values are keyed with the instance secret (security._keyed): they match new
# posts, likes and bans only under the secret that made them.
KEYED = ("comments.ip_hash", "comments.idempotency_hash", "likes.voter_hash", "reactions.voter_hash",
         "bans.value (kind ip)", "reports.reporter")


def encode(value):
    return value.isoformat() if isinstance(value, datetime) else value


def decoder(table: Table, name: str):
    """Turn a JSON value back into what the column takes (dates are ISO 8601 strings)."""
    column = table.columns[name]
    if isinstance(column.type, UTCDateTime):
        return lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v
    return lambda v: v
