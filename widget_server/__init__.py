"""widget-server: self-hosted threaded comments for any page.

``create_app()`` is the only entry point; nothing happens at import time. It
reads the configuration, binds the extensions, installs the request hooks
(in the order they run) and registers every blueprint, in one list.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config as config_module
from . import instance, sqlite_setup

__all__ = ["create_app"]


class _NoSessions(SessionInterface):
    """Readers need no cookies and nothing here uses Flask's cookie session:
    skip opening (and signing) one on every request."""

    def open_session(self, app, request):
        return None  # Flask then uses its read-only NullSession

    def save_session(self, app, session, response):
        return None


class _IdConverter(IntegerConverter):
    """Every <int:...> in our routes is a database id: ids past the 32-bit column
    range become 0, an id no row has (they start at 1), so they are a 404 like any
    other missing id, never a database error. Refusing them here instead would make
    werkzeug answer 405 when another method's rule shares the path (it matches
    methods before it converts values)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= 2**31 - 1 else 0


def _no_body_no_type(response):
    # 204 and 304 carry no body, so no Content-Type either (Flask defaults to text/html).
    if response.status_code in (204, 304):
        response.headers.pop("Content-Type", None)
    return response


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    # 1. configuration: the WIDGET_* settings, then what Flask and its extensions read
    settings = config_module.load()
    if test_config:
        settings.update(test_config)
    config_module.check(settings)
    instance_path = config_module.instance_folder(settings.get("INSTANCE_PATH"))
    app = Flask(__name__, instance_path=str(instance_path), static_folder=None)
    instance.private_folder(instance_path)
    app.config.update(settings)
    app.config.update(config_module.flask_config(settings, instance_path))
    config_module.check_database(app.config["SQLALCHEMY_DATABASE_URI"])
    instance.private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.session_interface = _NoSessions()
    app.url_map.converters["int"] = _IdConverter
    logging.getLogger("widget_server").setLevel(str(settings.get("LOG_LEVEL") or "INFO").upper())

    # 2. extensions
    from .comments import live
    from .comments.html import html_cache
    from .comments.reading import ReadCache
    from .comments.trees import ThreadTrees
    from .extensions import MIGRATIONS, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlite_setup.configure(db.engine)
    app.extensions["widget_read_cache"] = ReadCache(app.config["READ_CACHE_BYTES"])
    app.extensions["widget_tree_cache"] = ThreadTrees(app.config["TREE_CACHE_BYTES"])
    # comments/html.py: threads as HTML, bounded by bytes like the JSON pages they are drawn from.
    app.extensions["widget_html_cache"] = html_cache(app.config["READ_CACHE_BYTES"] // 2)
    live.init_app(app)  # the event streams' slots (the change feed: delivery.events.init_app)

    # 3. request hooks, in the order they run: the request id and access log first, then an
    #    unknown Host is refused (hosts), then the origin check and CORS headers; errors
    #    become the one JSON shape; the outbox sender (delivery.events) wakes after a
    #    request that queued mail or webhooks.
    from . import cors, errors, hosts, sites
    from .delivery import events
    from .ops import observability

    sites.init_app(app)  # every site's origins and settings, per process (cors reads them)
    hosts.init_app(app)
    observability.init_app(app)
    cors.init_app(app)
    errors.init_app(app)
    events.init_app(app)
    # While the change feed's thread runs, it keeps the sites checked: no request has to ask.
    app.extensions["widget_feed"].tickers.append(app.extensions["widget_sites"].keep_fresh)
    app.after_request(_no_body_no_type)

    # 4. every blueprint, in one list
    from . import assets
    from .accounts import api as accounts_api
    from .accounts import pages as account_pages
    from .comments import api as comments_api
    from .comments import feeds
    from .comments import pages as thread_pages
    from .delivery import api as notifications_api
    from .delivery import pages as mail_pages
    from .moderation import api as moderation_api
    from .moderation import page as moderation_page
    from .moderation import sites_api, tokens_api
    from .ops import api as ops_api

    for blueprint in (
        comments_api.bp,        # /api/v1/comments, /counts, /preview: the widget's API
        feeds.bp,               # /feed.atom, /feeds/recent.atom
        thread_pages.bp,        # /api/v1/comments.html, /t (and its form): threads as HTML
        moderation_api.bp,      # /api/v1/admin/...
        tokens_api.bp,          # /api/v1/admin/me, /api/v1/admin/tokens: who may moderate what
        sites_api.bp,           # /api/v1/admin/sites: the sites (global tokens; a site's owner its own)
        moderation_page.bp,     # /admin
        accounts_api.bp,        # /api/v1/auth/..., /api/v1/account
        account_pages.bp,       # /account/confirm, /account/reset (links in mail)
        account_pages.sign_in,  # /auth/oidc/<name>/start, /callback, /confirm (the sign-in popup)
        notifications_api.bp,   # /api/v1/notifications/...
        mail_pages.bp,          # /mail/confirm, /mail/unsubscribe (links in mail)
        ops_api.bp,             # /healthz, /readyz, /metrics, /api/v1/openapi.json
        assets.bp,              # /widget.js, its languages, /demo, /
    ):
        app.register_blueprint(blueprint)

    # 5. in front of Flask: cached reads answered without it (ops/fastpath.py), behind ProxyFix,
    #    which makes the client's address, scheme and Host what the trusted proxies said
    from .ops import fastpath

    fastpath.init_app(app)
    hops = int(settings["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
