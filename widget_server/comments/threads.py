"""Threads: one per normalized page URL, created on the first comment."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from .. import clock, sites
from ..delivery import events
from ..extensions import db
from ..models import Thread

_THREADS = Thread.__table__
_FIND = select(*_THREADS.c).where(_THREADS.c.url == bindparam("url"))


def find(url: str) -> Thread | None:
    """The thread of ``url``: a Core SELECT built once (every uncached read asks), its row put
    into the session as the ORM would load it (the session's own copy if it has one)."""
    session = db.session()
    session.flush()  # the ORM's autoflush, which a Core statement skips
    row = session.connection().execute(_FIND, {"url": url}).first()
    return None if row is None else _loaded(session, row)


def _loaded(session, row) -> Thread:
    known = session.identity_map.get(identity_key(Thread, row.id))
    if known is not None:  # the session's copy learns what the row says now
        for name, value in row._mapping.items():
            set_committed_value(known, name, value)
        return known
    thread = Thread(**row._mapping)
    make_transient_to_detached(thread)  # a loaded row: nothing to write back
    session.add(thread)
    return thread


def get_or_create(url: str, title: str = "") -> Thread:
    """The thread of ``url``, in the site its origin belongs to; concurrent first posts to a
    page create it once."""
    thread = find(url)
    if thread is not None:
        if title and not thread.title:
            thread.title = title
        return thread
    _create(url, title)
    return find(url)


def _create(url: str, title: str) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(Thread)
        .values(url=url, title=title, created_at=clock.now(), locked=False, last_number=0, version=0,
                site_id=sites.for_url(url).id)
        .on_conflict_do_nothing(index_elements=["url"])
    )


# A new comment's thread and number in one statement: the thread found by its page, its title
# kept (or the first one given), the number and the version moved on; every column back.
_CLAIM = (update(_THREADS).where(_THREADS.c.url == bindparam("page"))
          .values(last_number=_THREADS.c.last_number + 1, version=_THREADS.c.version + 1,
                  title=func.coalesce(func.nullif(_THREADS.c.title, ""), bindparam("given_title")))
          .returning(*_THREADS.c))


def claim_number(url: str, title: str = "") -> tuple[Thread, int]:
    """The thread of ``url`` (created on the first comment; concurrent first posts create it
    once) with its next comment number, taken atomically (row lock on PostgreSQL)."""
    session = db.session()
    session.flush()  # the ORM's autoflush, which a Core statement skips
    params = {"page": url, "given_title": title}
    row = session.connection().execute(_CLAIM, params).first()
    if row is None:
        _create(url, title)
        row = session.connection().execute(_CLAIM, params).one()
    thread = _loaded(session, row)
    events.thread_changed(thread.id, url, row.version)
    return thread, row.last_number


# Built once, run on the session's connection (no ORM pass): the version bump of every change
# (docs/performance.md, "Posting").
_TOUCH = (update(_THREADS).where(_THREADS.c.id == bindparam("thread_id"))
          .values(version=_THREADS.c.version + 1).returning(_THREADS.c.url, _THREADS.c.version))


def _bump(statement, thread_id: int):
    """Run a version bump as the ORM would: what the session holds is written first (autoflush:
    the same order of row locks), and a loaded Thread learns its new numbers."""
    session = db.session()
    session.flush()
    row = session.connection().execute(statement, {"thread_id": thread_id}).one()
    thread = session.identity_map.get(identity_key(Thread, thread_id))
    if thread is not None:
        for name, value in row._mapping.items():
            if name != "url":
                set_committed_value(thread, name, value)
    return row


def touch(thread_id: int) -> int:
    """Mark the thread changed: readers' caches and ETags move on, and every instance hears
    of it after the commit (``events.thread_changed``). The new version is the change's id."""
    url, version = _bump(_TOUCH, thread_id)
    events.thread_changed(thread_id, url, version)
    return version
