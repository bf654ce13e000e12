"""Moving out: ``widget-server export FILE`` writes everything needed to rebuild the service.

One JSON document (``dataset.FORMAT``, version 2): a header, then one list per section of
``dataset.SECTIONS`` (the sites, threads, accounts, comments in every state, likes, reply subscriptions,
bans, admin token hashes, the audit log, mail and webhooks still to be sent), each row with
every column of its table by name, in id order. ``widget-server import json FILE`` reads it
back (``importers.restore``); on an empty server the export taken afterwards is the same
document but for ``exported_at``.

The header names the secret that keyed the hashes (``key_fingerprint``, a digest that does not
reveal it). Secrets proper (password hashes, edit token hashes and the instance secret itself)
and the sites' webhook and SSO secrets are written only with ``with_secrets`` (without, a site's
secret keys that are set are written as ""). Never in it: IP addresses, sessions, e-mail link tokens.

Rows are streamed from the database and written one by one, to a temporary file next to FILE
that replaces FILE only when complete (mode 0600: the file holds readers' addresses).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import TextIO

from flask import current_app
from sqlalchemy import false, func, select

from . import clock, sites
from .dataset import FORMAT, SECTIONS, VERSION, Section, encode
from .extensions import db
from .security import key_fingerprint
from .sites import service as sites_service

BATCH = 1000


def in_site(section: Section, site_id: int | None):
    """The rows of ``section`` that belong to one site (``export FILE --site NAME``): its threads,
    their comments and what hangs on them, the accounts that wrote them, the site itself (its
    origins and settings) and its own tokens, bans, audit entries and webhooks. Mail waiting to
    be sent is not a site's."""
    tables = db.metadata.tables
    threads = tables["threads"]
    comments = tables["comments"]
    site_threads = select(threads.c.id).where(sites_service.in_site(site_id, threads.c.site_id))
    site_comments = select(comments.c.id).where(comments.c.thread_id.in_(site_threads))
    writers = select(comments.c.user_id).where(comments.c.thread_id.in_(site_threads),
                                               comments.c.user_id.is_not(None))
    table = section.table
    by_name = {
        "threads": lambda: sites_service.in_site(site_id, table.c.site_id),
        "comments": lambda: table.c.thread_id.in_(site_threads),
        "users": lambda: table.c.id.in_(writers),
        "identities": lambda: table.c.user_id.in_(writers),
        "sites": lambda: table.c.id == site_id if site_id is not None else false(),
        "outbox": lambda: false(),
    }
    if section.name in by_name:
        return by_name[section.name]()
    if "comment_id" in table.c:  # likes, reports, subscriptions
        return table.c.comment_id.in_(site_comments)
    return table.c.site_id == site_id  # tokens, bans, audit, webhooks: the site's own (not global)


def _rows(section: Section, with_secrets: bool, site_id: int | None = None, one_site: bool = False):
    names = section.columns(with_secrets)
    table = section.table
    query = select(*(table.c[n] for n in names)).order_by(table.c.id)
    if section.where() is not None:
        query = query.where(section.where())
    if one_site:
        query = query.where(in_site(section, site_id))
    for values in db.session.execute(query.execution_options(yield_per=BATCH)):
        row = {name: encode(value) for name, value in zip(names, values, strict=True)}
        if not with_secrets:
            section.hide_secret_keys(row)
        yield row


def total_rows(with_secrets: bool = False) -> int:
    """How many rows an export will write (for the progress bar)."""
    total = 0
    for section in SECTIONS:
        query = select(func.count()).select_from(section.table)
        if section.where() is not None:
            query = query.where(section.where())
        total += db.session.execute(query).scalar() or 0
    return total


def header(with_secrets: bool, site: str | None = None) -> dict:
    secret = current_app.config["SECRET_KEY"]
    head = {"format": FORMAT, "version": VERSION, "exported_at": clock.now().isoformat(),
            "key_fingerprint": key_fingerprint(secret), "with_secrets": with_secrets}
    if site is not None:
        head["site"] = site  # one site's data only (export FILE --site NAME)
    if with_secrets:
        head["secret_key"] = secret
    return head


def write(out: TextIO, *, with_secrets: bool = False, bar=None, site: str | None = None) -> dict[str, int]:
    """Write the export (of one ``site`` only, if named) to ``out``; returns how many rows each
    section holds."""
    site_id = sites.by_name(site).id if site is not None else None  # type: ignore[union-attr]
    counts = {section.name: 0 for section in SECTIONS}
    out.write(json.dumps(header(with_secrets, site), ensure_ascii=False)[:-1])
    for section in SECTIONS:
        out.write(f',\n"{section.name}": [')
        for index, row in enumerate(_rows(section, with_secrets, site_id, site is not None)):
            out.write(("\n" if index == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
            counts[section.name] += 1
            if bar is not None:
                bar.update(1)
        out.write("\n]")
    out.write("\n}\n")
    return counts


def export_to(path: str, *, with_secrets: bool = False, bar=None, site: str | None = None) -> dict[str, int]:
    if path == "-":
        return write(sys.stdout, with_secrets=with_secrets, bar=bar, site=site)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".export-", suffix=".json", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            counts = write(out, with_secrets=with_secrets, bar=bar, site=site)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return counts
