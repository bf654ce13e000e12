"""Stage a reader's records on disk, plan, then write them in one transaction.

Pass 1 streams the file into a scratch SQLite database (a temporary file, not
the service's database), so threads that come after their posts, parents that
come after their replies, and files of hundreds of megabytes all work with
flat memory. Pass 2 plans from the scratch database (thread URLs, what was
imported before, nesting) and, unless it is a dry run, writes every thread and
comment in one transaction: a failure anywhere leaves the service's database
as it was.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urljoin

from sqlalchemy import select

from .. import names, sites
from ..extensions import db
from ..models import DELETED, MAX_DEPTH, Comment, Thread
from ..urls import BadURL, normalize_page_url, origin_of
from . import update
from .base import (
    MAX_TITLE,
    CommentRecord,
    ImportFailed,
    Skip,
    Summary,
    ThreadRecord,
    clean_line,
    progress_bar,
)
from .stage import BATCH, Options, Stage, batches, to_text
from .writer import write

# --- pass 1 --------------------------------------------------------------------------------


def _comment_row(record: CommentRecord) -> tuple:
    data = {"author": record.author, "email": record.email, "website": record.website,
            "text": record.text, "state": record.state, "likes": record.likes,
            "edited_at": to_text(record.edited_at), "ip_hash": record.ip_hash, "pinned": record.pinned}
    return (record.key, record.thread, record.parent, record.parent_id, record.id,
            to_text(record.created_at), record.number, json.dumps(data), record.where)


def stage(records: Iterator[ThreadRecord | CommentRecord | Skip], st: Stage, summary: Summary) -> None:
    threads: list[tuple] = []
    comments: list[CommentRecord] = []

    def flush() -> None:
        if threads:
            st.conn.executemany(
                "INSERT INTO threads (key, url, title, locked, deleted, created, last_number)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " url = COALESCE(threads.url, excluded.url),"
                " title = CASE WHEN threads.title = '' THEN excluded.title ELSE threads.title END,"
                " locked = MAX(threads.locked, excluded.locked),"
                " deleted = MAX(threads.deleted, excluded.deleted),"
                " created = COALESCE(threads.created, excluded.created),"
                " last_number = COALESCE(threads.last_number, excluded.last_number)", threads)
            threads.clear()
        # Author names follow the posting rules (names.py), cleaned rather than refused.
        registered = names.registered_among([record.author for record in comments])
        for record in comments:
            record.author, note = names.clean_imported(record.author, registered)
            cur = st.conn.execute(
                "INSERT OR IGNORE INTO comments (key, thread, parent, parent_orig, orig_id, created, number,"
                " data, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _comment_row(record))
            if not cur.rowcount:
                summary.skip("the same id appears twice in the file (the first one counts)",
                             f"{record.key} at {record.where}")
            elif note:
                summary.note(note, f"{record.key} at {record.where}")
        comments.clear()

    for record in records:
        if isinstance(record, ThreadRecord):
            threads.append((record.key, (record.url or "").strip() or None,
                            clean_line(record.title, MAX_TITLE), int(record.locked), int(record.deleted),
                            to_text(record.created_at), record.last_number))
        elif isinstance(record, CommentRecord):
            comments.append(record)
        elif record.note:
            summary.note(record.reason, record.detail)
        else:
            summary.skip(record.reason, record.detail)
        if len(comments) >= BATCH or len(threads) >= BATCH:
            flush()
    flush()
    st.conn.commit()


# --- pass 2: plan --------------------------------------------------------------------------


def _target(raw: str, options: Options) -> str:
    url = raw.strip()
    if "://" not in url:
        if not options.site:
            raise BadURL("is only a path: pass --site https://your.site to say which site it belongs to")
        url = urljoin(options.site.rstrip("/") + "/", url.lstrip("/"))
    for old, new in options.map_urls:
        if url.startswith(old):
            url = new + url[len(old):]
            break
    normalized = normalize_page_url(url)
    for old, new in options.map_urls:  # also match the normalized form (lower-cased host, no default port)
        if normalized.startswith(old) and not url.startswith(new):
            return normalize_page_url(new + normalized[len(old):])
    return normalized


def _resolve_threads(st: Stage, options: Options, summary: Summary) -> None:
    used = [row[0] for row in st.q("SELECT DISTINCT thread FROM comments")]
    for key in used:
        row = st.q("SELECT url, deleted FROM threads WHERE key = ?", (key,)).fetchone()
        reason = detail = None
        if row is None:
            reason, detail = "its thread is not in the file", f"thread {key}"
        elif not row[0]:
            reason, detail = "its thread has no URL", f"thread {key}"
        else:
            try:
                target = _target(row[0], options)
            except BadURL as exc:
                reason, detail = "its thread's URL cannot be used", f"{row[0][:200]!r} {exc}"
        if reason:
            count = st.q("UPDATE comments SET status = 'skip' WHERE thread = ?", (key,)).rowcount
            summary.skip(reason, detail, count)
            continue
        st.q("UPDATE threads SET target = ? WHERE key = ?", (target, key))
        st.q("UPDATE comments SET target = ?, deleted_thread = ? WHERE thread = ?", (target, row[1], key))


def _known(keys: list[str]) -> dict[str, tuple]:
    rows = db.session.execute(
        select(Comment.import_key, Comment.id, Comment.depth, Comment.parent_id, Thread.url)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Comment.import_key.in_(keys))
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _match_existing(st: Stage, summary: Summary) -> None:
    for rows in batches(st, "SELECT seq, key FROM comments WHERE status = 'new' AND seq > ?"):
        known = _known([key for _seq, key in rows])
        st.conn.executemany(
            "UPDATE comments SET status = 'existing', dbid = ?, depth = ?, link_dbid = ?, target = ?"
            " WHERE key = ?", [(*known[k], k) for k in known])
        summary.already += len(known)
    # Parents imported by an earlier run (an export that only has the newer comments).
    missing = [r[0] for r in st.q("SELECT DISTINCT c.parent FROM comments c WHERE c.parent IS NOT NULL"
                                  " AND NOT EXISTS (SELECT 1 FROM comments p WHERE p.key = c.parent)")]
    for i in range(0, len(missing), BATCH):
        known = _known(missing[i:i + BATCH])
        st.conn.executemany(
            "INSERT INTO comments (key, status, dbid, depth, link_dbid, target)"
            " VALUES (?, 'known', ?, ?, ?, ?)",
            [(k, *v) for k, v in known.items()])


def _match_restored(st: Stage, summary: Summary) -> None:
    """Our own export read again after it was restored: its comments are here under their own ids
    (a restore keeps ids and leaves the import key empty): the same id, time and page is the same one."""
    sql = ("SELECT seq, key, orig_id, created, target FROM comments WHERE status = 'new'"
           " AND orig_id IS NOT NULL AND seq > ?")
    for rows in batches(st, sql):
        found = {r[0]: r for r in db.session.execute(
            select(Comment.id, Comment.created_at, Comment.depth, Comment.parent_id, Thread.url)
            .join(Thread, Thread.id == Comment.thread_id)
            .where(Comment.id.in_([r[2] for r in rows]), Comment.import_key.is_(None))).all()}
        same = [(dbid, depth, parent, url, key) for _seq, key, orig, created, target in rows
                if (hit := found.get(orig)) and to_text(hit[1]) == created and hit[4] == target
                for dbid, _at, depth, parent, url in (hit,)]
        st.conn.executemany("UPDATE comments SET status = 'existing', change = 'restored', dbid = ?,"
                            " depth = ?, link_dbid = ?, target = ? WHERE key = ?", same)
        summary.already += len(same)


def _nest(st: Stage, summary: Summary) -> None:
    """Depth and the comment each reply hangs under, level by level; broken links become top-level."""
    top = MAX_DEPTH - 1
    st.q("UPDATE comments SET parent = (SELECT p.key FROM comments p WHERE p.orig_id = comments.parent_orig)"
         " WHERE parent IS NULL AND parent_orig IS NOT NULL")
    st.q("UPDATE comments SET depth = 0 WHERE status = 'new' AND parent IS NULL AND parent_orig IS NULL")
    for note, condition in (
        ("replies to a comment that is not in the file became top-level",
         "NOT EXISTS (SELECT 1 FROM comments p WHERE p.key = comments.parent)"),
        ("replies to a skipped comment became top-level",
         "EXISTS (SELECT 1 FROM comments p WHERE p.key = comments.parent AND p.status = 'skip')"),
        ("replies to a comment in another thread became top-level",
         "EXISTS (SELECT 1 FROM comments p WHERE p.key = comments.parent"
         " AND p.target IS NOT comments.target)"),
    ):
        rows = st.q(f"SELECT key, line FROM comments WHERE status = 'new' AND depth IS NULL AND {condition}"  # noqa: S608
                    ).fetchall()
        if rows:
            summary.note(note, f"{rows[0][0]} at {rows[0][1]}", len(rows))
            st.q(f"UPDATE comments SET depth = 0 WHERE status = 'new' AND depth IS NULL AND {condition}")  # noqa: S608
    while st.q(
        "UPDATE comments AS c SET depth = MIN(p.depth + 1, :top),"
        " link_key = CASE WHEN p.depth >= :top THEN p.link_key ELSE p.key END,"
        " link_dbid = CASE WHEN p.depth >= :top THEN p.link_dbid ELSE NULL END"
        " FROM comments AS p WHERE p.key = c.parent AND c.status = 'new' AND c.depth IS NULL"
        " AND p.depth IS NOT NULL", {"top": top}
    ).rowcount:
        pass
    cycles = st.q("SELECT key, line FROM comments WHERE status = 'new' AND depth IS NULL").fetchall()
    if cycles:
        summary.note("replies whose parents form a loop became top-level",
                     f"{cycles[0][0]} at {cycles[0][1]}", len(cycles))
        st.q("UPDATE comments SET depth = 0 WHERE status = 'new' AND depth IS NULL")


def plan(st: Stage, options: Options, summary: Summary) -> list[str]:
    """Fill in targets, known comments and nesting; count what would happen. Returns the target URLs."""
    _resolve_threads(st, options, summary)
    _match_existing(st, summary)
    if options.keep_numbers:
        _match_restored(st, summary)
    update.classify(st, summary)
    _nest(st, summary)
    st.conn.commit()
    targets = [r[0] for r in st.q("SELECT DISTINCT target FROM comments WHERE status = 'new'"
                                  " ORDER BY target")]
    existing = set()
    for i in range(0, len(targets), BATCH):
        existing.update(db.session.execute(select(Thread.url).where(Thread.url.in_(targets[i:i + BATCH])))
                        .scalars())
    summary.threads_existing = len(existing)
    summary.threads_new = len(targets) - len(existing)
    for state, deleted_thread, n in st.q("SELECT json_extract(data, '$.state'), deleted_thread, count(*)"
                                         " FROM comments WHERE status = 'new' GROUP BY 1, 2"):
        summary.imported[DELETED if deleted_thread else state] += n
    deleted = st.q("SELECT count(*) FROM comments WHERE status = 'new' AND deleted_thread = 1").fetchone()[0]
    if deleted:
        summary.note("comments of deleted threads were kept as deleted (hidden)", count=deleted)
    _check_origins(targets, summary)
    return targets


def _check_origins(targets: list[str], summary: Summary) -> None:
    allowed = sites.allowed_origins()  # every site's (the configured ones are the default site's)
    if "*" in allowed:
        return
    outside: dict[str, int] = {}
    for url in targets:
        origin = origin_of(url)
        if origin not in allowed:
            outside[origin] = outside.get(origin, 0) + 1
    for origin, n in sorted(outside.items()):
        summary.note("threads on a site that is not in WIDGET_ALLOWED_ORIGINS (add it, or the widget "
                     "cannot show them)", origin, n)


Record = ThreadRecord | CommentRecord | Skip


def run(records: Iterator[Record], options: Options, summary: Summary) -> Summary:
    """Stage, plan and (unless a dry run) write: all of it or nothing."""
    with Stage() as st:
        try:
            stage(records, st, summary)
        except ImportFailed:
            raise
        except (OSError, UnicodeError, ValueError) as exc:
            raise ImportFailed(f"{options.path} cannot be read: {exc}") from exc
        try:
            targets = plan(st, options, summary)
            if options.dry_run:
                db.session.rollback()
                return summary
            bar = progress_bar(options.progress, summary.total_imported + summary.updated, "comments",
                               "writing")
            try:
                write(st, options, targets, bar)
                update.apply(st, bar)
                db.session.commit()
            finally:
                if bar is not None:
                    bar.close()
        except ImportFailed:
            db.session.rollback()
            raise
        except Exception as exc:
            db.session.rollback()
            first_line = (str(exc).splitlines() or [""])[0][:300]
            raise ImportFailed(f"the import failed and nothing was written: {exc.__class__.__name__}: "
                               f"{first_line}") from exc
    return summary
