"""Who may see and do what through the admin API: global tokens and a site's owners and moderators.

A global admin token (``site_id`` NULL) acts on every site, as every token did before sites. A
site's token acts on its own site only, as ``owner`` (everything a moderator does, plus the
site's settings and its moderators' tokens) or ``moderator`` (the queue, bans, locks, pins).

Every row the admin API takes by id is looked up through here. A row of another site answers
exactly what a missing row answers (404 ``not_found``, the same message), so a site's token
learns nothing of other sites, not even that an id is taken. Lists are narrowed with
``where_site``. A role that is not enough is 403 ``forbidden``: the token may know the thing
exists (it is on its own site), it just may not do this to it.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, true

from .. import sites
from ..comments.service import get_or_404
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..models import AdminToken, Ban, Comment, Thread
from ..sites import service as site_service

OWNER = "owner"
MODERATOR = "moderator"
ROLES = (OWNER, MODERATOR)
GLOBAL = "global"  # how a token without a site is shown; never stored


def role(token: AdminToken) -> str:
    return GLOBAL if token.site_id is None else token.role or MODERATOR


def is_global(token: AdminToken) -> bool:
    return token.site_id is None


def site_name(site_id: int | None) -> str | None:
    """The name shown for a row's site (None: every site, for global bans and tokens)."""
    return None if site_id is None else sites.by_id(site_id).name


def thread_site(thread: Thread) -> int | None:
    """The site id a thread belongs to (a thread from before sites: the default site's)."""
    return thread.site_id if thread.site_id is not None else sites.default().id


def forbidden(message: str) -> APIError:
    return APIError(403, "forbidden", message)


def require_owner(token: AdminToken) -> None:
    """Settings and tokens are for global tokens and site owners; a moderator gets 403."""
    if role(token) == MODERATOR:
        raise forbidden("a moderator's token cannot do this: ask the site's owner")


def require_global(token: AdminToken, what: str) -> None:
    if not is_global(token):
        raise forbidden(f"only a global admin token can {what}")


# --- the site a request is about ----------------------------------------------------------------


def scope(token: AdminToken, asked: str | None) -> int | None:
    """The site a list is narrowed to: a site's token always its own (naming another site is 404,
    as an unknown name is); a global token the site it names (``?site=``), else every site (None)."""
    if not is_global(token):
        if asked and asked != site_name(token.site_id):
            raise APIError(404, "not_found", "no such site")  # the same for a site that exists
        return token.site_id
    return site_service.get(asked).id if asked else None


def check_site_named(token: AdminToken, name: str) -> None:
    """A site's token may name its own site only: another site, like a site that does not exist,
    is 404. (A global token names any; the sites service answers for names that are not sites.)"""
    if not is_global(token) and name != site_name(token.site_id):
        raise APIError(404, "not_found", "no such site")


def own_site(token: AdminToken) -> int | None:
    """The site a token is bound to (None: a global token, which sees every site)."""
    return token.site_id


def threads_in(site_id: int | None, column=Thread.site_id) -> ColumnElement[bool]:
    """WHERE clause: threads (or rows of ``column``, a thread's site such as comment_counts')
    of the site (``site_id`` None: all). A thread's NULL site is the default's."""
    return true() if site_id is None else site_service.in_site(site_id, column)


def rows_of(site_id: int | None, column) -> ColumnElement[bool]:
    """WHERE clause for bans, tokens and audit entries, whose NULL site means every site: a site's
    list shows only its own rows, never the global ones."""
    return true() if site_id is None else column == site_id


# --- rows by id, 404 outside the token's site -----------------------------------------------------


def _sees(token: AdminToken, row_site: int | None) -> bool:
    return is_global(token) or row_site == token.site_id


def comment(token: AdminToken, comment_id: int) -> Comment:
    found = get_or_404(comment_id)
    if not _sees(token, thread_site(found.thread)):
        raise APIError(404, "not_found", "no such comment")
    return found


def thread(token: AdminToken, thread_id: int) -> Thread:
    found = db.session.get(Thread, thread_id)
    if found is None or not _sees(token, thread_site(found)):
        raise APIError(404, "not_found", "no such thread")
    return found


def ban(token: AdminToken, ban_id: int) -> Ban:
    found = db.session.get(Ban, ban_id)
    if found is None or not _sees(token, found.site_id):
        raise APIError(404, "not_found", "no such ban")
    return found


def admin_token(token: AdminToken, token_id: int) -> AdminToken:
    found = db.session.get(AdminToken, token_id)
    if found is None or not _sees(token, found.site_id):
        raise APIError(404, "not_found", "no such admin token")
    return found


def ban_site(token: AdminToken, asked: str | None, *, named: bool) -> int | None:
    """Where a new ban applies. A global token: the site it names, else every site (None). A
    site's token: its own site always; a ban on every site (``"site": null``) is 403."""
    if is_global(token):
        return site_service.get(asked).id if asked else None
    if named and asked is None:
        raise forbidden("only a global admin token can ban on every site")
    return scope(token, asked)


def new_token_site(token: AdminToken, asked: str | None,
                   wanted_role: str | None) -> tuple[int | None, str | None]:
    """Where a token being made belongs and its role. A global token makes any token; a site's
    owner makes moderator tokens of its own site only; a moderator makes none (403)."""
    require_owner(token)
    if is_global(token):
        if asked is None:
            if wanted_role is not None:
                raise ValidationError({"role": problem(
                    "not_allowed", "needs a site: a global token has no role")})
            return None, None
        return site_service.get(asked).id, wanted_role or MODERATOR
    site_id = scope(token, asked)
    if (wanted_role or MODERATOR) != MODERATOR:
        raise forbidden("a site's owner can make moderator tokens only")
    return site_id, MODERATOR
