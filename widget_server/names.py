"""Display names: what makes two names "the same" to a reader, and the rules every name follows.

One set of rules for a posted author name, an account's display name and an
imported author name (audit findings 6 and 8): no ``<`` or ``>``, something
visible in it, and, unless it is the account's own, not a registered name.

"The same" is decided by two keys, both after NFKC and with invisible
characters (default-ignorable code points such as U+3164 HANGUL FILLER,
whitespace, controls, format characters, U+2800 BRAILLE PATTERN BLANK) and
combining marks removed:

- ``name_key``: the Unicode confusable skeleton (UTS #39, ICU's SpoofChecker)
  of the case-folded name: ``MARY``, ``Mary``, ``mаry`` (Cyrillic а), ``rnary``
  and ``Máry`` are one name;
- ``name_skeleton``: the skeleton of the name as written, then case-folded, for
  capitals that only look alike before folding (Cyrillic ``М`` and Latin ``M``,
  ``I`` and ``l``).

A name is registered when either key equals that key of an account's name.
"""
from __future__ import annotations

import threading
import unicodedata

import icu
from sqlalchemy import or_, select

from .errors import problem as field_problem
from .extensions import db
from .models import User

MAX_NAME = 100
ANGLE_BRACKETS = field_problem("characters", "must not contain < or >")
NOTHING_VISIBLE = field_problem("invalid", "must contain visible characters")

_INVISIBLE_SET = ("[[:Default_Ignorable_Code_Point:][:White_Space:][:Cc:][:Cf:][:Mn:][:Me:]"
                  "\\u2800\\u3164\\u115f\\u1160\\uffa0]")
_local = threading.local()
_invisible: dict[int, None] | None = None


def _drop_table() -> dict[int, None]:
    """``str.translate`` table that deletes every character of ``_INVISIBLE_SET``."""
    global _invisible
    if _invisible is None:
        found = icu.UnicodeSet(_INVISIBLE_SET)
        table: dict[int, None] = {}
        for i in range(found.getRangeCount()):
            for cp in range(ord(found.getRangeStart(i)), ord(found.getRangeEnd(i)) + 1):
                table[cp] = None
        _invisible = table
    return _invisible


def _skeleton(text: str) -> str:
    checker = getattr(_local, "checker", None)
    if checker is None:  # one per thread: ICU objects are not shared between threads
        checker = _local.checker = icu.SpoofChecker()
    return checker.getSkeleton(0, text)


def _visible(text: str) -> str:
    """NFD with marks and invisible characters removed."""
    return unicodedata.normalize("NFD", text).translate(_drop_table())


def _finish(text: str) -> str:
    return unicodedata.normalize("NFC", _visible(text).casefold())[:MAX_NAME]


def name_key(name: str) -> str:
    """The confusable skeleton of the case-folded name (empty: nothing visible)."""
    folded = _visible(_visible(unicodedata.normalize("NFKC", name)).casefold())
    return _finish(_skeleton(folded)) if folded else ""


def name_skeleton(name: str) -> str:
    """The confusable skeleton of the name as written, case-folded afterwards."""
    shown = _visible(unicodedata.normalize("NFKC", name))
    return _finish(_skeleton(shown)) if shown else ""


def problem(name: str) -> str | None:
    """What is wrong with a non-empty display name, as a field message; None if nothing."""
    if "<" in name or ">" in name:
        return ANGLE_BRACKETS
    if not name_key(name):
        return NOTHING_VISIBLE
    return None


def is_registered(name: str, *, except_user: int | None = None) -> bool:
    """Whether ``name`` looks like the display name of an account (other than ``except_user``)."""
    key, skeleton = name_key(name), name_skeleton(name)
    if not key:
        return False
    query = select(User.id).where(or_(User.name_key == key, User.name_skeleton == skeleton))
    if except_user is not None:
        query = query.where(User.id != except_user)
    return db.session.execute(query.limit(1)).first() is not None


def registered_among(names: list[str]) -> set[str]:
    """Which of ``names`` are registered names (one query; for imports)."""
    keys = {name: (name_key(name), name_skeleton(name)) for name in set(names) if name}
    keys = {name: pair for name, pair in keys.items() if pair[0]}
    if not keys:
        return set()
    rows = db.session.execute(
        select(User.name_key, User.name_skeleton).where(or_(
            User.name_key.in_({k for k, _s in keys.values()}),
            User.name_skeleton.in_({s for _k, s in keys.values()})))
    ).all()
    taken_keys = {r[0] for r in rows}
    taken_skeletons = {r[1] for r in rows}
    return {name for name, (k, s) in keys.items() if k in taken_keys or s in taken_skeletons}


CLEANED = "author names cleaned: < and > removed"
INVISIBLE = "author names left out: nothing visible in them"
REGISTERED = "author names left out: a registered account's name (shown as Anonymous)"


def clean_imported(name: str, registered: set[str]) -> tuple[str, str | None]:
    """An imported author name under the posting rules: cleaned rather than refused, so one
    bad name never stops an import. Returns the name to store and what was done, if anything.
    ``registered``: the names of the batch that ``registered_among`` found."""
    note = None
    if "<" in name or ">" in name:
        name, note = " ".join(name.replace("<", "").replace(">", "").split()), CLEANED
    if name and not name_key(name):
        return "", INVISIBLE
    if name and name in registered:
        return "", REGISTERED
    return name, note
