"""Pass 2 of an import, the writing: threads, comments in batches, then the reply links.

Called by ``loader.run`` inside the import's one transaction.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, insert, select, text, update

from ..comments import threads as thread_service
from ..comments.render import render
from ..extensions import db
from ..models import DELETED, Comment, Thread
from .stage import BATCH, Options, Stage, batches, from_text
from .update import source_hash


def _source_threads(st: Stage, target: str) -> list[tuple]:
    return st.q("SELECT title, locked, created, last_number FROM threads WHERE target = ? ORDER BY key",
                (target,)).fetchall()


def _thread_for(target: str, sources: list[tuple], first_comment: datetime | None) -> tuple[Thread, bool]:
    title = next((s[0] for s in sources if s[0]), "")
    thread = thread_service.find(target)
    if thread is not None:
        if title and not thread.title:
            thread.title = title
        return thread, False
    thread = thread_service.get_or_create(target, title)
    created = [c for c in (from_text(s[2]) for s in sources) if c]
    thread.created_at = min(created) if created else (first_comment or thread.created_at)
    thread.locked = any(s[1] for s in sources)
    return thread, True


def write(st: Stage, options: Options, targets: list[str], bar=None) -> None:
    restore_ids = options.keep_numbers and not db.session.execute(select(func.count(Comment.id))).scalar()
    if restore_ids:
        taken = st.q("SELECT count(*) FROM comments WHERE status = 'new' AND orig_id IS NULL").fetchone()[0]
        restore_ids = taken == 0
    for target in targets:
        sources = _source_threads(st, target)
        first = st.q("SELECT MIN(created) FROM comments WHERE status = 'new' AND target = ?",
                     (target,)).fetchone()
        thread, new = _thread_for(target, sources, from_text(first[0]))
        db.session.flush()
        keep = options.keep_numbers and new and len(sources) == 1
        if keep:
            keep = not st.q("SELECT 1 FROM comments WHERE status = 'new' AND target = ? AND number IS NULL",
                            (target,)).fetchone()
        order = "number, seq" if keep else "created, seq"
        number = thread.last_number
        highest = max(number, sources[0][3] or 0) if keep else number
        last_sort: tuple = (-1, 0) if keep else ("", 0)
        while True:
            column = "number" if keep else "created"
            rows = st.q(
                "SELECT seq, key, created, number, orig_id, data, depth, deleted_thread,"  # noqa: S608
                f" {column} FROM comments WHERE status = 'new' AND target = ?"
                f" AND ({column}, seq) > (?, ?) ORDER BY {order} LIMIT ?",
                (target, *last_sort, BATCH)).fetchall()
            if not rows:
                break
            last_sort = (rows[-1][8], rows[-1][0])
            values = []
            for _seq, key, created, orig_number, orig_id, data, depth, deleted_thread, _sort in rows:
                fields = json.loads(data)
                if deleted_thread and fields["state"] != DELETED:
                    fields.update(state=DELETED, text="", author="", email=None, website=None, pinned=False)
                if keep:
                    this = orig_number
                else:
                    number += 1
                    this = number
                highest = max(highest, this)
                row = {
                    "thread_id": thread.id, "parent_id": None, "number": this, "depth": depth,
                    "author": fields["author"], "email": fields["email"], "website": fields["website"],
                    "text": fields["text"], "html": render(fields["text"]) if fields["text"] else "",
                    "state": fields["state"], "created_at": from_text(created),
                    "edited_at": from_text(fields["edited_at"]), "likes": fields["likes"],
                    "pinned": bool(fields["pinned"]), "ip_hash": fields["ip_hash"] or "",
                    "edit_token_hash": None, "import_key": key, "import_hash": source_hash(fields),
                }
                if restore_ids:
                    row["id"] = orig_id
                values.append(row)
            ids = db.session.execute(insert(Comment).returning(Comment.id, sort_by_parameter_order=True),
                                     values).scalars().all()
            st.conn.executemany("UPDATE comments SET dbid = ? WHERE seq = ?",
                                [(dbid, row[0]) for dbid, row in zip(ids, rows, strict=True)])
            if bar is not None:
                bar.update(len(rows))
        db.session.execute(update(Thread).where(Thread.id == thread.id).values(last_number=highest))
        thread_service.touch(thread.id)  # caches everywhere move on (the change feed)
    _link(st)
    if restore_ids and db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('comments', 'id'),"
                                " (SELECT COALESCE(MAX(id), 1) FROM comments))"))


def _link(st: Stage) -> None:
    sql = ("SELECT c.seq, c.dbid, COALESCE(p.dbid, c.link_dbid) FROM comments c"
           " LEFT JOIN comments p ON p.key = c.link_key"
           " WHERE c.status = 'new' AND (c.link_key IS NOT NULL OR c.link_dbid IS NOT NULL) AND c.seq > ?")
    for rows in batches(st, sql, order="c.seq"):
        params = [{"id": dbid, "parent_id": parent} for _seq, dbid, parent in rows if parent is not None]
        if params:
            db.session.execute(update(Comment), params)

