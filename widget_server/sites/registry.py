"""Every site this server serves, as each process knows them: which site an origin belongs to,
each site's configuration, and the union of their origins (what ``cors`` allows).

The sites are few and read on every request, so each process keeps them in memory and asks the
database, at most every ``CHECK_EVERY`` seconds, one cheap question: did anything change (how
many sites, the sum of their versions, the newest update)? Only then does it read them again.
So a change made through any instance, or by ``widget-server site set``, is in force
everywhere within ``CHECK_EVERY`` seconds plus one query, with no transport that can fail on
its own; a change made here is seen here at once (``invalidate``).

The default site always exists, in the database (the migration makes it) or, where the row is
missing (a database built without the migrations, or emptied by tests), as the configuration
alone: its origins are ``WIDGET_ALLOWED_ORIGINS`` and the server's own, and a page whose origin
no site names belongs to it (so ``*`` keeps working).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .. import hosts
from ..config import accounts_enabled
from ..extensions import db
from ..models import DEFAULT_SITE
from ..models import Site as SiteRow
from ..urls import BadURL, normalize_origin, origin_of
from . import settings

log = logging.getLogger(__name__)

CHECK_EVERY = 0.5  # seconds between "did the sites change?" queries, per process
# While the change feed's thread runs it asks instead, this often: a request finds the sites
# fresh unless that thread was kept from running for CHECK_EVERY - FEED_CHECK_EVERY seconds.
FEED_CHECK_EVERY = 0.2
_STAMP = select(func.count(SiteRow.id), func.coalesce(func.sum(SiteRow.version), 0),
                func.max(SiteRow.updated_at))


@dataclass(frozen=True)
class Site:
    """One site as the code reads it. ``config`` is the mapping to read settings from, in place
    of ``current_app.config``: the site's overrides over the server's values."""

    id: int | None  # None: the default site without a row
    name: str
    origins: tuple[str, ...]  # as stored (the default site also has the configured ones)
    overrides: Mapping[str, str]  # as written, lower-case keys
    version: int
    config: Mapping[str, object] = field(repr=False, compare=False)

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_SITE

    @property
    def accounts(self) -> bool:
        """Reader accounts are the server's (one sign-in for every site): a site can only turn
        them off (``accounts=false``)."""
        server = self.config.maps[1] if isinstance(self.config, ChainMap) else self.config
        return accounts_enabled(server) and self.config.get("ACCOUNTS") not in (False, "false")

    def setting(self, key: str) -> object:
        """One setting by its site key (``moderation``), overridden or the server's."""
        return self.config[key.upper()]


@dataclass(frozen=True)
class Snapshot:
    by_name: dict[str, Site]
    by_id: dict[int, Site]
    by_origin: dict[str, Site]
    default: Site
    allowed: frozenset[str]  # every site's origins, the configured ones and the server's own
    stamp: tuple
    generation: int  # moves on with every reload: caches holding a site's config key on it


def _site(row: SiteRow | None, base: Mapping[str, object], name: str = DEFAULT_SITE) -> Site:
    raw = json.loads(row.settings or "{}") if row else {}
    try:
        parsed = settings.parse_all(raw)
    except settings.SettingError as exc:  # written by hand into the database: keep serving
        log.error("site %s: %s; its other settings apply, this one is the server's", name, exc)
        parsed = {k: settings.parse(k, v) for k, v in raw.items() if _valid(k, v)}
    origins = tuple(json.loads(row.origins or "[]")) if row else ()
    return Site(row.id if row else None, row.name if row else name, origins, dict(raw),
                row.version if row else 0, settings.site_config(parsed, base))


def _valid(key: str, value: object) -> bool:
    try:
        settings.parse(key, value)
    except settings.SettingError:
        return False
    return True


class Registry:
    """One process's sites (``app.extensions["widget_sites"]``)."""

    def __init__(self, app: Flask):
        self.app = app
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._generation = 0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Read the sites again at the next use (a change was made through this process)."""
        self._checked_at = 0.0

    def for_page(self, url: str | None, origin: str | None) -> Site:
        """The site of a page URL, else of an Origin, else the default (for request hooks and
        the rate limiter, which reach the registry through the app). In an app context."""
        return for_url(url) if url else for_origin(origin)

    def fresh(self) -> Snapshot | None:
        """The snapshot if it was checked within ``CHECK_EVERY`` (no query, no app context
        needed), else None: for the read fast path (ops/fastpath.py), which leaves the next
        request to Flask's path when the sites must be asked again."""
        current = self._snapshot
        if current is not None and time.monotonic() - self._checked_at < CHECK_EVERY:
            return current
        return None

    def snapshot(self) -> Snapshot:
        current = self._snapshot
        if current is not None and time.monotonic() - self._checked_at < CHECK_EVERY:
            return current
        return self._check(CHECK_EVERY)

    def keep_fresh(self) -> None:
        """From the change feed's thread, on every turn: ask again well before ``CHECK_EVERY``
        runs out, so that while the feed runs no request finds the sites due and asks the
        database itself (a cached read then asks it nothing at all)."""
        if time.monotonic() - self._checked_at < FEED_CHECK_EVERY:
            return
        with self.app.app_context():
            try:
                self._check(FEED_CHECK_EVERY)
            finally:
                db.session.remove()

    def _check(self, within: float) -> Snapshot:
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._checked_at < within:
                return self._snapshot
            try:
                stamp = tuple(db.session.execute(_STAMP).one())
                if self._snapshot is None or stamp != self._snapshot.stamp:
                    rows = db.session.execute(select(SiteRow).order_by(SiteRow.id)).scalars().all()
                    self._snapshot = self._build(rows, stamp)
            except SQLAlchemyError as exc:  # no sites table yet (before `db upgrade`) or no database
                db.session.rollback()
                if self._snapshot is None:
                    log.debug("sites unreadable (%s): the configuration alone", exc)
                    self._snapshot = self._build([], ("unreadable",))
                else:
                    return self._snapshot  # the last known sites, asked again next time
            self._checked_at = time.monotonic()
            return self._snapshot

    def _build(self, rows, stamp: tuple) -> Snapshot:
        base = self.app.config
        sites = [_site(row, base) for row in rows]
        by_name = {site.name: site for site in sites}
        default = by_name.get(DEFAULT_SITE) or _site(None, base)
        by_name[DEFAULT_SITE] = default
        configured = {o for o in (normalize_origin(str(v)) for v in base.get("ALLOWED_ORIGINS") or ()) if o}
        own = hosts.own_origins(base)
        by_origin: dict[str, Site] = {}
        for site in sites:
            for origin in site.origins:
                by_origin.setdefault(origin, site)
        for origin in configured | own:  # the configuration's origins are the default site's
            by_origin.setdefault(origin, default)
        self._generation += 1
        return Snapshot(by_name, {s.id: s for s in by_name.values() if s.id is not None}, by_origin,
                        default, frozenset(by_origin) | frozenset(configured), stamp, self._generation)


# --- what the rest of the code calls (an app context is enough: no request is read) ----------


def registry() -> Registry:
    return current_app.extensions["widget_sites"]


def current() -> Snapshot:
    return registry().snapshot()


def default() -> Site:
    return current().default


def by_name(name: str) -> Site | None:
    return current().by_name.get(name)


def by_id(site_id: int | None) -> Site:
    """The site of a row's ``site_id`` (NULL, or a site since removed: the default site)."""
    snapshot = current()
    return snapshot.default if site_id is None else snapshot.by_id.get(site_id, snapshot.default)


def for_origin(origin: str | None) -> Site:
    """The site ``origin`` belongs to; the default site for any other (and for none)."""
    snapshot = current()
    normalized = normalize_origin(origin) if origin else None
    return snapshot.by_origin.get(normalized, snapshot.default) if normalized else snapshot.default


def for_url(url: str) -> Site:
    """The site a page belongs to, by its origin."""
    try:
        return for_origin(origin_of(url))
    except BadURL:
        return default()


def for_thread(thread) -> Site:
    """The site a thread belongs to (its ``site_id``)."""
    return by_id(thread.site_id)


def allowed_origins() -> frozenset[str]:
    """Every origin that may have threads here (``*`` among them: any)."""
    return current().allowed


def generation() -> int:
    """Moves on whenever any site changed: part of the keys of caches that hold a site's config."""
    return current().generation


def init_app(app: Flask) -> None:
    app.extensions["widget_sites"] = Registry(app)
