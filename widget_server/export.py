"""Moving out: ``widget-server export FILE`` writes everything needed to rebuild the service.

One JSON document (``dataset.FORMAT``, version 2): a header, then one list per section of
``dataset.SECTIONS`` (threads, accounts, comments in every state, likes, reply subscriptions,
bans, admin token hashes, the audit log, mail and webhooks still to be sent), each row with
every column of its table by name, in id order. ``widget-server import json FILE`` reads it
back (``importers.restore``); on an empty server the export taken afterwards is the same
document but for ``exported_at``.

The header names the secret that keyed the hashes (``key_fingerprint``, a digest that does not
reveal it). Secrets proper (password hashes, edit token hashes and the instance secret itself)
are written only with ``with_secrets``. Never in it: IP addresses, sessions, e-mail link tokens.

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
from sqlalchemy import func, select

from . import clock
from .dataset import FORMAT, SECTIONS, VERSION, Section, encode
from .extensions import db
from .security import key_fingerprint

BATCH = 1000


def _rows(section: Section, with_secrets: bool):
    names = section.columns(with_secrets)
    table = section.table
    query = select(*(table.c[n] for n in names)).order_by(table.c.id)
    if section.where() is not None:
        query = query.where(section.where())
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        yield {name: encode(value) for name, value in zip(names, row, strict=True)}


def total_rows(with_secrets: bool = False) -> int:
    """How many rows an export will write (for the progress bar)."""
    total = 0
    for section in SECTIONS:
        query = select(func.count()).select_from(section.table)
        if section.where() is not None:
            query = query.where(section.where())
        total += db.session.execute(query).scalar() or 0
    return total


def header(with_secrets: bool) -> dict:
    secret = current_app.config["SECRET_KEY"]
    head = {"format": FORMAT, "version": VERSION, "exported_at": clock.now().isoformat(),
            "key_fingerprint": key_fingerprint(secret), "with_secrets": with_secrets}
    if with_secrets:
        head["secret_key"] = secret
    return head


def write(out: TextIO, *, with_secrets: bool = False, bar=None) -> dict[str, int]:
    """Write the export to ``out``; returns how many rows each section holds."""
    counts = {section.name: 0 for section in SECTIONS}
    out.write(json.dumps(header(with_secrets), ensure_ascii=False)[:-1])
    for section in SECTIONS:
        out.write(f',\n"{section.name}": [')
        for index, row in enumerate(_rows(section, with_secrets)):
            out.write(("\n" if index == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
            counts[section.name] += 1
            if bar is not None:
                bar.update(1)
        out.write("\n]")
    out.write("\n}\n")
    return counts


def export_to(path: str, *, with_secrets: bool = False, bar=None) -> dict[str, int]:
    if path == "-":
        return write(sys.stdout, with_secrets=with_secrets, bar=bar)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".export-", suffix=".json", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            counts = write(out, with_secrets=with_secrets, bar=bar)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return counts
