"""Reader accounts: sign-up with a confirmation link, sign-in, password reset, the account itself.

Accounts are optional (``WIDGET_ACCOUNTS``). Passwords are argon2 hashes
(identity.py, which also keeps the sessions). Sign-in, sign-up and reset answer
the same whether or not an address is registered.

A ``User`` row exists only once its address is confirmed: until then the
wanted name waits in the sign-up ``EmailToken``, so an unconfirmed sign-up
reserves no name. The password is chosen on the confirmation link's page, by
whoever holds the address, so a stranger's sign-up with someone else's address
never gives the stranger a way in (audit finding 6).

Every function leaves its changes in the session: the caller commits.
"""
from __future__ import annotations

import hmac
import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock, names
from ..clock import iso
from ..comments import locale, threads
from ..comments import service as comments
from ..delivery import events
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..hosts import base_url
from ..models import (
    DELETED,
    PENDING,
    PUBLISHED,
    RESET,
    SIGNUP,
    AccountSession,
    Comment,
    EmailToken,
    Identity,
    SignInFlow,
    Subscription,
    User,
)
from ..security import fingerprint, new_token, token_hash
from . import checks, external, texts
from .identity import (
    hash_password,
    hasher,
    lifetimes,
    session_body,
    start_session,
    unauthorized,
    verify_password,
)

DELETE_MODES = ("anonymize", "remove")
RESET_MAIL_INTERVAL = timedelta(minutes=1)  # at most one reset mail per account per minute


# --- sign-up and confirmation ----------------------------------------------------------------


def _new_email_token(purpose: str, email: str, lifetime: int, *, user_id: int | None = None,
                     payload: dict | None = None) -> str:
    token = new_token()
    now = clock.now()
    db.session.add(EmailToken(purpose=purpose, email=email, user_id=user_id, token_hash=token_hash(token),
                              payload=json.dumps(payload or {}), created_at=now,
                              expires_at=now + timedelta(seconds=lifetime)))
    return token


def _valid_email_token(purpose: str, token: str) -> EmailToken:
    row = db.session.execute(
        select(EmailToken).where(EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise ValidationError({"token": problem("expired",
                                                "is invalid, used or expired: ask for a new link")})
    return row


def _user_by_email(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()


def signup(data: dict) -> None:
    """Start a sign-up: mail a confirmation link (or, for a known address, a notice).

    No password yet: it is chosen on the link's page, once the address is proven. A
    ``password`` in the body is ignored (older widgets send one).
    """
    errors: dict[str, str] = {}
    email = checks.email(data, errors)
    name = checks.display_name(data, errors)
    came_from = checks.return_url(data, errors)
    checks.check(errors)
    if names.is_registered(name):
        raise ValidationError({"display_name": problem("taken", "is already taken")})
    known, lang = _user_by_email(email), locale.reader_language(data.get("lang"))
    lifetime = current_app.config["CONFIRM_LINK_LIFETIME"]
    # A token either way, so a registered address costs the same work (its confirmation answers 409).
    payload = {"display_name": name, "lang": lang} | ({"return_url": came_from} if came_from else {})
    token = _new_email_token(SIGNUP, email, lifetime, payload=payload)
    if known:
        events.account_mail(email, *texts.signup_for_known_address(lang or known.lang))
        return
    link = f"{base_url()}/account/confirm?token={token}"
    events.account_mail(email, *texts.signup(name, link, lifetime, lang))


def signup_return_url(token: str) -> str | None:
    """The page a sign-up came from (checked when it was asked for), while its link is unused."""
    try:
        row = _valid_email_token(SIGNUP, token)
    except ValidationError:
        return None
    url = json.loads(row.payload or "{}").get("return_url")
    return url if isinstance(url, str) else None


def confirm_signup(data: dict) -> User:
    """Use a sign-up link with the password its holder chose: create the account. The link works once."""
    errors: dict[str, str] = {}
    token = checks.token_field(data, errors)
    password = checks.password(data, errors)
    checks.check(errors)  # a missing or short password leaves the link usable
    row = _valid_email_token(SIGNUP, token)
    row.used_at = clock.now()
    if _user_by_email(row.email) is not None:
        db.session.commit()
        raise APIError(409, "conflict", "this address already has an account: sign in")
    payload = json.loads(row.payload)
    name = payload["display_name"]
    if names.is_registered(name):
        db.session.commit()
        raise ValidationError({"display_name": problem(
            "taken", "was taken in the meantime: sign up again with another name")})
    user = User(email=row.email, display_name=name, name_key=names.name_key(name),
                name_skeleton=names.name_skeleton(name), password_hash=hash_password(password),
                created_at=clock.now(), lang=payload.get("lang"))  # the account mails' language
    db.session.add(user)
    # Every other pending sign-up for this address is void now.
    db.session.execute(update(EmailToken)
                       .where(EmailToken.email == row.email, EmailToken.purpose == SIGNUP,
                              EmailToken.used_at.is_(None))
                       .values(used_at=clock.now(), payload="{}"))
    row.payload = "{}"
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent confirmation won the race
        db.session.rollback()
        raise APIError(409, "conflict", "this address or name was just registered: sign in") from None
    return user


# --- sign-in, refresh, sign-out --------------------------------------------------------------


def sign_in_address(data: dict) -> str:
    """The address a sign-in names, as ``login`` looks it up ("" if it is not one): what
    the per-account limit on failed sign-ins counts by, account or not."""
    return checks.email(data, {}) or ""


def login(data: dict) -> dict:
    errors: dict[str, str] = {}
    email = checks.email(data, errors)
    password = checks.password(data, errors, check_strength=False)
    checks.check(errors)
    user = _user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        raise APIError(401, "unauthorized", "wrong e-mail address or password")
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return start_session(user)


def refresh(data: dict) -> dict:
    """Trade a refresh token for a new token pair (the old pair stops working)."""
    value = data.get("refresh_token")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"refresh_token": problem("required", "is required")})
    session = db.session.execute(
        select(AccountSession).where(AccountSession.refresh_hash == token_hash(value.strip()))
    ).scalar_one_or_none()
    now = clock.now()
    if session is None or session.revoked_at is not None or session.refresh_expires_at <= now:
        raise unauthorized("this session cannot be renewed: sign in again")
    token, new_refresh = new_token(), new_token()
    lifetime, refresh_lifetime = lifetimes()
    session.token_hash, session.refresh_hash = token_hash(token), token_hash(new_refresh)
    session.expires_at, session.refresh_expires_at = now + lifetime, now + refresh_lifetime
    return session_body(session, token, new_refresh, db.session.get(User, session.user_id))


def logout(session: AccountSession) -> None:
    session.revoked_at = clock.now()


def _revoke_sessions(user_id: int, *, keep: int | None = None) -> None:
    query = update(AccountSession).where(AccountSession.user_id == user_id,
                                         AccountSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AccountSession.id != keep)
    db.session.execute(query.values(revoked_at=clock.now()))


# --- forgotten passwords ---------------------------------------------------------------------


def _password_fingerprint(password_hash: str | None) -> str:
    """A keyed digest of the password hash (the dummy one for no account): a reset link
    carries it, so the link dies as soon as the password changes, by whatever way."""
    hasher()
    return fingerprint("reset", password_hash or current_app.extensions["widget_dummy_hash"])


def forgot(data: dict) -> None:
    """Mail a reset link if the address has an account.

    The answer and the work are the same either way (audit finding 6): the same
    statements run, a token is stored and a mail composed and queued; for an address
    without an account the token can reset nothing and the mail is kept unsent, with
    neither the address nor the text (``events.account_mail(send=False)``).
    """
    errors: dict[str, str] = {}
    email = checks.email(data, errors)
    checks.check(errors)
    user = _user_by_email(email)
    now = clock.now()
    recent = db.session.execute(
        select(func.count(EmailToken.id)).where(EmailToken.email == email, EmailToken.purpose == RESET,
                                                EmailToken.created_at > now - RESET_MAIL_INTERVAL)
    ).scalar_one()
    if recent:
        return  # one mail a minute per address is enough; the rate limit caps the rest
    # Tokens of addresses without an account only serve that throttle: gone once expired.
    db.session.execute(delete(EmailToken).where(EmailToken.purpose == RESET, EmailToken.user_id.is_(None),
                                                EmailToken.expires_at <= now))
    lifetime = current_app.config["RESET_LINK_LIFETIME"]
    token = _new_email_token(RESET, email, lifetime, user_id=user.id if user else None,
                             payload={"fp": _password_fingerprint(user.password_hash if user else None)})
    name = user.display_name if user else "reader"
    link = f"{base_url()}/account/reset?token={token}"
    lang = locale.reader_language(data.get("lang")) or (user.lang if user else None)
    events.account_mail(email, *texts.reset(name, link, lifetime, lang), send=user is not None)


def reset_password(data: dict) -> User:
    errors: dict[str, str] = {}
    token = checks.token_field(data, errors)
    password = checks.password(data, errors)
    checks.check(errors)
    row = _valid_email_token(RESET, token)
    user = db.session.get(User, row.user_id) if row.user_id else None
    carried = str(json.loads(row.payload or "{}").get("fp", ""))
    if user is None or not hmac.compare_digest(carried, _password_fingerprint(user.password_hash)):
        raise ValidationError({"token": problem("expired",
                                                "is invalid, used or expired: ask for a new link")})
    now = clock.now()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    db.session.execute(update(EmailToken)
                       .where(EmailToken.user_id == user.id, EmailToken.purpose == RESET,
                              EmailToken.used_at.is_(None))
                       .values(used_at=now))
    _revoke_sessions(user.id)  # whoever knew the old password is signed out
    return user


# --- the account itself ----------------------------------------------------------------------


def _user_comments(user_id: int) -> list[Comment]:
    return list(db.session.execute(
        select(Comment).where(Comment.user_id == user_id).order_by(Comment.id)
    ).scalars())


def _touch_threads(comments: list[Comment]) -> None:
    for thread_id in sorted({c.thread_id for c in comments}):
        threads.touch(thread_id)


def update_account(session: AccountSession, user: User, data: dict) -> User:
    """Change the display name (also on the account's comments) and/or the password."""
    errors: dict[str, str] = {}
    name = checks.display_name(data, errors) if "display_name" in data else None
    password = checks.password(data, errors) if "password" in data else None
    if name is None and password is None and not errors:
        errors["display_name"] = problem("required", "give display_name and/or password")
    if password is not None and user.password_hash is not None:  # a first password needs none
        current = checks.password(data, errors, "current_password", check_strength=False)
        if current is not None and not verify_password(user.password_hash, current):
            errors["current_password"] = problem("wrong", "is wrong")  # noqa: S105 - a message
    checks.check(errors)
    if name is not None and name != user.display_name:
        if names.is_registered(name, except_user=user.id):
            raise ValidationError({"display_name": problem("taken", "is already taken")})
        user.display_name = name
        user.name_key, user.name_skeleton = names.name_key(name), names.name_skeleton(name)
        mine = [c for c in _user_comments(user.id) if c.state != DELETED]
        for comment in mine:
            comment.author = name
        _touch_threads(mine)
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = clock.now()
        _revoke_sessions(user.id, keep=session.id)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ValidationError({"display_name": problem("taken", "is already taken")}) from None
    return user


def export(user: User) -> dict:
    """Everything stored about the account ("download my data")."""
    comments = _user_comments(user.id)
    subscriptions = db.session.execute(
        select(Subscription).where(Subscription.email == user.email).order_by(Subscription.id)
    ).scalars()
    sessions = db.session.execute(
        select(AccountSession).where(AccountSession.user_id == user.id).order_by(AccountSession.id)
    ).scalars()
    return {
        "exported_at": iso(clock.now()),
        "account": {"id": user.id, "email": user.email, "display_name": user.display_name,
                    "created_at": iso(user.created_at), "password_changed_at": iso(user.password_changed_at)},
        "comments": [{"id": c.id, "url": c.thread.url, "title": c.thread.title, "number": c.number,
                      "parent_id": c.parent_id, "state": c.state, "text": c.text, "website": c.website,
                      "created_at": iso(c.created_at), "edited_at": iso(c.edited_at), "likes": c.likes}
                     for c in comments if c.state != DELETED],
        "reply_notifications": [{"comment_id": s.comment_id, "confirmed": bool(s.confirmed),
                                 "created_at": iso(s.created_at)} for s in subscriptions],
        "sessions": [{"created_at": iso(s.created_at), "expires_at": iso(s.expires_at),
                      "refresh_expires_at": iso(s.refresh_expires_at), "revoked_at": iso(s.revoked_at),
                      "via": s.via} for s in sessions],
        "identities": external.export(user),
    }


def delete_account(user: User, data: dict) -> None:
    """Delete the account; its comments become anonymous or are removed, as the reader chose."""
    errors: dict[str, str] = {}
    # An account without a password (providers only) is deleted on its session alone.
    password = checks.password(data, errors, check_strength=False) if user.password_hash else None
    mode = data.get("comments")
    if mode not in DELETE_MODES:
        errors["comments"] = problem("invalid", "must be anonymize or remove")
    checks.check(errors)
    if user.password_hash and not verify_password(user.password_hash, password):
        raise ValidationError({"password": problem("wrong", "is wrong")})
    mine = _user_comments(user.id)
    for comment in mine:
        if mode == "remove" and comment.state in (PUBLISHED, PENDING):
            comments.remove(comment)
        elif comment.state != DELETED:
            comment.author = ""
            comment.email = comment.website = None
        comment.user_id = None
    _touch_threads(mine)
    db.session.flush()  # comments are unlinked before the user row goes
    if user.email:
        events.account_deleted(user.email)
        db.session.execute(delete(EmailToken).where(EmailToken.email == user.email))
    db.session.execute(delete(AccountSession).where(AccountSession.user_id == user.id))
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user.id))
    db.session.execute(delete(Identity).where(Identity.user_id == user.id))
    db.session.execute(delete(SignInFlow).where(SignInFlow.user_id == user.id))
    db.session.delete(user)
