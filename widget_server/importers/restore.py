"""A complete export (version 2) into an empty server: every section, ids and all.

``widget-server import json FILE`` comes here when the file is a version 2 export and the
server has no threads, comments or accounts yet; the export taken afterwards is then the
same document (tests/importers/test_restore.py). Into a server that already has them, the
file's threads and comments are merged by the ordinary import instead (``json.read``) and
the other sections are left out, with a note.

The file is read once, as a stream (ijson), and written in batches in one transaction: a
failure anywhere leaves the database as it was. A table that already has rows (an admin
token created before the restore, say) gets the file's rows under new ids; nothing refers
to those. The thread versions (the read cache's key) are set from the clock, so no page
cached before the restore is served after it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import ijson
from flask import current_app
from sqlalchemy import insert, select, text, update

from .. import clock, sites
from ..comments.render import render
from ..config import store_secret_key
from ..dataset import BY_NAME, SECTIONS, Section, decoder
from ..extensions import db
from ..security import key_fingerprint
from .base import ImportFailed, Summary
from .jsonstream import items

BATCH = 500
HEADER = ("format", "version", "exported_at", "key_fingerprint", "with_secrets", "secret_key")
MUST_BE_EMPTY = ("threads", "comments", "users")
PLACEHOLDER = {"password_hash": ""}  # no password: the reader resets it by mail


def peek(path: str) -> dict:
    """The header of an export (the scalars before the first section), read from its start."""
    head: dict = {}
    try:
        with open(path, "rb") as fh:
            for prefix, event, value in ijson.parse(fh):
                if prefix == "" and event == "map_key" and value in BY_NAME:
                    break
                if prefix in HEADER and event in ("string", "number", "boolean", "null"):
                    head[prefix] = value
                if prefix == "" and event in ("start_array", "end_map"):
                    break
    except (ijson.JSONError, OSError, UnicodeError, ValueError):
        pass  # the reader that runs next says where the file is broken
    return head


def server_is_empty() -> bool:
    return not any(db.session.execute(select(BY_NAME[name].table.c.id).limit(1)).first()
                   for name in MUST_BE_EMPTY)


def check_secret(head: dict, summary: Summary, with_secrets: bool) -> str | None:
    """Note when the file's hashes were keyed with another secret; returns the secret to carry over."""
    there = head.get("key_fingerprint")
    here = key_fingerprint(current_app.config["SECRET_KEY"])
    if not there or there == here:
        return None
    carried = head.get("secret_key")
    if with_secrets and isinstance(carried, str) and key_fingerprint(carried) == there:
        return carried
    why = ("run the export with --with-secrets and this import with --with-secrets to carry the secret over"
           if not carried else "import with --with-secrets to carry the file's secret over")
    summary.note("the file's IP hashes, likes and IP bans were keyed with another instance secret, so "
                 "they will not match new posts here (avatars change too); " + why,
                 f"file {there}, this server {here}")
    return None


def carry_secret(secret: str, summary: Summary) -> None:
    """After the restore is committed: the instance takes the exported secret."""
    if store_secret_key(current_app.config["SECRET_KEY"], secret, current_app.instance_path):
        summary.note("the instance secret (the generated one in the instance folder) was replaced by "
                     "the exported one: restart every server process so that it is used")
    else:
        summary.note("the export carries another instance secret, but WIDGET_SECRET_KEY is set: set it "
                     "to the file's \"secret_key\" value and restart, or the hashes will not match")


class _Writer:
    def __init__(self, summary: Summary, with_secrets: bool):
        self.summary = summary
        self.keep_ids = {s.name: not db.session.execute(select(s.table.c.id).limit(1)).first()
                         for s in SECTIONS}
        self.stamp = int(clock.now().timestamp())  # the threads' version: newer than any cached one
        self.section: Section | None = None
        self.batch: list[dict] = []
        self.late_parents: list[tuple[int, int]] = []  # a reply listed before its parent (rare)
        self.decoders = {s.name: {c.name: decoder(s.table, c.name) for c in s.table.columns}
                         for s in SECTIONS}

    def add(self, section: Section, raw: object) -> None:
        if section is not self.section:
            self.flush()
            self.section = section
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            self.summary.skip(f"{section.name} entries without a numeric id")
            return
        self.batch.append(self._row(section, raw))
        if len(self.batch) >= BATCH:
            self.flush()

    def _row(self, section: Section, raw: dict) -> dict:
        decode = self.decoders[section.name]
        row = {name: decode[name](raw[name]) for name in section.columns(True) if name in raw}
        for name in section.secret:
            row.setdefault(name, PLACEHOLDER.get(name))
        if not self.keep_ids[section.name]:
            row.pop("id")
        if section.name == "threads":
            row["version"] = self.stamp
            # This server's sites, not the exporting one's ids: a thread is its page's site's.
            row["site_id"] = sites.for_url(str(row.get("url") or "")).id
        elif section.name == "comments":
            row["html"] = render(row["text"]) if row.get("text") else ""
            parent = row.get("parent_id")
            if isinstance(parent, int) and parent >= row["id"]:
                self.late_parents.append((row["id"], parent))
                row["parent_id"] = None
            self.summary.imported[str(row.get("state"))] += 1
        return row

    def flush(self) -> None:
        if not self.batch:
            return
        name = self.section.name
        db.session.execute(insert(self.section.table), self.batch)
        if name == "threads":
            self.summary.threads_new += len(self.batch)
        elif name != "comments":
            self.summary.restored[name] += len(self.batch)
        self.batch = []

    def finish(self) -> None:
        self.flush()
        comments = BY_NAME["comments"].table
        for child, parent in self.late_parents:
            db.session.execute(update(comments).where(comments.c.id == child).values(parent_id=parent))
        if db.engine.dialect.name == "postgresql":
            for section in SECTIONS:
                if self.keep_ids[section.name]:
                    db.session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{section.name}', 'id'),"  # noqa: S608
                        f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {section.name}), false)"))


def records(fh: BinaryIO, path: str) -> Iterator[tuple[Section, object]]:
    for prefix, value in items(fh, path, {f"{s.name}.item" for s in SECTIONS}):
        yield BY_NAME[prefix.rsplit(".", 1)[0]], value


def restore(fh: BinaryIO, path: str, head: dict, summary: Summary, *, with_secrets: bool,
            dry_run: bool) -> Summary:
    """Restore the whole export into this (empty) server, in one transaction."""
    secret = check_secret(head, summary, with_secrets)
    writer = _Writer(summary, with_secrets)
    try:
        for section, raw in records(fh, path):
            writer.add(section, raw)
        writer.finish()
        if dry_run:
            db.session.rollback()
            return summary
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        first_line = (str(exc).splitlines() or [""])[0][:300]
        raise ImportFailed(f"the restore failed and nothing was written: {exc.__class__.__name__}: "
                           f"{first_line}") from exc
    if secret is not None:
        carry_secret(secret, summary)
    summary.note("restored into an empty server: every section of the export, with its ids")
    return summary


def merge_note(summary: Summary) -> None:
    """A version 2 export into a server that has data: only threads and comments are merged."""
    left = ", ".join(s.name for s in SECTIONS if s.name not in ("threads", "comments"))
    summary.note(f"the export's threads and comments were merged (this server already has threads, "
                 f"comments or accounts, or --map-url was given); its other sections ({left}) are "
                 f"restored only into an empty server")

