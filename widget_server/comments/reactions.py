"""Emoji reactions (issue 19) to a page or to a comment: one of each per reader, no account.

The reader is the likes' voter hash (``security.voter_hash``). The thumbs-up on a comment *is*
its like: its rows and count stay where likes always were (``likes``, ``Comment.likes``,
imported counts included), so no existing count moved when reactions came. Every other
reaction is a row in ``reactions``, one per reader, emoji and target (two partial unique
indexes), counted when the thread's tree is built (once per thread version, ``trees``).

A change takes the thread's row lock (``threads.touch``) before it counts, so the count each
answer carries is the one after its own change, on every instance; open pages hear of it on
the change feed (``events.reactions_shown``).
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..delivery import events
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..models import PUBLISHED, Comment, Like, Reaction, Thread
from ..security import voter_hash
from . import threads

LIKE = "👍"


def emoji_of(data: Mapping[str, object]) -> str:
    emoji = data.get("emoji")
    allowed = current_app.config["REACTIONS"]
    if emoji not in allowed:
        raise ValidationError({"emoji": problem("invalid", "must be one of " + " ".join(allowed))})
    return emoji  # type: ignore[return-value]


def published_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.state != PUBLISHED:
        raise APIError(404, "not_found", "no such comment")
    return comment


def _insert():
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _target(comment_id: int | None):
    return Reaction.comment_id == comment_id if comment_id else Reaction.comment_id.is_(None)


def set_reaction(thread: Thread, comment: Comment | None, emoji: str, client_ip: str,
                 on: bool) -> dict[str, int]:
    """Add (``on``) or take back one reader's reaction; repeating either changes nothing.
    Returns the target's counts after it."""
    voter = voter_hash(client_ip)
    comment_id = comment.id if comment else None
    if comment is not None and emoji == LIKE:
        changed = _set_like(comment.id, voter, on)
    elif on:
        changed = db.session.execute(
            _insert()(Reaction).values(thread_id=thread.id, comment_id=comment_id, emoji=emoji,
                                       voter_hash=voter, created_at=clock.now())
            .on_conflict_do_nothing().returning(Reaction.id)).first() is not None
    else:
        changed = db.session.execute(
            delete(Reaction).where(Reaction.thread_id == thread.id, _target(comment_id),
                                   Reaction.emoji == emoji, Reaction.voter_hash == voter)
            .returning(Reaction.id)).first() is not None
    if changed:
        threads.touch(thread.id)  # the thread's row lock: the counts below include this change
    found = counts(thread.id, comment_id)
    if changed:
        events.reactions_shown(thread.id, comment_id, found)
    return found


def _set_like(comment_id: int, voter: str, on: bool) -> bool:
    if on:
        changed = db.session.execute(
            _insert()(Like).values(comment_id=comment_id, voter_hash=voter, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["comment_id", "voter_hash"]).returning(Like.id)).first()
    else:
        changed = db.session.execute(delete(Like).where(
            Like.comment_id == comment_id, Like.voter_hash == voter).returning(Like.id)).first()
    if changed is not None:
        step = 1 if on else -1
        db.session.execute(update(Comment).where(Comment.id == comment_id).values(likes=Comment.likes + step))
    return changed is not None


def counts(thread_id: int, comment_id: int | None) -> dict[str, int]:
    """One target's counts, in the configured order, zeros left out."""
    rows = dict(db.session.execute(
        select(Reaction.emoji, func.count()).where(Reaction.thread_id == thread_id, _target(comment_id))
        .group_by(Reaction.emoji)).all())
    if comment_id:
        rows[LIKE] = db.session.execute(select(Comment.likes).where(Comment.id == comment_id)).scalar_one()
    return ordered(rows)


def ordered(found: Mapping[str, int]) -> dict[str, int]:
    return {emoji: found[emoji] for emoji in current_app.config["REACTIONS"] if found.get(emoji)}


def of_thread(thread_id: int) -> dict[int | None, dict[str, int]]:
    """Every target's counts in a thread (the page's under None), likes not included: one query,
    made when the thread's tree is built."""
    found: dict[int | None, dict[str, int]] = {}
    for comment_id, emoji, n in db.session.execute(
            select(Reaction.comment_id, Reaction.emoji, func.count()).where(Reaction.thread_id == thread_id)
            .group_by(Reaction.comment_id, Reaction.emoji)):
        found.setdefault(comment_id, {})[emoji] = n
    return found
