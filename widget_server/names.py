"""Display names: when two names are "the same" to a reader, and which names are registered.

Anonymous posts and new accounts may not take a registered reader's name
(``User.name_key`` is unique); both the write path and accounts ask here.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import select

from .extensions import db
from .fields import MAX_AUTHOR
from .models import User


def name_key(name: str) -> str:
    """What makes two display names "the same" to a reader.

    NFKC (so full-width and compatibility forms fold), case-folded, with all
    whitespace and invisible format characters (zero-width spaces, joiners,
    direction marks) removed.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch for ch in folded
                   if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    return unicodedata.normalize("NFKC", kept)[:MAX_AUTHOR]


def is_registered(name: str, *, except_user: int | None = None) -> bool:
    """Whether a reader account has this name (or one that looks the same)."""
    key = name_key(name)
    if not key:
        return False
    query = select(User.id).where(User.name_key == key)
    if except_user is not None:
        query = query.where(User.id != except_user)
    return db.session.execute(query.limit(1)).first() is not None
