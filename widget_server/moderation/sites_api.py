"""Admin endpoints for the sites themselves (docs/sites.md): list, add, change, remove.

A global admin token does everything. A site's owner sees its own site and changes its settings
(not its origins: they decide which threads are whose); its moderators get 403; another site's
name is 404 for a site's token, as for a site that does not exist (moderation/access.py). The
work is ``sites.service``; each change is an audit entry and is in force on every instance
within a second (sites/registry.py).
"""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from .. import web
from ..errors import ValidationError, problem
from ..extensions import db, rate_limit
from ..sites import service as sites
from ..sites.settings import KEYS
from . import access
from .guard import admin_required, site_scope
from .service import audit

bp = Blueprint("admin_sites_api", __name__, url_prefix="/api/v1/admin/sites")
# Failed authentications spend the same budget as every other admin endpoint's.
rate_limit("RATELIMIT_ADMIN_AUTH", shared_scope="admin-auth",
           deduct_when=lambda response: response.status_code == 401)(bp)


def _strings(data: dict, name: str, errors: dict[str, str]) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 100:
        errors[name] = problem("invalid", "must be a list of at most 100 strings")
        return None
    return value


def _settings(data: dict, errors: dict[str, str]) -> dict:
    value = data.get("settings", {})
    if not isinstance(value, dict):
        errors["settings"] = problem(
            "invalid", "must be an object of site settings, e.g. {\"moderation\": \"all\"}")
        return {}
    return value


def _checked(data: dict) -> tuple[dict, list[str] | None, list[str] | None]:
    errors: dict[str, str] = {}
    settings = _settings(data, errors)
    origins = _strings(data, "origins", errors)
    reset = _strings(data, "reset", errors)
    if errors:
        raise ValidationError(errors)
    return settings, origins, reset


def _changed(action: str, name: str, site_id: int | None, **details) -> None:
    entry = audit(g.admin, action, f"site {name}", **details)
    entry.site_id = site_id
    db.session.commit()
    sites.changed()


@bp.get("")
@admin_required
def list_sites():
    access.require_owner(g.admin)
    only = site_scope()  # a site's owner: its own site; a global token: ?site=, else every site
    rows = [row for row in sites.all_rows() if only is None or row.id == only]
    return jsonify({"sites": [sites.view(row) for row in rows], "keys": list(KEYS)})


@bp.post("")
@admin_required
def add_site():
    access.require_global(g.admin, "add a site")
    data = web.json_body()
    settings, origins, _reset = _checked(data)
    name = data.get("name")
    if not isinstance(name, str):
        raise ValidationError({"name": problem("required", "is required: the site's name, e.g. \"blog\"")})
    row = sites.add(name, origins or [], settings)
    _changed("site-add", name, row.id, origins=origins, settings=sorted(settings))
    return jsonify(sites.view(row)), 201


@bp.get("/<name>")
@admin_required
def get_site(name: str):
    access.check_site_named(g.admin, name)
    access.require_owner(g.admin)
    return jsonify(sites.view(sites.get(name)))


@bp.patch("/<name>")
@admin_required
def change_site(name: str):
    access.check_site_named(g.admin, name)
    access.require_owner(g.admin)
    settings, origins, reset = _checked(web.json_body())
    if origins is not None:
        access.require_global(g.admin, "change a site's origins")
    row = sites.update_site(name, settings, reset or (), origins)
    _changed("site-set", name, row.id, settings=sorted(settings), reset=reset or [],
             origins=origins)
    return jsonify(sites.view(row))


@bp.delete("/<name>")
@admin_required
def remove_site(name: str):
    access.check_site_named(g.admin, name)
    access.require_global(g.admin, "remove a site")
    site_id = sites.removable(name).id
    sites.remove(name)
    _changed("site-remove", name, site_id)
    return Response(status=204)
