"""Accounts reached through an identity: a provider's account, or the host site's own login.

One account can have a password, several providers and an SSO identity. An
identity the server has not seen before makes a new account, except:

- while a signed-in reader links it (``link_to``): it joins that account;
- when its e-mail address is an existing account's: only a provider that says
  the address is verified may join it, and only once the reader confirms
  (``Confirm``); otherwise the sign-in is refused and nothing changes. The host
  site's login never joins an existing account this way: its new account simply
  does not take the address.

The last way into an account cannot be unlinked. Every function leaves its
changes in the session: the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, names
from ..clock import iso
from ..errors import APIError
from ..extensions import db
from ..models import Identity, User
from .identity import start_session

FALLBACK_NAME = "Reader"


@dataclass(frozen=True)
class Asserted:
    """What a provider (or the host site) says of the reader, checked by its caller."""

    provider: str  # a WIDGET_OIDC_PROVIDERS name, or "sso"
    label: str  # the provider's name for the verified mark: "Mastodon"
    subject: str  # its stable id for the reader
    name: str  # the display name it suggests
    handle: str | None = None  # public: "@ann@example.social"; never an e-mail address
    email: str | None = None
    email_verified: bool = False

    @property
    def via(self) -> str:
        return f"via {self.label}, {self.handle}" if self.handle else f"via {self.label}"


@dataclass(frozen=True)
class Confirm:
    """The identity's verified address is an existing account's: the reader must say yes first."""

    user: User


def _identity(provider: str, subject: str) -> Identity | None:
    return db.session.execute(
        select(Identity).where(Identity.provider == provider, Identity.subject == subject)
    ).scalar_one_or_none()


def _owner_of(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def free_name(wanted: str) -> str:
    """A display name under the rules (names.py) that no account has yet: the provider's, or
    it with a number after it."""
    base = " ".join(wanted.replace("<", "").replace(">", "").split())[:90]
    if not base or names.problem(base):
        base = FALLBACK_NAME
    candidate, number = base, 1
    while names.is_registered(candidate):
        number += 1
        candidate = f"{base} ({number})"
    return candidate


def _attach(user: User, asserted: Asserted) -> Identity:
    found = Identity(user_id=user.id, provider=asserted.provider, subject=asserted.subject,
                     handle=asserted.handle, email=asserted.email, created_at=clock.now(),
                     last_used_at=clock.now())
    db.session.add(found)
    try:
        db.session.flush()
    except IntegrityError:  # the same identity, linked by a concurrent request
        db.session.rollback()
        raise APIError(409, "conflict",
                       f"this {asserted.label} account was just linked: sign in again") from None
    return found


def _new_account(asserted: Asserted, email: str | None) -> User:
    name = free_name(asserted.name)
    user = User(email=email, display_name=name, name_key=names.name_key(name),
                name_skeleton=names.name_skeleton(name), password_hash=None, created_at=clock.now())
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise APIError(409, "conflict", "this name or address was just taken: try again") from None
    return user


def sign_in(asserted: Asserted, *, link_to: User | None = None) -> dict | Confirm:
    """A session for the reader the identity belongs to (see the module's rules), or ``Confirm``."""
    known = _identity(asserted.provider, asserted.subject)
    if known is not None:
        if link_to is not None and known.user_id != link_to.id:
            raise APIError(409, "conflict", f"this {asserted.label} account is linked to another account")
        known.last_used_at = clock.now()
        known.handle = asserted.handle or known.handle
        return start_session(db.session.get(User, known.user_id), asserted.via)
    if link_to is not None:
        _attach(link_to, asserted)
        return start_session(link_to, asserted.via)
    email = (asserted.email or "").strip().lower() or None
    owner = _owner_of(email) if email else None
    if owner is not None:
        if asserted.provider == "sso":
            email = None  # the site's reader gets an account of their own, without the address
        elif asserted.email_verified:
            return Confirm(owner)
        else:
            raise APIError(409, "conflict", "an account already has this e-mail address, and "
                           f"{asserted.label} does not say the address is verified: sign in to that "
                           f"account, then link {asserted.label} from its panel")
    user = _new_account(asserted, email if (email and asserted.email_verified) else None)
    _attach(user, asserted)
    return start_session(user, asserted.via)


def confirm_link(user: User, asserted: Asserted) -> dict:
    """The reader said yes: link the identity to the account that has its verified address."""
    if not asserted.email_verified or (asserted.email or "").strip().lower() != user.email:
        raise APIError(409, "conflict", "this sign-in cannot be linked to that account")
    if _identity(asserted.provider, asserted.subject) is not None:
        raise APIError(409, "conflict", f"this {asserted.label} account is already linked")
    _attach(user, asserted)
    return start_session(user, asserted.via)


def ways_in(user: User) -> int:
    count = db.session.execute(
        select(func.count(Identity.id)).where(Identity.user_id == user.id)).scalar_one()
    return count + (user.password_hash is not None)


def unlink(user: User, identity_id: int) -> None:
    """Remove one identity of the account, unless it is the last way in."""
    found = db.session.get(Identity, identity_id)
    if found is None or found.user_id != user.id:
        raise APIError(404, "not_found", "this account has no such sign-in")
    if ways_in(user) <= 1:
        raise APIError(409, "conflict", "this is the only way into the account: set a password or link "
                       "another sign-in first")
    db.session.delete(found)


def export(user: User) -> list[dict]:
    """The account's identities, for "download my data"."""
    rows = db.session.execute(
        select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)).scalars()
    return [{"provider": i.provider, "subject": i.subject, "handle": i.handle, "email": i.email,
             "created_at": iso(i.created_at), "last_used_at": iso(i.last_used_at)} for i in rows]
