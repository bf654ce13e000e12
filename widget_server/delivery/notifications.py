"""Who hears of a comment by mail: confirmed subscribers of its parent, and the admin.

Called by ``events`` only. Everything here only queues mail in the caller's
transaction (mail.py); subscriptions.py has the links that confirm and end an opt-in.

An opt-in is confirmed only by a proof from whoever asked for it (audit
finding 4): a signed-in reader posting under the account (the address is the
account's, proven at sign-up), or the confirmation link mailed for that very
opt-in. An address that confirmed another opt-in before proves nothing about
this one: anybody can type an address. Every mail to a reader's address also
counts against the per-address caps in mail.py.
"""
from __future__ import annotations

from sqlalchemy import select

from .. import clock, sites
from ..extensions import db
from ..hosts import base_url
from ..models import PENDING, PUBLISHED, Comment, Subscription
from ..security import MODERATION_LINK, sign
from ..urls import permalink
from . import mail
from .mail_words import MailWords
from .subscriptions import confirm_token, unsubscribe_token

QUOTE_LIMIT = 2000


def _page_label(comment: Comment) -> str:
    return comment.thread.title or comment.thread.url


def _link(comment: Comment) -> str:
    return permalink(comment.thread.url, comment.number)


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT].rstrip() + " ..."


# --- opting in -------------------------------------------------------------------------------


def opt_in(comment: Comment, email: str, *, proven: bool, lang: str | None = None) -> Subscription:
    """Reply notifications for ``comment`` to ``email``, in the reader's language ``lang``.

    ``proven``: the requester is the signed-in owner of ``email`` (confirmed at once).
    Otherwise the address is asked about this opt-in, and only its own link confirms it.
    """
    email = email.strip().lower()
    subscription = Subscription(comment_id=comment.id, email=email, confirmed=proven, created_at=clock.now(),
                                lang=lang)
    db.session.add(subscription)
    db.session.flush()  # the confirmation link names it by id
    if not proven:
        confirm_url = f"{base_url()}/mail/confirm?token={confirm_token(subscription)}"
        words = MailWords(lang)
        mail.enqueue(email, "notify-confirm", words("confirm_subject"), [
            ("p", words("confirm_asked", page=_page_label(comment))),
            ("link", words("confirm_link"), confirm_url),
            ("p", words("confirm_ignore")),
        ])
    return subscription


# --- what happens when a comment appears -----------------------------------------------------


def reply_published(comment: Comment) -> None:
    """Mail the confirmed subscribers of the comment's parent (not the replier)."""
    if comment.parent_id is None or comment.state != PUBLISHED:
        return
    parent = db.session.get(Comment, comment.parent_id)
    if parent is None or parent.state != PUBLISHED:
        return
    own = (comment.email or "").strip().lower()
    subscriptions = db.session.execute(
        select(Subscription).where(Subscription.comment_id == parent.id, Subscription.confirmed.is_(True))
        .order_by(Subscription.id)
    ).scalars()
    base, page = base_url(), _page_label(comment)
    for subscription in subscriptions:
        if subscription.email == own:
            continue
        unsubscribe_url = f"{base}/mail/unsubscribe?token={unsubscribe_token(subscription)}"
        words = MailWords(subscription.lang)  # the language the reader asked in
        name = comment.author or words("anonymous")
        mail.enqueue(subscription.email, "reply", words("reply_subject", page=page), [
            ("p", words("reply_intro", name=name, number=parent.number, page=page)),
            ("quote", _quote(comment.text)),
            ("link", words("reply_link"), _link(comment)),
            ("p", words("reply_why")),
            ("link", words("reply_stop"), unsubscribe_url),
        ], headers={"List-Unsubscribe": f"<{unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def admin(comment: Comment) -> None:
    """Tell the site's admin_email (WIDGET_ADMIN_EMAIL) about a new comment, or one held."""
    address = sites.for_thread(comment.thread).config.get("ADMIN_EMAIL")
    if not address:
        return
    held = comment.state == PENDING
    label = _page_label(comment)
    name = comment.author or "Anonymous"
    blocks = [("p", f"{name} {'wrote a comment that waits for your approval' if held else 'commented'} "
                    f"on \u201c{label}\u201d ({comment.thread.url}):"),
              ("quote", _quote(comment.text))]
    if not held:
        blocks.append(("link", "Read it on the page", _link(comment)))
    blocks.append(("p", "Moderate it from here (each link opens a page with one button; "
                        "opening a link changes nothing):"))
    for action, words in (("approve", "Approve it") if held else (None, None), ("spam", "Mark it as spam"),
                          ("delete", "Delete it")):
        if action:
            token = sign(MODERATION_LINK, {"c": comment.id, "a": action})
            blocks.append(("link", words, f"{base_url()}/admin/mail?token={token}"))
    blocks.append(("link", "Open the moderation page", f"{base_url()}/admin"))
    subject = f"{'Held for moderation' if held else 'New comment'} on \u201c{label}\u201d"
    mail.enqueue(address, "admin-held" if held else "admin-new", subject, blocks, capped=False)


def admin_report(comment: Comment, reason: str, note: str) -> None:
    """Tell the site's admin_email at once that a reader reported a comment (illegal content)."""
    address = sites.for_thread(comment.thread).config.get("ADMIN_EMAIL")
    if not address:
        return
    label = _page_label(comment)
    blocks = [("p", f"A reader reported comment #{comment.number} on \u201c{label}\u201d "
                    f"({comment.thread.url}) as {reason.replace('_', ' ')} content. Their explanation:"),
              ("quote", _quote(note)),
              ("p", f"The comment, by {comment.author or 'Anonymous'}:"),
              ("quote", _quote(comment.text)),
              ("link", "Read it on the page", _link(comment)),
              ("link", "Open the moderation page", f"{base_url()}/admin")]
    subject = f"Reported as illegal: comment #{comment.number} on \u201c{label}\u201d"
    mail.enqueue(address, "admin-report", subject, blocks, capped=False)
