"""Who may post, and spam rules that need no outside service.

``look_up()`` is step 2 of ``post()`` (one query: the bans, and the texts for rule 3).
``screen()`` (step 6) runs on every new comment from a reader, after the ban and lock checks, and answers one
of: refuse (raise ``APIError``), a state to store the comment in (``spam`` or
``pending``), or ``None`` (let the moderation mode decide). In order:

1. honeypot: a filled-in ``homepage`` field (hidden from people) is stored as
   spam and answered like a held comment (202), so a bot learns nothing;
2. form token: signed by the server when it hands out the thread (header
   ``X-Form-Token``), carrying the page URL and the time it was issued.
   Forged, expired or for another page: 400 ``invalid_form_token``. Younger than
   ``WIDGET_SPAM_MIN_SECONDS``: 400 ``too_fast``. Missing: accepted unless
   ``WIDGET_REQUIRE_FORM_TOKEN`` is true (API.md's POST has no token);
3. the same text from the same poster (address or e-mail) in the same thread
   within ``WIDGET_SPAM_DUPLICATE_WINDOW``:
   409 ``duplicate``;
4. more than ``WIDGET_SPAM_MAX_LINKS`` links, or a blocked word: held (pending);
5. the learning filter (``learning.py``), trained by the moderators: above
   ``WIDGET_FILTER_THRESHOLD``, held with its score;
6. Akismet, only when ``WIDGET_AKISMET_KEY`` is set: spam is stored as spam.

All time checks use ``clock.now()``, so tests can freeze and move time.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, cast, literal, null, or_, select, union_all

from .. import clock
from ..errors import APIError
from ..extensions import db
from ..models import DELETED, PENDING, SPAM, Ban, Comment, FilterToken, Thread
from ..security import FORM_TOKEN, TokenInvalid, ip_hashes, sign, unsign
from . import akismet, learning

if TYPE_CHECKING:
    from .post import Author, Client, NewComment

_ANCHOR_RE = re.compile(r"<a\s", re.IGNORECASE)


def form_token(url: str) -> str:
    """A signed token for the (normalized) page ``url``, stamped with the time now."""
    return sign(FORM_TOKEN, {"u": url})


# --- bans ------------------------------------------------------------------------------------


# What a shadow-banned poster's comment is held as (spam), and how its author's view knows it.
SHADOW_REASON = "shadow ban: shown to its author only"


@dataclass
class Poster:
    """What the database knows of a poster, from one query (``look_up``): the bans that apply
    (``shadow`` flags) and the texts they sent to the page within the duplicate window."""

    bans: list[bool]
    recent_texts: list[str]
    locked: bool = False  # the page's thread is closed for new comments (no thread yet: False)
    learned: tuple[int, int] = (0, 0)  # how many spam and genuine comments the filter has learned

    def check_not_banned(self) -> bool:
        """Refuse a banned poster (403); True if the poster is shadow-banned (post, but unseen).
        A real ban goes before a shadow one."""
        if False in self.bans:
            raise APIError(403, "banned", "you cannot comment here")
        return bool(self.bans)

    def is_duplicate(self, text: str) -> bool:
        """True if this poster sent the same text to this page within the duplicate window.

        Per poster (address, or e-mail when given): two readers who both write
        "Thanks!" are not spam; one client sending the same text twice is.
        """
        wanted = _normalized(text)
        return any(_normalized(other) == wanted for other in self.recent_texts)


# One statement, four parts told apart by ``what``: the bans that apply, the poster's recent texts
# to the page, whether its thread is locked, and how much the learning filter has learned (an
# untrained filter then asks nothing more). Built once; the address's two hashes are two
# parameters, not an expanding list, which SQLAlchemy would rebuild the statement for each time.
_NO_COUNT = cast(null(), Integer)
_BANS = (select(literal("ban").label("what"), Ban.shadow.label("shadow"), null().label("text"),
                _NO_COUNT.label("spam"), _NO_COUNT.label("ham"))
         .where(or_(and_(Ban.kind == "ip", Ban.value.in_([bindparam("ip"), bindparam("ip_spelled")])),
                    and_(Ban.kind == "email", Ban.value == bindparam("email"))),
                or_(Ban.expires_at.is_(None), Ban.expires_at > bindparam("now")),
                # a ban on every site, or on the page's site (sites)
                or_(Ban.site_id.is_(None), Ban.site_id == bindparam("site_id"))))
_RECENT = (select(literal("text").label("what"), null().label("shadow"), Comment.text.label("text"),
                  _NO_COUNT, _NO_COUNT)
           .join(Thread, Thread.id == Comment.thread_id)
           .where(Thread.url == bindparam("url"), Comment.state != DELETED,
                  Comment.created_at >= bindparam("since"),
                  or_(Comment.ip_hash == bindparam("ip"), Comment.email_key == bindparam("email"))))
_LOCKED = (select(literal("thread").label("what"), Thread.locked.label("shadow"), null().label("text"),
                  _NO_COUNT, _NO_COUNT)
           .where(Thread.url == bindparam("url")))
_LEARNED = (select(literal("learned").label("what"), null().label("shadow"), null().label("text"),
                   FilterToken.spam, FilterToken.ham)
            .where(FilterToken.token == learning.DOCS))
_POSTER = union_all(_BANS, _RECENT, _LOCKED, _LEARNED)
_POSTER_NO_WINDOW = union_all(_BANS, _LOCKED, _LEARNED)


def look_up(client_address: str, email: str | None, url: str, site_id: int | None = None) -> Poster:
    """Bans (on every site or on ``site_id``), recent texts of a poster to ``url``'s thread,
    whether that thread is locked and what the learning filter has learned, in one statement:
    the ban and lock checks (steps 2 and 3 of ``post()``) and the duplicate rule and the filter
    (``screen``) ask the database once."""
    window = current_app.config["SPAM_DUPLICATE_WINDOW"]
    now = clock.now()
    email_key = email.strip().lower() if email else None
    ip, spelled = ip_hashes(client_address)
    params = {"ip": ip, "ip_spelled": spelled, "email": email_key, "now": now, "site_id": site_id,
              "url": url}
    if window:
        params["since"] = now - timedelta(seconds=window)
    # On the session's connection: a Core statement needs no ORM pass, and nothing is pending yet.
    rows = db.session.connection().execute(_POSTER if window else _POSTER_NO_WINDOW, params).all()
    learned = next(((row.spam, row.ham) for row in rows if row.what == "learned"), (0, 0))
    return Poster([bool(row.shadow) for row in rows if row.what == "ban"],
                  [row.text for row in rows if row.what == "text"],
                  any(row.shadow for row in rows if row.what == "thread"), learned)


def shadowed(comment) -> bool:
    """A shadow-banned poster's comment: its author is shown it as published, nobody else sees it."""
    return comment.state == SPAM and comment.held_reason == SHADOW_REASON


# --- the rules -------------------------------------------------------------------------------


def check_form_token(token: str | None, url: str) -> None:
    """Refuse a forged, expired, foreign or too young form token (400)."""
    cfg = current_app.config
    if not token:
        if cfg["REQUIRE_FORM_TOKEN"]:
            raise APIError(400, "invalid_form_token",
                           "a form token is required: load the comments first, then post")
        return
    try:
        payload, issued = unsign(FORM_TOKEN, token)
    except TokenInvalid:
        raise APIError(400, "invalid_form_token",
                       "the form token is not valid; reload the comments and try again") from None
    if not isinstance(payload, dict) or payload.get("u") != url:
        raise APIError(400, "invalid_form_token", "the form token belongs to another page")
    age = (clock.now() - issued).total_seconds()
    if age > cfg["FORM_TOKEN_MAX_AGE"]:
        raise APIError(400, "invalid_form_token",
                       "the form token has expired; reload the comments and try again")
    minimum = cfg["SPAM_MIN_SECONDS"]
    if age < minimum:
        raise APIError(400, "too_fast",
                       f"that was quick: please wait at least {minimum} seconds after opening "
                       "the page before posting, then send again")


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def link_count(html: str) -> int:
    """Links in the rendered comment (Markdown links and linkified bare URLs alike)."""
    return len(_ANCHOR_RE.findall(html))


@lru_cache(maxsize=8)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    words = tuple(w for w in (w.strip().casefold() for w in words) if w)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _read_words_file(path: str) -> tuple[str, ...]:
    lines = Path(path).read_text("utf-8").splitlines()
    return tuple(line.split("#", 1)[0].strip() for line in lines)


def blocked_words(cfg: Mapping[str, object] | None = None) -> tuple[str, ...]:
    """The site's blocked words (``cfg``: its config; the server's by default) and the file's,
    which apply on every site."""
    cfg = current_app.config if cfg is None else cfg
    words = tuple(cfg.get("BLOCKED_WORDS") or ())
    if cfg.get("BLOCKED_WORDS_FILE"):
        words += _read_words_file(cfg["BLOCKED_WORDS_FILE"])
    return words


def blocked_word(text: str, author: Author, cfg: Mapping[str, object] | None = None) -> str | None:
    """The first blocked word found in the text, name, e-mail or website, if any."""
    pattern = _word_pattern(blocked_words(cfg))
    if pattern is None:
        return None
    haystack = "\n".join((text, author.name, author.email or "", author.website or ""))
    found = pattern.search(haystack)
    return found.group(0) if found else None


def screen(new: NewComment, author: Author, html: str, client: Client, poster: Poster,
           cfg: Mapping[str, object] | None = None) -> tuple[str, str] | None:
    """Apply the rules above to a new comment; see the module docstring. ``cfg``: the config of
    the thread's site (``sites``), the server's by default.

    Returns the state to store and the reason, which the moderation page shows,
    or None when no rule objects.
    """
    if new.honeypot:
        return SPAM, "the hidden honeypot field was filled in (a bot)"
    check_form_token(new.form_token, new.url)
    if poster.is_duplicate(new.text):
        raise APIError(409, "duplicate", "the same text was just posted here; write something of your own")
    cfg = current_app.config if cfg is None else cfg
    links = link_count(html)
    if links > cfg["SPAM_MAX_LINKS"]:
        return PENDING, f"{links} links (more than {cfg['SPAM_MAX_LINKS']})"
    word = blocked_word(new.text, author, cfg)
    if word:
        return PENDING, f"blocked word \u201c{word}\u201d"
    if cfg["FILTER"] == "on":
        judged = learning.score(new.text, html, author.name, author.email, author.website,
                                learned=poster.learned)
        if judged is not None and judged.score >= cfg["FILTER_THRESHOLD"]:
            return PENDING, judged.reason
    if cfg.get("AKISMET_KEY") and akismet.is_spam(new, author, client):
        return SPAM, "Akismet says spam"
    return None
