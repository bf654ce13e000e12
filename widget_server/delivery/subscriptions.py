"""Reply subscriptions: the signed links that confirm and end them.

Tokens name a subscription by id only: signed payloads are readable, and an
address in a URL would end up in access logs and browser histories. Links in
mail never change anything on a GET: they open a page whose button POSTs
(pages.py). Unsubscribe links also work as RFC 8058 one-click unsubscribe.
"""
from __future__ import annotations

from sqlalchemy import delete

from ..errors import ValidationError, problem
from ..extensions import db
from ..models import Subscription
from ..security import NOTIFY_CONFIRM, UNSUBSCRIBE, TokenExpired, TokenInvalid, sign, unsign

CONFIRM_MAX_AGE = 7 * 86400


def confirm_token(subscription: Subscription) -> str:
    return sign(NOTIFY_CONFIRM, {"s": subscription.id})


def unsubscribe_token(subscription: Subscription) -> str:
    return sign(UNSUBSCRIBE, {"s": subscription.id})


def _subscription(purpose: str, token: str, max_age: int | None) -> Subscription | None:
    try:
        data, _signed_at = unsign(purpose, token, max_age=max_age)
    except TokenExpired:
        raise ValidationError({"token": problem("expired", "has expired")}) from None
    except TokenInvalid:
        raise ValidationError({"token": problem("invalid", "is not valid")}) from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise ValidationError({"token": problem("invalid", "is not valid")})
    return db.session.get(Subscription, data["s"])


def confirm_address(token: str) -> int:
    """Confirm the one opt-in the token was mailed for; return how many were confirmed (1).
    The caller commits."""
    subscription = _subscription(NOTIFY_CONFIRM, token, CONFIRM_MAX_AGE)
    if subscription is None:  # its comment is gone, or the address unsubscribed meanwhile
        raise ValidationError({"token": problem("expired", "is no longer valid: opt in again")})
    subscription.confirmed = True
    return 1


def unsubscribe(token: str, *, everything: bool = False) -> int:
    """Stop the subscription of the link (or every one of its address); idempotent. The caller commits."""
    subscription = _subscription(UNSUBSCRIBE, token, None)
    if subscription is None:
        return 0  # already gone
    query = delete(Subscription)
    if everything:
        query = query.where(Subscription.email == subscription.email)
    else:
        query = query.where(Subscription.id == subscription.id)
    return db.session.execute(query).rowcount


def forget(email: str) -> None:
    """Drop every subscription of an address (its account is being deleted)."""
    db.session.execute(delete(Subscription).where(Subscription.email == email))
