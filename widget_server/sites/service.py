"""Adding, changing and removing sites (the ``site`` commands and /api/v1/admin/sites).

Each function checks everything before it writes anything and leaves the commit to the caller;
after the commit the caller calls ``changed()`` so this process reads the sites again at once
(every other process sees the change within ``registry.CHECK_EVERY`` seconds).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, func, or_, select, update

from .. import clock
from ..config_values import plain_http_url
from ..errors import APIError, ValidationError, problem
from ..extensions import db
from ..models import DEFAULT_SITE, Thread
from ..models import Site as SiteRow
from ..urls import normalize_origin
from . import registry, settings

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def get(name: str) -> SiteRow:
    """The site called ``name``, or 404 ``not_found``."""
    row = db.session.execute(select(SiteRow).where(SiteRow.name == name)).scalar_one_or_none()
    if row is None:
        raise APIError(404, "not_found", f"no site called {name!r}")
    return row


def default_row() -> SiteRow:
    """The default site's row, made now if the database has none (one not made by the
    migrations): its threads are those with no site yet, whatever its id."""
    row = db.session.execute(select(SiteRow).where(SiteRow.name == DEFAULT_SITE)).scalar_one_or_none()
    if row is None:
        now = clock.now()
        row = SiteRow(name=DEFAULT_SITE, origins="[]", settings="{}", version=1, created_at=now,
                      updated_at=now)
        db.session.add(row)
        db.session.flush()
    return row


def all_rows() -> list[SiteRow]:
    return list(db.session.execute(select(SiteRow).order_by(SiteRow.id)).scalars())


def in_site(site_id: int | None, column=Thread.site_id):
    """A WHERE clause for the rows of a site: the default site's also has every NULL (rows
    written before sites, or without the migration's default row)."""
    default = registry.default()
    if site_id is None or site_id == default.id:
        return or_(column.is_(None), column == default.id) if default.id is not None else column.is_(None)
    return column == site_id


def thread_count(site_id: int | None) -> int:
    return db.session.execute(select(func.count()).select_from(Thread).where(in_site(site_id))).scalar_one()


def origins_of(raw: Iterable[object]) -> list[str]:
    """Each origin checked and normalized (``scheme://host[:port]``), without duplicates."""
    found, bad = [], []
    for value in raw:
        text = str(value).strip()
        origin = normalize_origin(text) if plain_http_url(text, path=False) else None
        if origin is None:
            bad.append(text)
        elif origin not in found:
            found.append(origin)
    if bad:
        why = f"{bad[0]!r} is not an origin: write scheme://host[:port], e.g. https://blog.example"
        raise ValidationError({"origins": problem("invalid", why)}, why)  # the value names itself
    return found


def _taken(origins: list[str], but: int | None) -> None:
    for row in all_rows():
        if row.id == but:
            continue
        clash = set(origins) & set(json.loads(row.origins or "[]"))
        if clash:
            raise APIError(409, "origin_taken", f"{sorted(clash)[0]} already belongs to site {row.name!r}")


def _settings(current: Mapping[str, str], changes: Mapping[str, object], reset: Iterable[str]) -> dict:
    merged = dict(current)
    errors: dict[str, str] = {}
    for key in reset:
        if key not in settings.KEYS:
            errors[key] = problem("not_allowed", f"is not a site setting; one of: {', '.join(settings.KEYS)}")
        merged.pop(key, None)
    for key, value in changes.items():
        try:
            settings.parse(key, value)
            merged[key] = settings.as_text(value).strip()
        except settings.SettingError as exc:
            errors[key] = str(exc).removeprefix(f"{key!r} ").removeprefix(f"{key} ")  # named by its key
    if errors:
        raise ValidationError(errors, "; ".join(f"{key} {problem}" for key, problem in errors.items()))
    try:
        settings.check_together(settings.parse_all(merged), registry.registry().app.config)
    except settings.SettingError as exc:
        raise ValidationError({"settings": str(exc)}, str(exc)) from None
    return merged


def _move_threads(origins: Iterable[str], to: int | None, source: int | None) -> int:
    """Threads on pages of ``origins`` go from the site ``source`` to the site ``to``."""
    moved = 0
    for origin in origins:
        page = or_(Thread.url == origin, Thread.url.startswith(origin + "/", autoescape=True))
        moved += db.session.execute(update(Thread).where(in_site(source), page).values(site_id=to)
                                    .execution_options(synchronize_session=False)).rowcount or 0
    return moved


def add(name: str, origins: Iterable[object], changes: Mapping[str, object] | None = None) -> SiteRow:
    """A new site with its origins (and settings); the threads already on its origins move to it
    from the default site. The caller commits."""
    if not NAME.match(name or ""):
        raise ValidationError({"name": problem(
            "invalid", "must be 1-64 lower-case letters, digits, - or _ (starting with a letter or digit)")})
    if db.session.execute(select(SiteRow.id).where(SiteRow.name == name)).first() or name == DEFAULT_SITE:
        raise APIError(409, "site_exists", f"a site called {name!r} already exists")
    found = origins_of(origins)
    if not found:
        raise ValidationError({"origins": problem(
            "required", "a site needs at least one origin (--origin https://blog.example)")})
    _taken(found, None)
    merged = _settings({}, changes or {}, ())
    now = clock.now()
    row = SiteRow(name=name, origins=json.dumps(found), settings=json.dumps(merged, sort_keys=True),
                  version=1, created_at=now, updated_at=now)
    db.session.add(row)
    db.session.flush()
    _move_threads(found, row.id, registry.default().id)
    return row


def update_site(name: str, changes: Mapping[str, object] | None = None, reset: Iterable[str] = (),
                origins: Iterable[object] | None = None) -> SiteRow:
    """Change a site's settings (``reset``: back to the server's value) and, if given, its
    origins (threads follow their pages' origins). The caller commits."""
    row = default_row() if name == DEFAULT_SITE else get(name)
    merged = _settings(json.loads(row.settings or "{}"), changes or {}, reset)
    if origins is not None:
        found = origins_of(origins)
        if not found and name != DEFAULT_SITE:
            raise ValidationError({"origins": problem("required", "a site needs at least one origin")})
        _taken(found, row.id)
        before = set(json.loads(row.origins or "[]"))
        if name != DEFAULT_SITE:
            _move_threads(sorted(before - set(found)), registry.default().id, row.id)
            _move_threads(sorted(set(found) - before), row.id, registry.default().id)
        row.origins = json.dumps(found)
    row.settings = json.dumps(merged, sort_keys=True)
    row.version += 1
    row.updated_at = clock.now()
    return row


def removable(name: str) -> SiteRow:
    """The site called ``name`` if it is one that can be removed (not the default), else 409/404."""
    if name == DEFAULT_SITE:
        raise APIError(409, "default_site", "the default site cannot be removed")
    return get(name)


def remove(name: str) -> None:
    """Remove a site that has no threads (export and delete them first). The caller commits."""
    row = removable(name)
    threads = thread_count(row.id)
    if threads:
        raise APIError(409, "site_has_threads", f"site {name!r} still has {threads} thread(s): export "
                       "them first (widget-server site remove NAME --export FILE)",
                       extra={"threads": str(threads)})
    db.session.delete(row)


def delete_data(site_id: int) -> int:
    """Delete a site's threads (their comments, likes, reports and subscriptions go with them,
    by the foreign keys), its own tokens and bans and its undelivered webhooks, once they are
    exported. The audit log stays. Returns the number of threads. The caller commits."""
    if site_id is None or site_id == registry.default().id:
        raise APIError(409, "default_site", "the default site's data is not deleted this way")
    tables = db.metadata.tables
    threads = db.session.execute(delete(Thread).where(Thread.site_id == site_id)
                                 .execution_options(synchronize_session=False)).rowcount or 0
    for name in ("admin_tokens", "bans"):
        db.session.execute(delete(tables[name]).where(tables[name].c.site_id == site_id))
    deliveries = tables["webhook_deliveries"]
    db.session.execute(delete(deliveries).where(deliveries.c.site_id == site_id,
                                                deliveries.c.sent_at.is_(None)))
    return threads


def view(row: SiteRow, *, threads: bool = True) -> dict:
    """A site as the API and ``site list`` show it (secrets only as "(set)")."""
    body = {"name": row.name, "origins": json.loads(row.origins or "[]"),
            "settings": settings.shown(json.loads(row.settings or "{}")), "version": row.version,
            "updated_at": clock.iso(row.updated_at)}
    if threads:
        body["threads"] = thread_count(row.id)
    return body


def changed() -> None:
    """After the caller's commit: this process reads the sites again at its next use."""
    registry.registry().invalidate()
