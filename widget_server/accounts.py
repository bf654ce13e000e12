"""Reader accounts: sign-up with a confirmation link, sessions, password reset, posting as whom.

Accounts are optional (``WIDGET_ACCOUNTS``). Passwords are argon2 hashes;
sessions are bearer tokens (no cookies: the widget runs in third-party
iframes and scripts where cookies are blocked) kept only as SHA-256 hashes:
a short-lived token for requests and a rotating refresh token to renew it.
Sign-in, sign-up and reset answer the same whether or not an address is
registered, and a sign-in for an unknown address still verifies a password
hash, so neither the answer nor its timing tells.

A ``User`` row exists only once its address is confirmed: until then the
wanted name waits in the sign-up ``EmailToken``, so an unconfirmed sign-up
reserves no name. The password is chosen on the confirmation link's page, by
whoever holds the address, so a stranger's sign-up with someone else's address
never gives the stranger a way in (audit finding 6).
"""
from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import Flask, current_app, request
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from . import threads, validation
from .account_models import RESET, SIGNUP, AccountSession, EmailToken, Subscription, User
from .errors import APIError, ValidationError
from .extensions import db
from .hosts import base_url
from .models import DELETED, PENDING, PUBLISHED, Comment, utcnow
from .names import is_registered as name_is_registered
from .names import name_key, name_skeleton, problem
from .security import fingerprint, new_token, token_hash
from .serialize import iso
from .validation import MAX_AUTHOR, _string

log = logging.getLogger(__name__)

PASSWORD_MIN = 8
PASSWORD_MAX = 1000
DELETE_MODES = ("anonymize", "remove")
RESET_MAIL_INTERVAL = timedelta(minutes=1)  # at most one reset mail per account per minute
_DUMMY_PASSWORD = "not a password anyone has: widget-server timing equaliser"  # noqa: S105


# --- settings --------------------------------------------------------------------------------


def enabled() -> bool:
    setting = current_app.config.get("ACCOUNTS", "auto")
    if setting in (True, "true"):
        return True
    if setting in (False, "false"):
        return False
    return bool(current_app.config.get("SMTP_URL"))


def require_enabled() -> None:
    if not enabled():
        raise APIError(404, "not_found", "reader accounts are not enabled on this site")


def public_base() -> str:
    """The server's public base URL for links in mail (no trailing slash): WIDGET_PUBLIC_URL, which
    the server requires whenever it sends mail, never the request's Host (hosts.py)."""
    return base_url()


# --- names and passwords ---------------------------------------------------------------------


# What makes two display names "the same" (confusables, fillers, marks): names.py.


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("widget_password_hasher")
    if hasher is None:
        # Tests may pass argon2.profiles.CHEAPEST; production uses argon2-cffi's defaults (RFC 9106).
        params = current_app.config.get("PASSWORD_HASH_PARAMETERS")
        hasher = PasswordHasher.from_parameters(params) if params else PasswordHasher()
        current_app.extensions["widget_password_hasher"] = hasher
        current_app.extensions["widget_dummy_hash"] = hasher.hash(_DUMMY_PASSWORD)
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Check a password; with ``stored`` None, spend the same time and say no."""
    hasher = _hasher()
    try:
        hasher.verify(stored or current_app.extensions["widget_dummy_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None


# --- validation ------------------------------------------------------------------------------


def _email(data: dict, errors: dict, name: str = "email") -> str | None:
    value = validation.email_field(data, errors, name, required=True)
    return value.lower() if value else None


def _display_name(data: dict, errors: dict) -> str | None:
    value = _string(data, "display_name", errors, max_len=MAX_AUTHOR, required=True)
    if value is None or "display_name" in errors:
        return None
    value = value.strip()
    wrong = problem(value)
    if wrong:
        errors["display_name"] = wrong
    return value


def _password(data: dict, errors: dict, name: str = "password", *, check_strength: bool = True) -> str | None:
    value = data.get(name)
    if value is None:
        errors[name] = "is required"
        return None
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return None
    if "\x00" in value:
        errors[name] = "must not contain control characters"
        return None
    if len(value) > PASSWORD_MAX:
        errors[name] = f"must be at most {PASSWORD_MAX} characters"
        return None
    if check_strength and len(value) < PASSWORD_MIN:
        errors[name] = f"must be at least {PASSWORD_MIN} characters"
        return None
    return value


def _token_field(data: dict, errors: dict) -> str | None:
    value = data.get("token")
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        errors["token"] = "is required"  # noqa: S105 - a message, not a secret
        return None
    return value.strip()


def _check(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# --- views of accounts and sessions ----------------------------------------------------------


def user_view(user: User) -> dict:
    """What the widget shows of the signed-in reader (the address is never echoed)."""
    return {"id": user.id, "display_name": user.display_name, "created_at": iso(user.created_at)}


def _session_body(session: AccountSession, token: str, refresh: str, user: User) -> dict:
    return {"token": token, "token_expires_at": iso(session.expires_at),
            "refresh_token": refresh, "refresh_expires_at": iso(session.refresh_expires_at),
            "user": user_view(user)}


def _lifetimes() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(seconds=cfg["SESSION_LIFETIME"]), timedelta(seconds=cfg["REFRESH_LIFETIME"])


def _start_session(user: User) -> dict:
    token, refresh = new_token(), new_token()
    lifetime, refresh_lifetime = _lifetimes()
    now = utcnow()
    session = AccountSession(user_id=user.id, token_hash=token_hash(token), refresh_hash=token_hash(refresh),
                             created_at=now, expires_at=now + lifetime,
                             refresh_expires_at=now + refresh_lifetime)
    db.session.add(session)
    db.session.flush()
    return _session_body(session, token, refresh, user)


def _unauthorized(message: str) -> APIError:
    return APIError(401, "unauthorized", message,
                    headers={"WWW-Authenticate": 'Bearer realm="widget-server", error="invalid_token"'})


def bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_session() -> tuple[AccountSession, User]:
    """The request's session and account, or 401 (then: refresh, or sign in again)."""
    require_enabled()
    token = bearer_token()
    if token is None:
        raise APIError(401, "unauthorized", "sign in first: Authorization: Bearer <session token>",
                       headers={"WWW-Authenticate": 'Bearer realm="widget-server"'})
    session = db.session.execute(
        select(AccountSession).where(AccountSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if session is None or session.revoked_at is not None or session.expires_at <= utcnow():
        raise _unauthorized("the session has expired or was ended: refresh it or sign in again")
    return session, db.session.get(User, session.user_id)


def posting_account() -> User | None:
    """For POST /comments: the signed-in account, None without a bearer token (or accounts off)."""
    if not enabled() or bearer_token() is None:
        return None
    return current_session()[1]


# --- posting as whom -------------------------------------------------------------------------


def apply_identity(fields: dict) -> None:
    """Decide who a reader's new comment is from; called first thing in comments.create.

    Acts only on posts from the reader API (``fields`` has the key ``account``,
    a ``User`` or None): imports and other internal callers are left alone.
    A signed-in reader posts under the account (name and address from it)
    unless ``anonymous`` is true; an anonymous post is not linked to the
    account at all. Anonymous posts may not use a registered name.
    """
    if "account" not in fields:
        return
    user = fields["account"]
    if user is not None and fields.get("anonymous"):
        user = fields["account"] = None
    if user is None:
        if not current_app.config.get("ANONYMOUS_POSTING", True):
            raise APIError(403, "forbidden", "sign in to comment: anonymous comments are off on this site")
        if fields.get("author") and name_is_registered(fields["author"]):
            raise ValidationError({"author": "is a registered name"})
        fields["user_id"] = None
    else:
        fields.update(author=user.display_name, email=user.email, user_id=user.id)
    if fields.get("notify"):
        if not current_app.config.get("SMTP_URL"):
            raise ValidationError({"notify": "is not available: this site sends no mail"})
        if not fields.get("email"):
            raise ValidationError({"email": "is needed for reply notifications"})


# --- sign-up and confirmation ----------------------------------------------------------------


def _new_email_token(purpose: str, email: str, lifetime: int, *, user_id: int | None = None,
                     payload: dict | None = None) -> str:
    token = new_token()
    now = utcnow()
    db.session.add(EmailToken(purpose=purpose, email=email, user_id=user_id, token_hash=token_hash(token),
                              payload=json.dumps(payload or {}), created_at=now,
                              expires_at=now + timedelta(seconds=lifetime)))
    return token


def _valid_email_token(purpose: str, token: str) -> EmailToken:
    row = db.session.execute(
        select(EmailToken).where(EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ValidationError({"token": "is invalid, used or expired: ask for a new link"})
    return row


def _user_by_email(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()


def signup(data: dict) -> None:
    """Start a sign-up: mail a confirmation link (or, for a known address, a notice).

    No password yet: it is chosen on the link's page, once the address is proven. A
    ``password`` in the body is ignored (older widgets send one).
    """
    from . import mail

    errors: dict[str, str] = {}
    email = _email(data, errors)
    name = _display_name(data, errors)
    _check(errors)
    if name_is_registered(name):
        raise ValidationError({"display_name": "is already taken"})
    known = _user_by_email(email) is not None
    lifetime = current_app.config["CONFIRM_LINK_LIFETIME"]
    # A token either way, so a registered address costs the same work (its confirmation answers 409).
    token = _new_email_token(SIGNUP, email, lifetime, payload={"display_name": name})
    if known:
        mail.enqueue(email, "signup-known", "Someone tried to sign up with your address", [
            ("p", "Someone (perhaps you) tried to create a comments account with this address, "
                  "but it already has one."),
            ("p", "If it was you: sign in with your password, or ask for a new one with "
                  "\"Forgot password?\". If it was not you, ignore this mail: nothing has changed."),
        ])
        return
    mail.enqueue(email, "signup", "Confirm your comments account", [
        ("p", f"Hello {name}, please confirm this address to finish creating your comments account."),
        ("link", "Confirm my address and choose a password",
         f"{public_base()}/account/confirm?token={token}"),
        ("p", f"The link works once, for {_duration(lifetime)}. If you did not sign up, ignore this "
              "mail: no account is created."),
    ])


def confirm_signup(data: dict) -> User:
    """Use a sign-up link with the password its holder chose: create the account. The link works once."""
    errors: dict[str, str] = {}
    token = _token_field(data, errors)
    password = _password(data, errors)
    _check(errors)  # a missing or short password leaves the link usable
    row = _valid_email_token(SIGNUP, token)
    row.used_at = utcnow()
    if _user_by_email(row.email) is not None:
        db.session.commit()
        raise APIError(409, "conflict", "this address already has an account: sign in")
    payload = json.loads(row.payload)
    name = payload["display_name"]
    if name_is_registered(name):
        db.session.commit()
        raise ValidationError({"display_name": "was taken in the meantime: sign up again with another name"})
    user = User(email=row.email, display_name=name, name_key=name_key(name),
                name_skeleton=name_skeleton(name), password_hash=hash_password(password), created_at=utcnow())
    db.session.add(user)
    # Every other pending sign-up for this address is void now.
    db.session.execute(update(EmailToken)
                       .where(EmailToken.email == row.email, EmailToken.purpose == SIGNUP,
                              EmailToken.used_at.is_(None))
                       .values(used_at=utcnow(), payload="{}"))
    row.payload = "{}"
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent confirmation won the race
        db.session.rollback()
        raise APIError(409, "conflict", "this address or name was just registered: sign in") from None
    return user


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("s" if days != 1 else "")
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


# --- sign-in, refresh, sign-out --------------------------------------------------------------


def sign_in_address(data: dict) -> str:
    """The address a sign-in names, as ``login`` looks it up ("" if it is not one): what
    the per-account limit on failed sign-ins counts by, account or not."""
    return _email(data, {}) or ""


def login(data: dict) -> dict:
    errors: dict[str, str] = {}
    email = _email(data, errors)
    password = _password(data, errors, check_strength=False)
    _check(errors)
    user = _user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        raise APIError(401, "unauthorized", "wrong e-mail address or password")
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return _start_session(user)


def refresh(data: dict) -> dict:
    """Trade a refresh token for a new token pair (the old pair stops working)."""
    value = data.get("refresh_token")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"refresh_token": "is required"})
    session = db.session.execute(
        select(AccountSession).where(AccountSession.refresh_hash == token_hash(value.strip()))
    ).scalar_one_or_none()
    now = utcnow()
    if session is None or session.revoked_at is not None or session.refresh_expires_at <= now:
        raise _unauthorized("this session cannot be renewed: sign in again")
    token, new_refresh = new_token(), new_token()
    lifetime, refresh_lifetime = _lifetimes()
    session.token_hash, session.refresh_hash = token_hash(token), token_hash(new_refresh)
    session.expires_at, session.refresh_expires_at = now + lifetime, now + refresh_lifetime
    return _session_body(session, token, new_refresh, db.session.get(User, session.user_id))


def logout(session: AccountSession) -> None:
    session.revoked_at = utcnow()


def _revoke_sessions(user_id: int, *, keep: int | None = None) -> None:
    query = update(AccountSession).where(AccountSession.user_id == user_id,
                                         AccountSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AccountSession.id != keep)
    db.session.execute(query.values(revoked_at=utcnow()))


# --- forgotten passwords ---------------------------------------------------------------------


def _password_fingerprint(password_hash: str | None) -> str:
    """A keyed digest of the password hash (the dummy one for no account): a reset link
    carries it, so the link dies as soon as the password changes, by whatever way."""
    _hasher()
    return fingerprint("reset", password_hash or current_app.extensions["widget_dummy_hash"])


def forgot(data: dict) -> None:
    """Mail a reset link if the address has an account.

    The answer and the work are the same either way (audit finding 6): the same
    statements run, a token is stored and a mail composed and queued; for an address
    without an account the token can reset nothing and the mail is kept unsent, with
    neither the address nor the text (``mail.enqueue(send=False)``).
    """
    from . import mail

    errors: dict[str, str] = {}
    email = _email(data, errors)
    _check(errors)
    user = _user_by_email(email)
    now = utcnow()
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
    mail.enqueue(email, "reset", "Reset your comments password", [
        ("p", f"Hello {name}, someone (hopefully you) asked to reset the password of "
              "your comments account."),
        ("link", "Choose a new password", f"{public_base()}/account/reset?token={token}"),
        ("p", f"The link works once, for {_duration(lifetime)}. If you did not ask, ignore this mail: "
              "your password stays as it is."),
    ], send=user is not None)


def reset_password(data: dict) -> User:
    errors: dict[str, str] = {}
    token = _token_field(data, errors)
    password = _password(data, errors)
    _check(errors)
    row = _valid_email_token(RESET, token)
    user = db.session.get(User, row.user_id) if row.user_id else None
    carried = str(json.loads(row.payload or "{}").get("fp", ""))
    if user is None or not hmac.compare_digest(carried, _password_fingerprint(user.password_hash)):
        raise ValidationError({"token": "is invalid, used or expired: ask for a new link"})
    now = utcnow()
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
    name = _display_name(data, errors) if "display_name" in data else None
    password = _password(data, errors) if "password" in data else None
    if name is None and password is None and not errors:
        errors["display_name"] = "give display_name and/or password"
    if password is not None:
        current = _password(data, errors, "current_password", check_strength=False)
        if current is not None and not verify_password(user.password_hash, current):
            errors["current_password"] = "is wrong"  # noqa: S105 - a message
    _check(errors)
    if name is not None and name != user.display_name:
        if name_is_registered(name, except_user=user.id):
            raise ValidationError({"display_name": "is already taken"})
        user.display_name, user.name_key, user.name_skeleton = name, name_key(name), name_skeleton(name)
        mine = [c for c in _user_comments(user.id) if c.state != DELETED]
        for comment in mine:
            comment.author = name
        _touch_threads(mine)
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
        _revoke_sessions(user.id, keep=session.id)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ValidationError({"display_name": "is already taken"}) from None
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
        "exported_at": iso(utcnow()),
        "account": {"id": user.id, "email": user.email, "display_name": user.display_name,
                    "created_at": iso(user.created_at), "password_changed_at": iso(user.password_changed_at)},
        "comments": [{"id": c.id, "url": c.thread.url, "title": c.thread.title, "number": c.number,
                      "parent_id": c.parent_id, "state": c.state, "text": c.text, "website": c.website,
                      "created_at": iso(c.created_at), "edited_at": iso(c.edited_at), "likes": c.likes}
                     for c in comments if c.state != DELETED],
        "reply_notifications": [{"comment_id": s.comment_id, "confirmed": bool(s.confirmed),
                                 "created_at": iso(s.created_at)} for s in subscriptions],
        "sessions": [{"created_at": iso(s.created_at), "expires_at": iso(s.expires_at),
                      "refresh_expires_at": iso(s.refresh_expires_at), "revoked_at": iso(s.revoked_at)}
                     for s in sessions],
    }


def delete_account(user: User, data: dict) -> None:
    """Delete the account; its comments become anonymous or are removed, as the reader chose."""
    from . import comments as comment_service

    errors: dict[str, str] = {}
    password = _password(data, errors, check_strength=False)
    mode = data.get("comments")
    if mode not in DELETE_MODES:
        errors["comments"] = "must be anonymize or remove"
    _check(errors)
    if not verify_password(user.password_hash, password):
        raise ValidationError({"password": "is wrong"})
    mine = _user_comments(user.id)
    for comment in mine:
        if mode == "remove" and comment.state in (PUBLISHED, PENDING):
            comment_service.remove(comment)
        elif comment.state != DELETED:
            comment.author = ""
            comment.email = comment.website = None
        comment.user_id = None
    _touch_threads(mine)
    db.session.flush()  # comments are unlinked before the user row goes
    db.session.execute(delete(Subscription).where(Subscription.email == user.email))
    db.session.execute(delete(AccountSession).where(AccountSession.user_id == user.id))
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user.id))
    db.session.execute(delete(EmailToken).where(EmailToken.email == user.email))
    db.session.delete(user)


def init_app(app: Flask) -> None:
    """Blueprints for accounts and mail links, the outbox sender, webhook settings."""
    from . import mail, webhooks
    from .api import accounts as accounts_api

    webhooks.init_app(app)
    mail.init_app(app)
    app.register_blueprint(accounts_api.bp)
    app.register_blueprint(accounts_api.pages)
