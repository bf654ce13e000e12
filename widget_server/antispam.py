"""Spam rules that need no outside service.

``screen()`` runs on every new comment from a reader, after the ban and lock
checks, and answers one of: refuse (raise ``APIError``), a state to store the
comment in (``spam`` or ``pending``), or ``None`` (let the moderation mode
decide). In order:

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
5. Akismet, only when ``WIDGET_AKISMET_KEY`` is set: spam is stored as spam.

All time checks use ``clock.now()``, so tests can freeze and move time.
"""
from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app, request
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, or_, select

from . import clock
from .errors import APIError
from .extensions import db
from .models import DELETED, PENDING, SPAM, Comment, Thread
from .security import ip_hash

FORM_TOKEN_SALT = "widget-form-token"  # noqa: S105 - a namespace, not a secret
_ANCHOR_RE = re.compile(r"<a\s", re.IGNORECASE)


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the service clock (tests freeze it)."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_TOKEN_SALT,
                                  signer=_ClockSigner)


def form_token(url: str) -> str:
    """A signed token for the (normalized) page ``url``, stamped with the time now."""
    return _serializer().dumps({"u": url})


def extra_fields(data: dict) -> dict:
    """The anti-spam fields of a POST body (``form_token``, ``homepage``), as given."""
    token, homepage = data.get("form_token"), data.get("homepage")
    return {"form_token": token if isinstance(token, str) else None,
            # Anything at all in the honeypot, whatever its type, marks a bot.
            "homepage": homepage not in (None, "", False)}


def check_form_token(token: str | None, url: str) -> None:
    """Refuse a forged, expired, foreign or too young form token (400)."""
    cfg = current_app.config
    if not token:
        if cfg["REQUIRE_FORM_TOKEN"]:
            raise APIError(400, "invalid_form_token",
                           "a form token is required: load the comments first, then post")
        return
    try:
        payload, issued = _serializer().loads(token, return_timestamp=True)
    except BadData:
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


def is_duplicate(thread: Thread, text: str, client_ip: str, email: str | None = None) -> bool:
    """True if this poster sent the same text to this thread within the duplicate window.

    Per poster (address, or e-mail when given): two readers who both write
    "Thanks!" are not spam; one client sending the same text twice is.
    """
    window = current_app.config["SPAM_DUPLICATE_WINDOW"]
    if not window:
        return False
    since = clock.now() - timedelta(seconds=window)
    same_poster = Comment.ip_hash == ip_hash(client_ip)
    if email:
        same_poster = or_(same_poster, func.lower(Comment.email) == email.lower())
    recent = db.session.execute(
        select(Comment.text).where(Comment.thread_id == thread.id, Comment.state != DELETED,
                                   Comment.created_at >= since, same_poster)
    ).scalars()
    wanted = _normalized(text)
    return any(_normalized(other) == wanted for other in recent)


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


def blocked_words() -> tuple[str, ...]:
    cfg = current_app.config
    words = tuple(cfg.get("BLOCKED_WORDS") or ())
    if cfg.get("BLOCKED_WORDS_FILE"):
        words += _read_words_file(cfg["BLOCKED_WORDS_FILE"])
    return words


def blocked_word(fields: dict) -> str | None:
    """The first blocked word found in the text, name, e-mail or website, if any."""
    pattern = _word_pattern(blocked_words())
    if pattern is None:
        return None
    haystack = "\n".join(str(fields.get(k) or "") for k in ("text", "author", "email", "website"))
    found = pattern.search(haystack)
    return found.group(0) if found else None


def screen(fields: dict, html: str, thread: Thread, client_ip: str) -> tuple[str, str] | None:
    """Apply the rules above to a new comment; see the module docstring.

    Returns the state to store and the reason, which the moderation page shows,
    or None when no rule objects.
    """
    if fields.get("homepage"):
        return SPAM, "the hidden honeypot field was filled in (a bot)"
    check_form_token(fields.get("form_token"), fields["url"])
    if is_duplicate(thread, fields["text"], client_ip, fields.get("email")):
        raise APIError(409, "duplicate", "the same text was just posted here; write something of your own")
    cfg = current_app.config
    links = link_count(html)
    if links > cfg["SPAM_MAX_LINKS"]:
        return PENDING, f"{links} links (more than {cfg['SPAM_MAX_LINKS']})"
    word = blocked_word(fields)
    if word:
        return PENDING, f"blocked word \u201c{word}\u201d"
    if cfg.get("AKISMET_KEY"):
        from . import akismet

        if akismet.is_spam(fields, client_ip, request.headers.get("User-Agent", ""),
                           request.headers.get("Referer", "")):
            return SPAM, "Akismet says spam"
    return None
