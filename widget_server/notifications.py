"""Reply notifications (opt-in, each opt-in proven by its own requester) and admin notifications.

Everything here only queues mail in the caller's transaction (see mail.py).
Links in mail never change anything on a GET: they open a small page whose
button POSTs (api/accounts.py ``pages``). Unsubscribe links are signed with
itsdangerous (keyed by SECRET_KEY) and also work as RFC 8058 one-click
unsubscribe (``List-Unsubscribe-Post``).

An opt-in is confirmed only by a proof from whoever asked for it (audit
finding 4): a signed-in reader posting under the account (the address is the
account's, proven at sign-up), or the confirmation link mailed for that very
opt-in. An address that confirmed another opt-in before proves nothing about
this one: anybody can type an address. Every mail to a reader's address also
counts against the per-address caps in mail.py.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, select

from . import clock
from .account_models import Subscription
from .errors import ValidationError
from .extensions import db
from .models import PENDING, PUBLISHED, SPAM, Comment, utcnow

CONFIRM_SALT = "widget-server notify-confirm"
UNSUBSCRIBE_SALT = "widget-server unsubscribe"
CONFIRM_MAX_AGE = 7 * 86400
QUOTE_LIMIT = 2000


class _ClockSigner(TimestampSigner):
    """itsdangerous timestamps from the service's clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)


# Tokens name a subscription by id only: itsdangerous payloads are readable, and
# an address in a URL would end up in access logs and browser histories.


def confirm_token(subscription: Subscription) -> str:
    return _serializer(CONFIRM_SALT).dumps({"s": subscription.id})


def unsubscribe_token(subscription: Subscription) -> str:
    return _serializer(UNSUBSCRIBE_SALT).dumps({"s": subscription.id})


def _subscription(salt: str, token: str, max_age: int | None) -> Subscription | None:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError({"token": "has expired"}) from None
    except BadSignature:
        raise ValidationError({"token": "is not valid"}) from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise ValidationError({"token": "is not valid"})
    return db.session.get(Subscription, data["s"])


def _page_label(comment: Comment) -> str:
    return comment.thread.title or comment.thread.url


def _link(comment: Comment) -> str:
    return f"{comment.thread.url}#comment-{comment.number}"


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT].rstrip() + " ..."


# --- opting in -------------------------------------------------------------------------------


def subscribe(comment: Comment, email: str, *, proven: bool) -> Subscription:
    """Reply notifications for ``comment`` to ``email``.

    ``proven``: the requester is the signed-in owner of ``email`` (confirmed at once).
    Otherwise the address is asked about this opt-in, and only its own link confirms it.
    """
    from . import mail
    from .accounts import public_base

    email = email.strip().lower()
    subscription = Subscription(comment_id=comment.id, email=email, confirmed=proven, created_at=utcnow())
    db.session.add(subscription)
    db.session.flush()  # the confirmation link names it by id
    if not proven:
        confirm_url = f"{public_base()}/mail/confirm?token={confirm_token(subscription)}"
        mail.enqueue(email, "notify-confirm", "Confirm reply notifications", [
            ("p", f"Someone (hopefully you) asked to get an e-mail when someone replies to a "
                  f"comment on \u201c{_page_label(comment)}\u201d."),
            ("link", "Yes, send me replies to that comment", confirm_url),
            ("p", "If it was not you, ignore this mail: nothing will be sent about that comment."),
        ])
    return subscription


def confirm_address(token: str) -> int:
    """Confirm the one opt-in the token was mailed for; return how many were confirmed (1)."""
    subscription = _subscription(CONFIRM_SALT, token, CONFIRM_MAX_AGE)
    if subscription is None:  # its comment is gone, or the address unsubscribed meanwhile
        raise ValidationError({"token": "is no longer valid: opt in again"})
    subscription.confirmed = True
    return 1


def unsubscribe(token: str, *, everything: bool = False) -> int:
    """Stop the subscription of the link (or every one of its address); idempotent."""
    subscription = _subscription(UNSUBSCRIBE_SALT, token, None)
    if subscription is None:
        return 0  # already gone
    query = delete(Subscription)
    if everything:
        query = query.where(Subscription.email == subscription.email)
    else:
        query = query.where(Subscription.id == subscription.id)
    return db.session.execute(query).rowcount


# --- what happens when a comment appears -----------------------------------------------------


def comment_created(comment: Comment, fields: dict) -> None:
    """After comments.create stored a reader's comment: opt-in, notifications, webhook."""
    from . import webhooks

    if "account" not in fields or comment.state not in (PUBLISHED, PENDING, SPAM):
        return  # not a reader post (an import)
    if fields.get("notify") and fields.get("email"):
        # Spam too: its author gets the same confirmation mail as for a held comment (finding 7);
        # a spam comment is never published, so no reply to it ever notifies.
        subscribe(comment, fields["email"], proven=fields["account"] is not None)
    if comment.state == SPAM:
        return  # nobody else hears of spam
    if comment.state == PUBLISHED:
        comment_published(comment)
    notify_admin(comment)
    webhooks.emit(webhooks.CREATED, comment)


def comment_published(comment: Comment) -> None:
    """Mail the confirmed subscribers of the comment's parent (not the replier)."""
    from . import mail
    from .accounts import public_base

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
    name = comment.author or "Anonymous"
    base = public_base()
    for subscription in subscriptions:
        if subscription.email == own:
            continue
        unsubscribe_url = f"{base}/mail/unsubscribe?token={unsubscribe_token(subscription)}"
        subject = f"New reply to your comment on \u201c{_page_label(comment)}\u201d"
        mail.enqueue(subscription.email, "reply", subject, [
            ("p", f"{name} replied to your comment #{parent.number} on \u201c{_page_label(comment)}\u201d:"),
            ("quote", _quote(comment.text)),
            ("link", "Read the reply", _link(comment)),
            ("p", "You get this mail because you asked to hear about replies to your comment."),
            ("link", "Unsubscribe from replies to this comment", unsubscribe_url),
        ], headers={"List-Unsubscribe": f"<{unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def notify_admin(comment: Comment) -> None:
    """Tell WIDGET_ADMIN_EMAIL about a new comment, or one held for moderation."""
    from . import mail
    from .accounts import public_base

    address = current_app.config.get("ADMIN_EMAIL")
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
    blocks.append(("link", "Open the moderation page", f"{public_base()}/admin"))
    subject = f"{'Held for moderation' if held else 'New comment'} on \u201c{label}\u201d"
    mail.enqueue(address, "admin-held" if held else "admin-new", subject, blocks, capped=False)
