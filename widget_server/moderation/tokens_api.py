"""Admin endpoints for who may moderate: the token's own view (``/me``) and admin tokens.

A global token lists, makes and revokes any token; a site's owner the moderator tokens of its
own site; a moderator none (403). Tokens are shown once, when made, and stored as hashes only.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify
from sqlalchemy import select

from .. import clock, sites, web
from ..errors import ValidationError, problem
from ..extensions import db, rate_limit
from ..models import AdminToken
from . import access, auth
from .guard import admin_required, site_scope
from .service import audit
from .views import token_view

bp = Blueprint("admin_tokens_api", __name__, url_prefix="/api/v1/admin")
# The same budget of failed authentications as every other admin endpoint (moderation/api.py).
rate_limit("RATELIMIT_ADMIN_AUTH", shared_scope="admin-auth",
           deduct_when=lambda response: response.status_code == 401)(bp)

MAX_NAME = 100


@bp.get("/me")
@admin_required
def me():
    """The token itself and the sites it sees: what the moderation page shows and offers."""
    token = g.admin
    names = ([s.name for s in sites.current().by_name.values()] if access.is_global(token)
             else [access.site_name(token.site_id)])
    return jsonify({"token": token_view(token), "sites": sorted(names)})


@bp.get("/tokens")
@admin_required
def list_tokens():
    access.require_owner(g.admin)
    rows = db.session.execute(select(AdminToken).where(access.rows_of(site_scope(), AdminToken.site_id))
                              .order_by(AdminToken.id)).scalars()
    return jsonify({"tokens": [token_view(t) for t in rows]})


def _new_token_fields(data: dict) -> tuple[str, str | None, str | None]:
    errors: dict[str, str] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        errors["name"] = problem("invalid",
                                 f"must be a name of 1 to {MAX_NAME} characters (who uses the token)")
    site = data.get("site")
    if site is not None and not isinstance(site, str):
        errors["site"] = problem("invalid", "must be a site's name, or null for a global token")
    role = data.get("role")
    if role is not None and role not in access.ROLES:
        errors["role"] = problem("invalid", "must be one of " + ", ".join(access.ROLES))
    if errors:
        raise ValidationError(errors)
    return " ".join(name.split()), site, role


@bp.post("/tokens")
@admin_required
def create_token():
    name, site, role = _new_token_fields(web.json_body())
    site_id, role = access.new_token_site(g.admin, site, role)
    row, secret = auth.create(name, site_id, role)
    audit(g.admin, "token", f"token {row.id}", name=name, role=access.role(row), site_id=site_id)
    db.session.commit()
    return jsonify({"token": token_view(row), "secret": secret}), 201


@bp.delete("/tokens/<int:token_id>")
@admin_required
def revoke_token(token_id: int):
    web.bodyless()
    access.require_owner(g.admin)
    row = access.admin_token(g.admin, token_id)
    if not access.is_global(g.admin) and access.role(row) != access.MODERATOR:
        raise access.forbidden("a site's owner can revoke moderator tokens only")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit(g.admin, "revoke", f"token {row.id}", name=row.name, role=access.role(row), site_id=row.site_id)
    db.session.commit()
    return Response(status=204)
