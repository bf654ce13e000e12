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

The sites come first (``_Sites``): the file's default site becomes this server's (its origins
and settings replaced), any other is the site of that name here if there is one, else a new
row (with the file's id when it is free). Every site id of every later row (``SITE_COLUMNS``)
is then translated to this server's; a row naming a site the file does not have fails the
whole restore, since a site's token, ban or webhook made global, or another site's, would
cross the line between sites (issue 17). A thread keeps the file's site too, translated:
that is where the exporting server had it (moved by `site set --origin` and `move`), whatever
this server's WIDGET_ALLOWED_ORIGINS say, and so where the site's own tokens look for it.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

import ijson
from flask import current_app
from sqlalchemy import func, insert, select, text, update

from .. import clock, sites
from ..comments.render import render
from ..config import store_secret_key
from ..dataset import BY_NAME, SECTIONS, SITE_COLUMNS, Section, decoder
from ..errors import APIError
from ..extensions import db
from ..models import DEFAULT_SITE
from ..security import key_fingerprint
from ..sites import service as sites_service
from ..sites import settings as site_settings
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


def _refuse(what: str) -> ImportFailed:
    return ImportFailed(f"the restore failed and nothing was written: {what}")


class _Sites:
    """The file's sites on this server, and every site id of the file translated to this
    server's. A file made before the sites were exported has none: its site id 1 is then the
    default site (the migrations give it that id on every server), any other is refused."""

    def __init__(self, summary: Summary, head: dict):
        self.summary = summary
        self.table = BY_NAME["sites"].table
        self.decode = {c.name: decoder(self.table, c.name) for c in self.table.columns}
        self.ids: dict[int, int] = {}  # the file's site id -> this server's
        self.names: set[str] = set()
        self.without_secrets = head.get("with_secrets") is not True
        self.blanked: dict[str, list[str]] = {}  # site name -> its secret keys the file left out
        self.closed = False  # a row of another section came: the sites are all in
        self.default_id: int | None = None

    @property
    def in_file(self) -> bool:
        return bool(self.ids)

    def add(self, raw: dict) -> None:
        name, file_id = raw.get("name"), raw["id"]
        where = f"site {file_id} ({name!r})"
        if self.closed:  # rows before it were read as naming no site of the file
            raise _refuse(f"{where} comes after other sections: the sites must come first, as "
                          "`widget-server export` writes them")
        if not isinstance(name, str) or not (name == DEFAULT_SITE or sites_service.NAME.match(name)):
            raise _refuse(f"{where} has no valid name")
        if file_id in self.ids or name in self.names:
            raise _refuse(f"{where} is in the file twice")
        try:
            origins = json.loads(raw.get("origins") or "[]")
            overrides = json.loads(raw.get("settings") or "{}")
            if not isinstance(origins, list) or sites_service.origins_of(origins) != origins:
                raise ValueError("its origins must be a list of scheme://host[:port]")
            if not isinstance(overrides, dict):
                raise ValueError("its settings must be an object")
        except (ValueError, APIError) as exc:
            raise _refuse(f"{where}: {exc}") from None
        for key, value in overrides.items():
            try:
                site_settings.parse(key, value)
            except site_settings.SettingError as exc:  # kept: the registry skips it, as it did there
                self.summary.note("a site setting that is not valid here is kept, but the server's value "
                                  "applies until it is set again (widget-server site set)", f"{name}: {exc}")
        row = {key: self.decode[key](raw[key]) for key in ("version", "created_at", "updated_at")
               if raw.get(key) is not None}
        row.update(name=name, origins=raw.get("origins") or "[]", settings=raw.get("settings") or "{}")
        table = self.table
        here = db.session.execute(select(table.c.id).where(table.c.name == name)).scalar()
        if here is not None:  # the default site (the migration made it), or one made before
            db.session.execute(update(table).where(table.c.id == here).values(**row))
        else:
            taken = db.session.execute(select(table.c.id).where(table.c.id == file_id)).first()
            # Given explicitly either way: PostgreSQL's sequence is moved past the file's ids only
            # at the end, so it could hand out one of them in between.
            row["id"] = file_id if not taken else db.session.execute(
                select(func.coalesce(func.max(table.c.id), 0) + 1)).scalar_one()
            db.session.execute(insert(table).values(**row))
            here = row["id"]
        self.ids[file_id] = here
        self.names.add(name)
        blanked = [key for key in site_settings.SECRET_KEYS if overrides.get(key) == ""]
        if blanked and self.without_secrets:
            self.blanked[name] = blanked
        self.summary.restored["sites"] += 1

    def close(self) -> None:
        """Once the file's sites are in: no origin belongs to two sites of this server."""
        if self.closed:
            return
        self.closed = True
        owner: dict[str, str] = {}
        for name, origins in db.session.execute(select(self.table.c.name, self.table.c.origins)):
            for origin in json.loads(origins or "[]"):
                if origin in owner:
                    raise _refuse(f"{origin} would belong to both site {owner[origin]!r} and site "
                                  f"{name!r} (change or remove the one made on this server first)")
                owner[origin] = name

    def translate(self, section: Section, raw: dict, column: str) -> int | None:
        """This server's id of the site a row's ``column`` names (None stays None: global, or
        the default site for a thread)."""
        value = raw.get(column)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if value in self.ids:
                return self.ids[value]
            if not self.in_file and value == 1:
                if self.default_id is None:
                    self.default_id = sites_service.default_row().id
                return self.default_id
        known = ", ".join(str(i) for i in sorted(self.ids)) or "none"
        why = ("the file holds no sites (an export made before sites were exported): export again "
               "with this release" if not self.in_file else "the file is incomplete or was edited")
        raise _refuse(f"{section.name} {raw.get('id')} names site {value!r}, which is not among the "
                      f"file's sites (ids: {known}); a site's row is never restored as global or "
                      f"as another site's. {why[0].upper()}{why[1:]}")

    def note_secrets(self) -> None:
        if not self.blanked:
            return
        which = "; ".join(f"{name}: {', '.join(sorted(keys))}" for name, keys in sorted(self.blanked.items()))
        self.summary.note("the export was made without --with-secrets, so these sites' secret settings "
                          "are empty (their host-site sign-in is off, their webhooks are not signed "
                          "with their key) until set again with `widget-server site set NAME "
                          "KEY=VALUE`: " + which)


class _Writer:
    def __init__(self, summary: Summary, with_secrets: bool, head: dict):
        self.summary = summary
        self.sites = _Sites(summary, head)
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
        if section.name == "sites":
            self.sites.add(raw)
            return
        self.sites.close()
        self.batch.append(self._row(section, raw))
        if len(self.batch) >= BATCH:
            self.flush()

    def _row(self, section: Section, raw: dict) -> dict:
        decode = self.decoders[section.name]
        row = {name: decode[name](raw[name]) for name in section.columns(True) if name in raw}
        for name in section.secret:
            row.setdefault(name, PLACEHOLDER.get(name))
        if section.name == "threads" and not self.sites.in_file:
            # An export made before the sites were: the page's site on this server.
            row["site_id"] = sites.for_url(str(row.get("url") or "")).id
        else:
            for name in SITE_COLUMNS:
                if name in section.table.c:
                    row[name] = self.sites.translate(section, row, name)
        if not self.keep_ids[section.name]:
            row.pop("id")
        if section.name == "threads":
            row["version"] = self.stamp
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
        self.sites.close()
        comments = BY_NAME["comments"].table
        for child, parent in self.late_parents:
            db.session.execute(update(comments).where(comments.c.id == child).values(parent_id=parent))
        if db.engine.dialect.name == "postgresql":
            for section in SECTIONS:
                if self.keep_ids[section.name]:
                    db.session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{section.name}', 'id'),"  # noqa: S608
                        f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {section.name}), false)"))
            if self.sites.in_file:  # sites keep the file's ids next to the default row
                db.session.execute(text("SELECT setval(pg_get_serial_sequence('sites', 'id'),"
                                        " (SELECT COALESCE(MAX(id), 0) + 1 FROM sites), false)"))


def records(fh: BinaryIO, path: str) -> Iterator[tuple[Section, object]]:
    for prefix, value in items(fh, path, {f"{s.name}.item" for s in SECTIONS}):
        yield BY_NAME[prefix.rsplit(".", 1)[0]], value


def restore(fh: BinaryIO, path: str, head: dict, summary: Summary, *, with_secrets: bool,
            dry_run: bool) -> Summary:
    """Restore the whole export into this (empty) server, in one transaction."""
    secret = check_secret(head, summary, with_secrets)
    writer = _Writer(summary, with_secrets, head)
    try:
        for section, raw in records(fh, path):
            writer.add(section, raw)
        writer.finish()
        writer.sites.note_secrets()
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
    finally:
        sites_service.changed()  # this process reads the sites again (restored, or as they were)
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

