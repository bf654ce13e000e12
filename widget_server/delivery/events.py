"""The one boundary for side effects: each moment of a comment's (or an account's) life,
and everything that follows from it, on one screen.

Services call these where the change happens, before their caller commits, so
the after-effects (rows in the outbox) are stored with the change or not at all.
This is the only module that calls notifications and webhooks.
"""
from __future__ import annotations

from flask import Flask

from ..models import PENDING, PUBLISHED, SPAM, Comment
from . import changelog, feed, mail, notifications, outbox, subscriptions, webhooks


def thread_changed(thread_id: int, url: str, version: int) -> None:
    """A thread's version moved on (``comments.threads``): after the commit every instance's
    cache hears of it (``feed``), and it is logged (``changelog``) for event streams to resume from."""
    changelog.bumped(thread_id, url, version)


def comment_shown(thread_id: int, change: str, view: dict) -> None:
    """What readers' open pages are told of a comment (``created``, ``edited``, ``deleted``,
    ``approved``, ``pinned``, ``unpinned``): its public view, after the thread's latest change."""
    changelog.describe(thread_id, "comment", {"change": change, "comment": view})


def thread_shown(thread_id: int, change: str, view: dict) -> None:
    """What open pages are told of the thread itself (``locked``, ``unlocked``)."""
    changelog.describe(thread_id, "thread", {"change": change, "thread": view})


def reactions_shown(thread_id: int, comment_id: int | None, counts: dict) -> None:
    """A reaction was added or taken back (issue 19): open pages get the target's new counts
    (``comment_id`` None: the page's own)."""
    changelog.describe(thread_id, "reactions", {"comment_id": comment_id, "reactions": counts})


def comment_created(comment: Comment, *, notify: str | None, notify_proven: bool,
                    lang: str | None = None) -> None:
    """A reader's new comment was stored (published, held, or judged spam).

    ``notify``: the address that asked for reply notifications, if any;
    ``notify_proven``: whether the poster has proven it is theirs (a signed-in account);
    ``lang``: the reader's language for those mails (None: English).
    """
    if comment.state not in (PUBLISHED, PENDING, SPAM):
        return
    if notify:
        # Spam too: its author gets the same confirmation mail as for a held comment (audit
        # finding 7); a spam comment is never published, so no reply to it ever notifies.
        notifications.opt_in(comment, notify, proven=notify_proven, lang=lang)
    if comment.state == SPAM:
        return  # nobody else hears of spam
    if comment.state == PUBLISHED:
        notifications.reply_published(comment)
    notifications.admin(comment)
    webhooks.emit(webhooks.CREATED, comment)


def comment_approved(comment: Comment) -> None:
    """A held (or spam) comment was published by a moderator: the replies mail held back goes now."""
    notifications.reply_published(comment)
    webhooks.emit(webhooks.APPROVED, comment)


def comment_reported(comment: Comment, reason: str, note: str) -> None:
    """A reader reported a comment as illegal content: the admin hears of it at once."""
    notifications.admin_report(comment, reason, note)


def comment_deleted(comment: Comment) -> None:
    """A comment was deleted, by its author, a moderator or an account deletion."""
    webhooks.emit(webhooks.DELETED, comment)


def account_mail(recipient: str, kind: str, subject: str, blocks: list[mail.Block], *,
                 send: bool = True) -> None:
    """A mail about the reader's own account (sign-up, password reset): queued like all mail.

    ``send`` False: composed and stored the same way but never sent, for a request whose
    answer and cost must not tell whether the address has an account."""
    mail.enqueue(recipient, kind, subject, blocks, send=send)


def account_deleted(email: str) -> None:
    """An account is gone: its address hears of nothing any more."""
    subscriptions.forget(email)


def init_app(app: Flask) -> None:
    """Check the delivery settings and register the outbox's senders (mail, webhooks)."""
    mail.check_settings(app.config)
    webhooks.check_settings(app.config)
    outbox.init_app(app, [mail.SENDER, webhooks.SENDER])
    feed.init_app(app)
