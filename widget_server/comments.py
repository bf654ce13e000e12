"""The write path: create, edit, delete and like comments.

Views call these after validation; each function leaves the session ready to
commit and bumps the thread's version so cached reads move on.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import threads
from .errors import APIError, ValidationError
from .extensions import db
from .models import DELETED, PENDING, PUBLISHED, SPAM, Comment, Like, Thread, utcnow
from .render import render
from .security import ip_hash, new_token, token_hash, token_matches, voter_hash

MAX_DEPTH = 30


def moderation_state(email: str | None) -> tuple[str, str | None]:
    """The state WIDGET_MODERATION gives a new comment, and why it is held (if it is)."""
    mode = current_app.config["MODERATION"]
    if mode == "all":
        return PENDING, "every new comment waits for approval (moderation: all)"
    if mode == "first":
        if not email:
            return PENDING, "no e-mail address, so no approved comment to go by (moderation: first)"
        known = db.session.execute(
            select(exists().where(func.lower(Comment.email) == email.lower(), Comment.state == PUBLISHED))
        ).scalar()
        if not known:
            return PENDING, "the first comment from this e-mail address (moderation: first)"
    return PUBLISHED, None


def _parent_for(thread: Thread, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id or parent.state not in (PUBLISHED, PENDING):
        raise ValidationError({"parent_id": "does not exist in this thread"})
    if parent.depth >= MAX_DEPTH - 1 and parent.parent_id is not None:
        # Past the depth cap a reply joins its parent's siblings' replies.
        return db.session.get(Comment, parent.parent_id)
    return parent


def create(fields: dict, client_ip: str, state: str | None = None) -> tuple[Comment, str]:
    """Store a new comment; return it with its edit token (shown to the author once).

    A reader's post (``state`` None) passes the ban check first, then the
    anti-spam rules; a caller that sets ``state`` (an import) skips both.
    """
    from . import accounts, antispam, moderation, notifications

    accounts.apply_identity(fields)  # posting as whom: account or anonymous (no-op for imports)
    screened = state is None
    if screened:
        moderation.check_not_banned(client_ip, fields.get("email"))
    thread = threads.get_or_create(fields["url"], fields.get("title") or "")
    if thread.locked:
        raise APIError(403, "thread_locked", "this discussion is closed for new comments")
    parent = _parent_for(thread, fields.get("parent_id"))
    html = render(fields["text"])
    reason = None
    if screened:
        verdict = antispam.screen(fields, html, thread, client_ip)
        state, reason = verdict or moderation_state(fields.get("email"))
    token = new_token()
    comment = Comment(
        thread_id=thread.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        number=threads.next_number(thread.id),
        author=fields.get("author") or "",
        email=fields.get("email"),
        website=fields.get("website"),
        text=fields["text"],
        html=html,
        state=state,
        held_reason=reason,
        created_at=utcnow(),
        ip_hash=ip_hash(client_ip),
        edit_token_hash=token_hash(token),
        user_id=fields.get("user_id"),
    )
    db.session.add(comment)
    db.session.flush()
    notifications.comment_created(comment, fields)  # opt-in, reply and admin mail, webhook
    return comment, token


def editable_until(comment: Comment) -> datetime:
    return comment.created_at + timedelta(seconds=current_app.config["EDIT_WINDOW"])


def authorize_edit(comment: Comment | None, token: str | None, now: datetime | None = None) -> Comment:
    """The comment if ``token`` is its edit token and the window is still open.

    Spam is edited and deleted by its author like a held comment (it stays spam), so the
    author cannot tell the verdict from the answers (audit finding 7).
    """
    if comment is None or comment.state not in (PUBLISHED, PENDING, SPAM):
        raise APIError(404, "not_found", "no such comment")
    if not token:
        raise APIError(403, "forbidden", "send the comment's edit token in the X-Edit-Token header")
    if not token_matches(token, comment.edit_token_hash):
        raise APIError(403, "forbidden", "this edit token does not belong to this comment")
    if (now or utcnow()) > editable_until(comment):
        raise APIError(403, "edit_window_closed", "the time for editing this comment has passed")
    return comment


def edit(comment: Comment, text: str) -> Comment:
    comment.text = text
    comment.html = render(text)
    comment.edited_at = utcnow()
    threads.touch(comment.thread_id)
    return comment


def remove(comment: Comment) -> None:
    """Delete a comment's content; the row stays as a tombstone for its replies.

    Whoever deletes it (its author, an admin, an account deletion), webhooks hear
    of it in the same transaction, unless it was spam, which they never heard of.
    """
    from . import webhooks

    announced = comment.state != SPAM
    comment.state = DELETED
    comment.text = comment.html = comment.author = ""
    comment.email = comment.website = None
    comment.edit_token_hash = None
    comment.pinned = False
    threads.touch(comment.thread_id)
    if announced:
        webhooks.emit(webhooks.DELETED, comment)


def set_state(comment: Comment, state: str) -> None:
    comment.state = state
    threads.touch(comment.thread_id)


def like(comment_id: int, client_ip: str) -> int:
    """Count one like per reader; repeating it changes nothing."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.state != PUBLISHED:
        raise APIError(404, "not_found", "no such comment")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = db.session.execute(
        insert(Like)
        .values(comment_id=comment_id, voter_hash=voter_hash(client_ip), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["comment_id", "voter_hash"])
        .returning(Like.id)  # rowcount is -1 (truthy) on PostgreSQL when RETURNING is implied
    )
    if result.first() is not None:
        db.session.execute(update(Comment).where(Comment.id == comment_id)
                           .values(likes=Comment.likes + 1))
        threads.touch(comment.thread_id)
    return db.session.execute(select(Comment.likes).where(Comment.id == comment_id)).scalar_one()


def counts(urls: list[str]) -> dict[str, int]:
    """Published comments per normalized URL, in one query."""
    rows = db.session.execute(
        select(Thread.url, func.count(Comment.id))
        .join(Comment, (Comment.thread_id == Thread.id) & (Comment.state == PUBLISHED))
        .where(Thread.url.in_(urls))
        .group_by(Thread.url)
    ).all()
    return dict(rows)
