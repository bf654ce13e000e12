"""Moving out: ``widget-server export FILE`` writes every thread and comment as JSON.

The file is what ``widget-server import json FILE`` reads back: threads
(URL, title, locked, creation time, last number handed out) and comments in
every state (published, pending, deleted tombstones, spam) with their ids,
parent ids, numbers, likes counts, times, authors, e-mails, websites, Markdown
source and import keys. The stored HTML is left out: import renders it again
from the source with the same sanitizer.

Never in it: admin tokens, edit tokens, IP addresses. ``ip_hash`` is kept: it
is a keyed hash (HMAC with the instance's secret), not an address; with the
same secret it keeps avatars and IP bans working after a restore, and without
it nobody can turn it back into an address.

Rows are streamed from the database and written one by one, to a temporary
file next to FILE that replaces FILE only when complete.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime
from typing import TextIO

from sqlalchemy import select

from . import clock
from .extensions import db
from .models import Comment, Thread

FORMAT = "widget-server-export"
VERSION = 1
THREAD_FIELDS = ("id", "url", "title", "locked", "created_at", "last_number")
COMMENT_FIELDS = ("id", "thread_id", "parent_id", "number", "state", "author", "email", "website", "text",
                  "created_at", "edited_at", "likes", "pinned", "ip_hash", "import_key")


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _rows(model, fields: tuple[str, ...], order):
    columns = [getattr(model, name) for name in fields]
    result = db.session.execute(select(*columns).order_by(*order).execution_options(yield_per=1000))
    for row in result:
        yield {name: _value(value) for name, value in zip(fields, row, strict=True)}


def write(out: TextIO) -> dict[str, int]:
    """Write the export to ``out``; returns how many threads and comments it holds."""
    counts = {"threads": 0, "comments": 0}
    header = {"format": FORMAT, "version": VERSION, "exported_at": clock.now().isoformat()}
    out.write(json.dumps(header, ensure_ascii=False)[:-1])
    for name, model, fields, order in (
        ("threads", Thread, THREAD_FIELDS, (Thread.id,)),
        ("comments", Comment, COMMENT_FIELDS, (Comment.thread_id, Comment.number, Comment.id)),
    ):
        out.write(f',\n"{name}": [')
        for index, row in enumerate(_rows(model, fields, order)):
            out.write(("\n" if index == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
            counts[name] += 1
        out.write("\n]")
    out.write("\n}\n")
    return counts


def export_to(path: str) -> dict[str, int]:
    if path == "-":
        return write(sys.stdout)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".export-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            counts = write(out)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return counts
