"""The write path of a reader's new comment: ``NewComment`` in, a stored comment out.

``post()`` is the whole trip, one numbered step per line, as
``docs/architecture.md`` tells it. Everything after the insert that is not
about the comment itself (reply mail, admin mail, webhooks, opt-ins) happens in
``delivery.events``; the caller commits, so the comment and its after-effects
are stored together or not at all.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import make_transient_to_detached

from .. import clock, fields, names, sites
from ..delivery import events
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..models import MAX_DEPTH, PENDING, PUBLISHED, SPAM, Comment, User
from ..security import ip_hash, new_token, subject_hash, token_hash
from . import locale, screening, threads
from .render import render_visible
from .views import public_comment


@dataclass(frozen=True)
class Client:
    """Who sent the request, as far as the server can tell: for bans, spam rules and Akismet."""

    address: str
    user_agent: str = ""
    referrer: str = ""


@dataclass(frozen=True)
class NewComment:
    """A reader's new comment, every field checked (``parse``), nothing left to guess."""

    url: str
    text: str
    title: str = ""
    parent_id: int | None = None
    author: str = ""
    email: str | None = None
    website: str | None = None
    anonymous: bool = False  # post anonymously while signed in
    notify: bool = False  # reply notifications to ``email``
    lang: str | None = None  # the widget's language, for the mails (None: English)
    form_token: str | None = None  # anti-spam: signed when the thread was read
    honeypot: bool = False  # anti-spam: the hidden field a person never fills in
    held: str | None = None  # why to hold it whatever the moderation mode (the /t form's posts)

    @classmethod
    def parse(cls, data: dict) -> NewComment:
        """Allowlist in: the fields of a POST body; unknown fields are ignored."""
        errors: dict[str, str] = {}
        url = fields.page_url(data.get("url"), errors)
        new = cls(
            url=url or "",
            text=fields.comment_text(data, errors) or "",
            title=fields.title(data, errors),
            parent_id=fields.object_id(data, "parent_id", errors),
            author=fields.author_name(data, errors),
            email=fields.email_field(data, errors),
            website=fields.website(data, errors),
            anonymous=fields.flag(data, "anonymous", errors),
            notify=fields.flag(data, "notify", errors),
            lang=locale.reader_language(data.get("lang")),
            form_token=data["form_token"] if isinstance(data.get("form_token"), str) else None,
            # Anything at all in the honeypot, whatever its type, marks a bot.
            honeypot=data.get("homepage") not in (None, "", False),
        )
        if errors:
            raise ValidationError(errors)
        return new


@dataclass(frozen=True)
class Author:
    """Whom a comment is from, once the identity step has decided."""

    name: str
    email: str | None
    website: str | None
    user_id: int | None
    via: str | None = None  # how the account signed in, for the verified mark (issue 18)


def post(new: NewComment, account: User | None, client: Client,
         idempotency: str | None = None) -> tuple[Comment, str]:
    """Store a reader's new comment; return it with its edit token (shown to the author once).

    The caller commits. Refusals raise ``APIError`` before anything is written. ``idempotency``:
    the hash of the post's Idempotency-Key (``idempotency_hash``), kept so a repeat is answered.
    """
    site = sites.for_url(new.url)  # whose rules: the site the page's origin belongs to
    author = identity(new, account, site)                              # 1. identity
    poster = screening.look_up(client.address, author.email, new.url,  # 2. ban check (on this
                               site.id)                                #    site or every site; and
    shadow = poster.check_not_banned()                                 #    the texts for step 6)
    if poster.locked:                                                  # 3. locked thread
        raise APIError(403, "thread_locked", "this discussion is closed for new comments")
    parent = parent_for(new.url, new.parent_id)                        # 4. parent
    html = render_visible(new.text)                                    # 5. render
    verdict = screening.screen(new, author, html, client, poster, site.config)  # 6. screening
    state, reason = ((SPAM, screening.SHADOW_REASON) if shadow                    # 7. state
                     else verdict or (new.held and (PENDING, new.held))
                     or moderation_state(author.email, site.config, author.user_id))
    token = new_token()  # hashed before the number: on SQLite the bump starts the write lock
    hashes = {"ip_hash": ip_hash(client.address), "edit_token_hash": token_hash(token)}
    thread, number = threads.claim_number(new.url, new.title)          # 8. thread and number
    if thread.locked:  # locked since step 3: refused all the same (the bump is rolled back)
        raise APIError(403, "thread_locked", "this discussion is closed for new comments")
    comment = Comment(                                                 # 9. insert
        thread_id=thread.id, parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0, number=number,
        author=author.name, email=author.email, website=author.website, user_id=author.user_id,
        verified_via=author.via,
        text=new.text, html=html, state=state, held_reason=reason, created_at=clock.now(),
        idempotency_hash=idempotency, **hashes,
    )
    _insert(comment)
    events.comment_created(comment, notify=author.email if new.notify else None,  # 10. event
                           notify_proven=author.user_id is not None,
                           lang=new.lang or (account.lang if account else None))
    if state == PUBLISHED:  # open pages of the thread hear of it (after the commit)
        events.comment_shown(thread.id, "created", public_comment(comment))
    return comment, token


_COMMENTS = Comment.__table__
_INSERT = insert(_COMMENTS).returning(_COMMENTS.c.id)
_COLUMNS = ("thread_id", "parent_id", "depth", "number", "author", "email", "website", "user_id",
            "verified_via", "text", "html", "state", "held_reason", "created_at", "ip_hash",
            "edit_token_hash", "idempotency_hash")


def _insert(comment: Comment) -> None:
    """Store the new comment with one Core INSERT (built once) instead of the ORM's flush, which
    costs more than the statement, and put the object into the session as a loaded row: what
    follows (events, the answer) reads it, and its ``thread`` comes from the session. The columns
    the database fills in (``email_key``, ``revision``) load when read, like after a commit."""
    session = db.session()
    session.flush()  # anything pending goes first, as it did when the comment was flushed
    values = {name: getattr(comment, name) for name in _COLUMNS}
    comment.id = session.connection().execute(_INSERT, values).scalar_one()
    comment.likes, comment.pinned, comment.revision, comment.edited_at = 0, False, 0, None
    comment.import_key = comment.import_hash = None
    make_transient_to_detached(comment)
    session.add(comment)


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,100}")


def idempotency_hash(key: str | None) -> str | None:
    """The stored form of a post's Idempotency-Key header (issue 19: a post the widget sends again
    after the network came back): keyed, like every other reader-supplied identifier."""
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationError({"Idempotency-Key": problem(
            "invalid", "must be 16 to 100 letters, digits, - or _ (a random id)")})
    return subject_hash("idempotency", key)


def earlier_post(key_hash: str | None) -> tuple[Comment, str] | None:
    """The comment already stored under this key, with a new edit token: whoever holds the key
    (a random id only the poster's browser knew) sent it, and the first answer never reached
    them, so the token they never saw is replaced. None if the key is new."""
    if key_hash is None:
        return None
    comment = db.session.execute(
        select(Comment).where(Comment.idempotency_hash == key_hash)).scalar_one_or_none()
    if comment is None:
        return None
    token = new_token()
    comment.edit_token_hash = token_hash(token)
    return comment, token


def identity(new: NewComment, account: User | None, site: sites.Site | None = None) -> Author:
    """Posting as whom: the signed-in account (unless ``anonymous``, or the page's site has
    turned accounts off), or the name given.

    An anonymous post is not linked to the account at all, and may not use a
    registered name.
    """
    site = site or sites.for_url(new.url)
    config = site.config
    if account is not None and (new.anonymous or not site.accounts):
        account = None
    if account is None:
        if not config.get("ANONYMOUS_POSTING", True):
            raise APIError(403, "forbidden", "sign in to comment: anonymous comments are off on this site")
        if new.author and names.is_registered(new.author):
            raise ValidationError({"author": problem("taken", "is a registered name")})
        author = Author(new.author, new.email, new.website, None)
    else:
        author = Author(account.display_name, account.email, new.website, account.id, account.signed_in_via)
    if new.notify:
        if not config.get("SMTP_URL"):
            raise ValidationError({"notify": problem("not_allowed",
                                                     "is not available: this site sends no mail")})
        if not author.email:
            raise ValidationError({"email": problem("required", "is needed for reply notifications")})
    return author


def parent_for(url: str, parent_id: int | None) -> Comment | None:
    """The comment a reply goes under (in the thread of page ``url``); past the depth cap, its
    parent's parent."""
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)  # its thread comes with it (joined)
    if parent is None or parent.thread.url != url or parent.state not in (PUBLISHED, PENDING):
        raise ValidationError({"parent_id": problem("not_found", "does not exist in this thread")})
    if parent.depth >= MAX_DEPTH - 1 and parent.parent_id is not None:
        # Past the depth cap a reply joins its parent's siblings' replies.
        return db.session.get(Comment, parent.parent_id)
    return parent


def moderation_state(email: str | None, config: Mapping[str, object],
                     user_id: int | None = None) -> tuple[str, str | None]:
    """The state WIDGET_MODERATION gives a new comment, and why it is held (if it is).
    A trusted account (``trusted_account``) skips pre-moderation."""
    mode = config["MODERATION"]
    if mode != "off" and user_id is not None and trusted_account(user_id, config):
        return PUBLISHED, None
    if mode == "all":
        return PENDING, "every new comment waits for approval (moderation: all)"
    if mode == "first":
        if not email:
            return PENDING, "no e-mail address, so no approved comment to go by (moderation: first)"
        known = db.session.execute(
            # email_key is lower(email), indexed: one index probe per post.
            select(exists().where(Comment.email_key == email.lower(), Comment.state == PUBLISHED))
        ).scalar()
        if not known:
            return PENDING, "the first comment from this e-mail address (moderation: first)"
    return PUBLISHED, None


def trusted_account(user_id: int, config: Mapping[str, object]) -> bool:
    """An account with ``WIDGET_TRUST_MIN_APPROVED`` published comments and none marked spam.

    Only accounts: their address was proven at sign-up, while anybody can type an e-mail
    address into an anonymous post (which is why ``first`` mode trusts only published ones).
    """
    published, spam = db.session.execute(
        select(func.count().filter(Comment.state == PUBLISHED), func.count().filter(Comment.state == SPAM))
        .where(Comment.user_id == user_id)
    ).one()
    return published >= config["TRUST_MIN_APPROVED"] and not spam
