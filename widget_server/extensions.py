"""Extensions, created unbound and initialised in the app factory."""
from __future__ import annotations

from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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
    from flask import current_app

    return f"{current_app.config.get('RATELIMIT_NAMESPACE') or 'widget'}:{hashed}"


def rate_limit_key() -> str:
    """The client, by the address ProxyFix (WIDGET_TRUSTED_PROXIES hops) has made real.

    A client's own X-Forwarded-For is never read. The address is canonical (every
    spelling of it, and every host of an IPv6 /64, is one client) and keyed with the
    instance secret, so the rate-limit storage holds no address.
    """
    from flask import request

    from .security import client_hash

    return rate_limit_subject(client_hash(request.remote_addr))


limiter = Limiter(key_func=rate_limit_key)
