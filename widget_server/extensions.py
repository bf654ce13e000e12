"""Extensions, created unbound and initialised in the app factory, and the rate-limit decorator."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .security import client_hash

MIGRATIONS = Path(__file__).parent / "migrations"

# Stable constraint names, so Alembic migrations are the same on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def rate_limit_subject(hashed: str) -> str:
    """A rate-limit key for an already hashed subject. The namespace keeps several
    deployments (or test runs) that share one Redis apart."""
    return f"{current_app.config.get('RATELIMIT_NAMESPACE') or 'widget'}:{hashed}"


def rate_limit_key() -> str:
    """The client, by the address ProxyFix (WIDGET_TRUSTED_PROXIES hops) has made real.

    A client's own X-Forwarded-For is never read. The address is canonical (every
    spelling of it, and every host of an IPv6 /64, is one client) and keyed with the
    instance secret, so the rate-limit storage holds no address.
    """
    return rate_limit_subject(client_hash(request.remote_addr))


limiter = Limiter(key_func=rate_limit_key)


def rate_limit(setting: str, *, shared_scope: str | None = None, **options):
    """Limit a view (or a blueprint) by the ``WIDGET_RATELIMIT_*`` setting named, read per request.

    With ``shared_scope``, every view it decorates spends one budget per client.
    """
    limit = lambda: current_app.config[setting]  # noqa: E731 - read per request: tests change it
    if shared_scope:
        return limiter.shared_limit(limit, scope=shared_scope, **options)
    return limiter.limit(limit, **options)


def _posting_site():
    """The site a post is for: its page's (the JSON body's or the form's ``url``), else its
    Origin's (sites/registry.py, reached through the app: this module sits below it)."""
    found = getattr(request, "_widget_site", None)
    if found is None:
        data = request.get_json(silent=True) if request.is_json else request.form
        url = data.get("url") if hasattr(data, "get") else None
        found = current_app.extensions["widget_sites"].for_page(
            url if isinstance(url, str) else None, request.headers.get("Origin"))
        request._widget_site = found  # asked twice per request: the limit, then the key
    return found


def site_rate_limit(setting: str, *, scope: str, **options):
    """Limit a view per site by its ``setting`` (the site's own, else the server's): every client
    of one site spends one budget, so one site's flood cannot use up another's capacity.
    Views that share ``scope`` share the budget."""
    return limiter.shared_limit(lambda: _posting_site().config[setting], scope=scope,
                                key_func=lambda: rate_limit_subject("site:" + _posting_site().name),
                                **options)


def memo(name: str, limit: int = 8192) -> dict:
    """A per-process dict (in ``app.extensions``) for what the hot path would compute again and
    again: normalized URLs, allowed pages, counts, form tokens, log tags. Emptied past ``limit``."""
    found = current_app.extensions.setdefault(name, {})
    if len(found) > limit:
        found.clear()
    return found
