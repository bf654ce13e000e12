"""Threads: one per normalized page URL, created on the first comment."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, sites
from ..delivery import events
from ..extensions import db
from ..models import Thread


def find(url: str) -> Thread | None:
    return db.session.execute(select(Thread).where(Thread.url == url)).scalar_one_or_none()


def get_or_create(url: str, title: str = "") -> Thread:
    """The thread of ``url``, in the site its origin belongs to; concurrent first posts to a
    page create it once."""
    thread = find(url)
    if thread is not None:
        if title and not thread.title:
            thread.title = title
        return thread
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(Thread)
        .values(url=url, title=title, created_at=clock.now(), locked=False, last_number=0, version=0,
                site_id=sites.for_url(url).id)
        .on_conflict_do_nothing(index_elements=["url"])
    )
    return find(url)


def next_number(thread_id: int) -> int:
    """Hand out the next per-thread comment number atomically (row lock on PostgreSQL);
    the version moves on with it (``touch``)."""
    number, url, version = db.session.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(last_number=Thread.last_number + 1, version=Thread.version + 1)
        .returning(Thread.last_number, Thread.url, Thread.version)
    ).one()
    events.thread_changed(thread_id, url, version)
    return number


def touch(thread_id: int) -> int:
    """Mark the thread changed: readers' caches and ETags move on, and every instance hears
    of it after the commit (``events.thread_changed``). The new version is the change's id."""
    url, version = db.session.execute(
        update(Thread).where(Thread.id == thread_id).values(version=Thread.version + 1)
        .returning(Thread.url, Thread.version)
    ).one()
    events.thread_changed(thread_id, url, version)
    return version
