"""The admin API's door: the bearer token of the request, and the site a list is asked for.

HTTP glue shared by the admin blueprints (moderation/api.py, moderation/tokens_api.py and the
sites API): they cannot import one another (only ``create_app`` imports an api module).
"""
from __future__ import annotations

import functools

from flask import g, request

from .. import web
from ..extensions import db
from ..models import AdminToken
from . import access, auth


def admin_required(view):
    """Authenticate the bearer token (401 otherwise) and keep it in ``g.admin`` for the view."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.admin = auth.authenticate(web.bearer_token())
        if auth.record_use(g.admin):
            db.session.commit()
        return view(*args, **kwargs)

    return wrapper


def admin() -> AdminToken:
    """The token this request authenticated with (inside an ``admin_required`` view)."""
    return g.admin


def site_scope() -> int | None:
    """The site this request's lists show: ``?site=NAME`` for a global token (absent: every site);
    a site's token always its own site (another site's name: 404)."""
    return access.scope(g.admin, request.args.get("site") or None)
