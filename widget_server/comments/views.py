"""Allowlist out: what readers may see of a comment.

The public view never carries the e-mail, the IP hash, the source text or the
edit token hash (the moderators' view is moderation/views.py).
"""
from __future__ import annotations

from ..clock import iso
from ..models import DELETED, PENDING, PUBLISHED, Comment
from ..security import avatar_hash

LIKE = "👍"  # a comment's likes are its thumbs-up reactions (comments/reactions.py)


def public_comment(c: Comment, *, state: str | None = None) -> dict:
    """The public view of one comment (without ``replies``, which the tree adds).

    A comment that is not published but must stay as the parent of visible
    replies is shown as a tombstone: no text, no author.
    """
    state = state or c.state
    if state not in (PUBLISHED, PENDING):
        return {
            "id": c.id, "parent_id": c.parent_id, "number": c.number,
            "author": {"name": "", "website": None, "avatar": ""},
            "html": "", "created_at": iso(c.created_at), "edited_at": None,
            "likes": 0, "reactions": {}, "state": DELETED, "pinned": False,
        }
    return {
        "id": c.id, "parent_id": c.parent_id, "number": c.number,
        "author": {"name": c.author, "website": c.website,
                   "avatar": avatar_hash(c.user_id, c.email, c.author, c.ip_hash)}
                  # addition: only posts made under a reader account carry the mark
                  | ({"verified": True} if c.user_id is not None else {})
                  # addition (issue 18): where the account's identity comes from, when not a password
                  | ({"verified_via": c.verified_via} if c.user_id is not None and c.verified_via else {}),
        "html": c.html, "created_at": iso(c.created_at), "edited_at": iso(c.edited_at),
        "likes": c.likes, "state": state, "pinned": bool(c.pinned),
        # addition (issue 19): the counts of each reaction; the thread's tree adds the others
        "reactions": {LIKE: c.likes} if c.likes else {},
    }
