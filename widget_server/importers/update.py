"""A re-import that updates: comments imported before whose source record changed since.

Every imported comment keeps a digest of the source record it was written from
(``Comment.import_hash``). Importing the same source again compares: a comment whose record
is unchanged is left alone, even if a moderator here changed it since (the source did not
say anything new); one whose record changed (edited text, a deletion, another moderation
state, the author's details) is rewritten from it. Comments imported by a release that kept
no digest get one now ("baseline") and are left as they are; a later import updates them.
A comment that is missing from the file is left alone: an export may hold only part of a site.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter

from sqlalchemy import select, update

from ..comments import threads as thread_service
from ..comments.render import render
from ..extensions import db
from ..models import DELETED, Comment
from .base import Summary
from .stage import Stage, batches, from_text, to_text

# What the source decides about a comment it has (everything a record carries but its place).
FIELDS = ("text", "state", "author", "email", "website", "edited_at", "likes", "pinned")


def source_fields(data: str, deleted_thread: int | None) -> dict:
    fields = json.loads(data)
    if deleted_thread and fields["state"] != DELETED:  # as the writer stores comments of deleted threads
        fields.update(state=DELETED, text="", author="", email=None, website=None, pinned=False)
    return {name: fields.get(name) for name in FIELDS}


def source_hash(fields: dict) -> str:
    canonical = json.dumps({name: fields.get(name) for name in FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _stored(comment: Comment) -> dict:
    return {"text": comment.text, "state": comment.state, "author": comment.author, "email": comment.email,
            "website": comment.website, "edited_at": to_text(comment.edited_at), "likes": comment.likes,
            "pinned": comment.pinned}


def classify(st: Stage, summary: Summary) -> None:
    """Mark the comments found in the database that changed at the source (or have no digest yet)."""
    sql = ("SELECT seq, dbid, data, deleted_thread FROM comments WHERE status = 'existing'"
           " AND change IS NULL AND seq > ?")
    changed: Counter = Counter()
    for rows in batches(st, sql):
        stored = {c.id: c for c in db.session.execute(
            select(Comment).where(Comment.id.in_([r[1] for r in rows]))).scalars()}
        marks = []
        for seq, dbid, data, deleted_thread in rows:
            comment = stored.get(dbid)
            if comment is None:
                continue
            fields = source_fields(data, deleted_thread)
            digest = source_hash(fields)
            if comment.import_hash is None:
                marks.append(("baseline", digest, seq))
            elif comment.import_hash != digest:
                marks.append(("update", digest, seq))
                now = _stored(comment)
                changed.update(name for name in FIELDS if now[name] != fields[name]
                               and not (name == "pinned" and bool(now[name]) == bool(fields[name])))
        st.conn.executemany("UPDATE comments SET change = ?, hash = ? WHERE seq = ?", marks)
        db.session.expunge_all()
    updates = st.q("SELECT count(*) FROM comments WHERE change = 'update'").fetchone()[0]
    summary.already -= updates
    summary.updated = updates
    summary.changed = changed


def apply(st: Stage, bar=None) -> None:
    """Rewrite the changed comments from their source records; bump their threads' versions."""
    sql = ("SELECT seq, dbid, data, deleted_thread, change, hash FROM comments WHERE change IN"
           " ('update', 'baseline') AND seq > ?")
    touched: set[int] = set()
    for rows in batches(st, sql):
        values = []
        for _seq, dbid, data, deleted_thread, change, digest in rows:
            if change == "baseline":
                values.append({"id": dbid, "import_hash": digest})
                continue
            fields = source_fields(data, deleted_thread)
            values.append({"id": dbid, "import_hash": digest, "text": fields["text"],
                           "html": render(fields["text"]) if fields["text"] else "", "state": fields["state"],
                           "author": fields["author"], "email": fields["email"], "website": fields["website"],
                           "edited_at": from_text(fields["edited_at"]), "likes": fields["likes"],
                           "pinned": bool(fields["pinned"])})
        for same_keys in ([v for v in values if "text" not in v], [v for v in values if "text" in v]):
            if same_keys:
                db.session.execute(update(Comment), same_keys)
        updated = [v["id"] for v in values if "text" in v]
        if updated:
            touched.update(db.session.execute(select(Comment.thread_id).where(Comment.id.in_(updated))).scalars())
        if bar is not None:
            bar.update(len(updated))
    for thread_id in touched:
        thread_service.touch(thread_id)
