"""The ``widget-server`` command: what an operator runs, and nothing else.

Every setting is checked before a command does anything: a mistake is one ``Error: WIDGET_...``
line and exit status 1. A command that needs the database migrates an SQLite one first (as
``serve`` does) and names the command to run for any other.
"""
from __future__ import annotations

import os
import socket

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .. import clock
from . import data_cli, site_cli
from .cli_base import connections_closed, database_error, ensure_schema, needs_database, upgrade_database


def _create_app(warn: bool = True):
    from .. import config, create_app
    from .observability import log_warnings

    try:
        app = create_app()
    except config.ConfigError as exc:  # one clear line ("Error: ..."), not a traceback
        raise click.ClickException(str(exc)) from None
    if warn:
        log_warnings(config.warnings(app.config))
    return app


class OperatorCommands(FlaskGroup):
    """Only the commands defined here. Flask-Migrate adds Alembic's authoring commands (`db init`,
    `db migrate`, `db revision`, `db stamp`, ...) to every app's cli and Flask-Limiter its `limiter`
    group; neither belongs one typo away from an operator. Developers write migrations with
    ``flask --app 'widget_server:create_app()' db revision`` (docs/architecture.md)."""

    def get_command(self, ctx, name):
        return click.Group.get_command(self, ctx, name)

    def list_commands(self, ctx):
        return click.Group.list_commands(self, ctx)


@click.group(cls=OperatorCommands, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """widget-server: self-hosted threaded comments.

    Configuration comes from WIDGET_* environment variables and the env file
    (WIDGET_ENV_FILE, or .env in the instance folder); see the README.
    """


# FlaskGroup's --app/--env-file/--debug options belong to the generic `flask`
# command; here the app is always widget-server's, configured by WIDGET_* only.
main.params = [p for p in main.params if p.name not in {"app", "env_file", "debug"}]


@main.group("db")
def database() -> None:
    """The database schema: upgrade it, or see where it is."""


@database.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply the database migrations (run it on every upgrade; idempotent)."""
    from sqlalchemy.exc import DBAPIError

    try:
        with connections_closed():
            upgrade_database()
    except DBAPIError as exc:
        raise database_error(exc) from None
    click.echo("database schema up to date", err=True)


@database.command("current")
@with_appcontext
def db_current() -> None:
    """Say which migration the database is at, and whether it is the newest."""
    from sqlalchemy.exc import DBAPIError

    from .. import schema

    try:
        with connections_closed():
            found = schema.current()
    except DBAPIError as exc:
        raise database_error(exc) from None
    reason = schema.mismatch(found)
    if reason:
        raise click.ClickException(reason)
    click.echo(f"database schema at {', '.join(found)}: up to date")


def _listening_address(host: str | None, port: int | None) -> tuple[str, int]:
    from .. import config

    try:
        bound = config.parse_bind(str(config.load()["BIND"]))
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    default_host, default_port = bound or ("127.0.0.1", 8000)  # a Unix socket: serve uses TCP
    return host or default_host, port or default_port


def _check_port_free(host: str, port: int) -> None:
    """A busy port is one line before anything else is printed (gunicorn would retry, then exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; is widget-server already "
                f"running? Stop it, or choose another port (--port or WIDGET_BIND; with make run: "
                f"make run PORT=8001)") from None


@main.command(with_appcontext=False)  # builds its app itself, after the port and metrics are set up
@click.option("--host", default=None, help="address to listen on  [default: WIDGET_BIND's, 127.0.0.1]")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="port  [default: WIDGET_BIND's, 8000]")
def serve(host: str | None, port: int | None) -> None:
    """Run the service with gunicorn (migrates an SQLite database on first start)."""
    host, port = _listening_address(host, port)
    # The served app's own origin and links come from the address it listens on (hosts.py).
    os.environ["WIDGET_BIND"] = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _check_port_free(host, port)
    # Imported before the app: with several workers it sets PROMETHEUS_MULTIPROC_DIR, which
    # prometheus_client must see when it is first imported (by the app's metrics module).
    from gunicorn.app.base import BaseApplication

    from . import gunicorn_conf

    if gunicorn_conf._config_error is not None:
        raise click.ClickException(str(gunicorn_conf._config_error))
    app = _create_app(warn=False)  # gunicorn's on_starting says the warnings, once
    with app.app_context(), connections_closed():  # none of the master's shared with a worker
        ensure_schema()

    class _Server(BaseApplication):
        def load_config(self):
            for name in dir(gunicorn_conf):
                if name in self.cfg.settings and not name.startswith("_"):
                    self.cfg.set(name, getattr(gunicorn_conf, name))
            self.cfg.set("bind", f"{host}:{port}")

        def load(self):
            from .. import create_app

            return create_app()

    base = f"http://{host}:{port}"
    click.echo(f"widget-server on {base}  (demo page: {base}/demo, moderation: {base}/admin)")
    _Server().run()


@main.group()
def token() -> None:
    """Admin tokens: create, list, revoke."""


@token.command("create")
@click.option("--name", default="admin", show_default=True, help="who or what uses the token")
@click.option("--site", default=None, help="the one site it acts for  [default: every site (a global token)]")
@click.option("--role", type=click.Choice(["owner", "moderator"]), default=None,
              help="with --site: owner (settings, moderators) or moderator (the queue, bans, locks, pins)"
                   "  [default: moderator]")
@needs_database
def token_create(name: str, site: str | None, role: str | None) -> None:
    """Print a new admin token, once, as the last line. Only its hash is stored."""
    from .. import sites
    from ..extensions import db
    from ..moderation.access import MODERATOR
    from ..moderation.auth import create
    from ..moderation.service import audit

    if role is not None and site is None:
        raise click.UsageError("--role needs --site (a global token acts on every site)")
    found = sites.by_name(site) if site is not None else None
    if site is not None and (found is None or found.id is None):
        raise click.ClickException(f"no site called {site!r}; see: widget-server site list")
    row, value = create(name.strip() or "admin", found.id if found else None,
                        (role or MODERATOR) if found else None)
    audit(None, "token", f"token {row.id}", name=row.name, role=row.role or "global",
          site_id=row.site_id)
    db.session.commit()
    what = f"{row.role} of site {site!r}" if found else "global"
    click.echo(f"Created admin token {name!r} ({what}). It is shown only now; store it safely:", err=True)
    click.echo(value)


@token.command("list")
@needs_database
def token_list() -> None:
    """List admin tokens (names, sites and roles, dates; never the tokens)."""
    from .. import sites
    from ..extensions import db
    from ..models import AdminToken

    rows = db.session.execute(select(AdminToken).order_by(AdminToken.id)).scalars().all()
    if not rows:
        click.echo("no admin tokens; create one with: widget-server token create --name NAME")
    for row in rows:
        status = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        where = f"{sites.by_id(row.site_id).name} {row.role}" if row.site_id is not None else "global"
        click.echo(f"{row.id}\t{row.name}\t{where}\tcreated {row.created_at:%Y-%m-%d}\t"
                   f"last used {used}\t{status}")


@token.command("revoke")
@click.argument("token_id", type=int)
@needs_database
def token_revoke(token_id: int) -> None:
    """Revoke the admin token with this id (see ``token list``)."""
    from ..extensions import db
    from ..models import AdminToken

    row = db.session.get(AdminToken, token_id)
    if row is None:
        raise click.ClickException(f"no admin token with id {token_id}")
    row.revoked_at = row.revoked_at or clock.now()
    db.session.commit()
    click.echo(f"revoked admin token {token_id} ({row.name})")


@main.command("filter-train")
@needs_database
def filter_train() -> None:
    """Teach the learning filter every stored comment it has not learned: spam (an imported spam
    folder too) as spam, published comments as not spam (docs/moderation.md)."""
    from ..comments import learning
    from ..extensions import db

    learned = learning.train_stored({"spam": learning.SPAM, "published": learning.HAM})
    db.session.commit()
    click.echo(f"learned {learned} comments", err=True)


@main.command()
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(0.5),
              help="seconds between looks at the outbox")
@needs_database
def worker(once: bool, interval: float) -> None:
    """Send queued mail and webhooks, with retries and backoff (see docs/accounts.md)."""
    from flask import current_app

    from ..delivery.outbox import OutboxWorker

    sender = OutboxWorker(current_app._get_current_object(), interval=interval)  # type: ignore[attr-defined]
    if once:
        click.echo(f"delivered {sender.run_once()}", err=True)
        return
    click.echo(f"outbox sender running (every {interval:g} s); Ctrl-C stops it", err=True)
    try:
        sender.run()
    except KeyboardInterrupt:
        click.echo("outbox sender stopped", err=True)


for _command in (*data_cli.COMMANDS, *site_cli.COMMANDS):
    main.add_command(_command)
