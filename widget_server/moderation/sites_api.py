"""Admin endpoints for the sites themselves (docs/sites.md): list, add, change, remove.

Global admin tokens only (``site_id`` NULL): a token of one site gets 404 here, as for anything
it may not see. The work is ``sites.service``; each change is an audit entry and is in force on
every instance within a second (sites/registry.py).
"""
from __future__ import annotations

import functools

from flask import Blueprint, Response, g, jsonify

from .. import web
from ..errors import APIError, ValidationError
from ..extensions import db, rate_limit
from ..sites import service as sites
from ..sites.settings import KEYS
from . import auth
from .service import audit

bp = Blueprint("admin_sites_api", __name__, url_prefix="/api/v1/admin/sites")
# Failed authentications spend the same budget as every other admin endpoint's.
rate_limit("RATELIMIT_ADMIN_AUTH", shared_scope="admin-auth",
           deduct_when=lambda response: response.status_code == 401)(bp)


def global_admin_required(view):
    """A valid admin token (401) that is global (404 for a site's token: no hint of other sites)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.admin = auth.authenticate(web.bearer_token())
        if auth.record_use(g.admin):
            db.session.commit()
        if g.admin.site_id is not None:
            raise APIError(404, "not_found", "no such resource")
        return view(*args, **kwargs)

    return wrapper


def _strings(data: dict, name: str, errors: dict[str, str]) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 100:
        errors[name] = "must be a list of at most 100 strings"
        return None
    return value


def _settings(data: dict, errors: dict[str, str]) -> dict:
    value = data.get("settings", {})
    if not isinstance(value, dict):
        errors["settings"] = "must be an object of site settings, e.g. {\"moderation\": \"all\"}"
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
@global_admin_required
def list_sites():
    return jsonify({"sites": [sites.view(row) for row in sites.all_rows()], "keys": list(KEYS)})


@bp.post("")
@global_admin_required
def add_site():
    data = web.json_body()
    settings, origins, _reset = _checked(data)
    name = data.get("name")
    if not isinstance(name, str):
        raise ValidationError({"name": "is required: the site's name, e.g. \"blog\""})
    row = sites.add(name, origins or [], settings)
    _changed("site-add", name, row.id, origins=origins, settings=sorted(settings))
    return jsonify(sites.view(row)), 201


@bp.get("/<name>")
@global_admin_required
def get_site(name: str):
    return jsonify(sites.view(sites.get(name)))


@bp.patch("/<name>")
@global_admin_required
def change_site(name: str):
    settings, origins, reset = _checked(web.json_body())
    row = sites.update_site(name, settings, reset or (), origins)
    _changed("site-set", name, row.id, settings=sorted(settings), reset=reset or [],
             origins=origins)
    return jsonify(sites.view(row))


@bp.delete("/<name>")
@global_admin_required
def remove_site(name: str):
    site_id = sites.removable(name).id
    sites.remove(name)
    _changed("site-remove", name, site_id)
    return Response(status=204)
