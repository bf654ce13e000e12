"""widget-server: self-hosted threaded comments for any page.

``create_app()`` is the only entry point; nothing happens at import time.
"""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config as config_module

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _database_url(configured: str | None, instance_path: Path) -> str:
    if not configured:
        return f"sqlite:///{instance_path / 'comments.db'}"
    # A bare postgres URL means psycopg 3, the driver this project ships with.
    for prefix in ("postgres://", "postgresql://"):
        if configured.startswith(prefix):
            return "postgresql+psycopg://" + configured[len(prefix):]
    return configured


def _owner_only(path: Path, mode: int) -> None:
    """Take group and other access away from our own file or folder (not from a shared one like /tmp)."""
    try:
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.geteuid() and not info.st_mode & stat.S_ISVTX:
            path.chmod(mode)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc)


def _private_instance(instance: Path) -> None:
    # It holds the secret key and the SQLite file: only the service's user may look inside.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(instance, 0o700)


def _private_sqlite_file(database_uri: str) -> None:
    """Create the SQLite file 0600 before SQLite would (0644 under the usual umask); its -wal and
    -shm files take the database file's mode."""
    url = make_url(database_uri)
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if existing.exists():
                _owner_only(existing, 0o600)
    except OSError as exc:  # a folder that does not exist yet: SQLite will say so more clearly
        log.warning("cannot create %s: %s", path, exc)


def _sqlite_pragmas(engine) -> None:
    # WAL lets readers work while one writer writes; busy_timeout makes a
    # second writer wait instead of failing with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class _NoSessions(SessionInterface):
    def open_session(self, app, request):
        return None  # Flask then uses its read-only NullSession

    def save_session(self, app, session, response):
        return None


class _IdConverter(IntegerConverter):
    """Ids past the 32-bit column range become 0, an id no row has (they start at 1).

    Refusing them here instead would make werkzeug answer 405, not 404, when another
    method's rule shares the path (it matches methods before it converts values).
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= 2**31 - 1 else 0


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    settings = config_module.load()
    if test_config:
        settings.update(test_config)
    config_module.check(settings)

    instance_path = settings.get("INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                static_folder=None)
    app.config.update(settings)
    instance = Path(app.instance_path)
    _private_instance(instance)

    app.config["SECRET_KEY"] = settings.get("SECRET_KEY") or config_module.secret_key(instance)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(settings.get("DATABASE_URL"), instance)
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    # Pre-ping finds connections a database restart broke; an SQLite file has none to break,
    # and the extra query per request was measurable (docs/performance.md).
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          {"pool_pre_ping": not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")})
    app.config["MAX_CONTENT_LENGTH"] = settings.get("MAX_CONTENT_LENGTH") or 64 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.config.update(
        RATELIMIT_ENABLED=settings["RATELIMIT_ENABLED"],
        RATELIMIT_STORAGE_URI=settings.get("REDIS_URL") or "memory://",
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        # A Redis that hangs must not hang requests: give up after a second, fall back to memory.
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1},
    )
    logging.getLogger("widget_server").setLevel(str(settings.get("LOG_LEVEL") or "INFO").upper())

    hops = int(settings["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from .extensions import db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_pragmas(db.engine)

    from .read_cache import ReadCache

    app.extensions["widget_read_cache"] = ReadCache()

    from . import cors, errors, hosts, observability

    errors.init_app(app)
    hosts.init_app(app)  # before observability: its request id stays the first thing of every request
    observability.init_app(app)
    cors.init_app(app)

    # Readers need no cookies and nothing here uses Flask's cookie session:
    # skip opening (and signing) one on every request.
    app.session_interface = _NoSessions()

    @app.after_request
    def _no_body_no_type(response):
        # 204 and 304 carry no body, so no Content-Type either (Flask defaults to text/html).
        if response.status_code in (204, 304):
            response.headers.pop("Content-Type", None)
        return response

    from . import admin_page, assets
    from .api import admin, meta, reader
    from .feeds import bp as feeds_bp

    # Every <int:...> in our routes is a database id: ids past the 32-bit column
    # range are a 404 like any other missing id, never a database error.
    app.url_map.converters["int"] = _IdConverter

    for blueprint in (reader.bp, admin.bp, meta.bp, assets.bp, admin_page.bp, feeds_bp):
        app.register_blueprint(blueprint)

    from . import accounts  # reader accounts, mail outbox, webhooks (docs/accounts.md)

    accounts.init_app(app)
    return app
