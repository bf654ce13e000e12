"""The ``widget-server`` command: serve, database migrations, admin tokens."""
from __future__ import annotations

import os

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .. import clock


def _create_app():
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:  # one clear line ("Error: ..."), not a traceback
        raise click.ClickException(str(exc)) from None


def upgrade_database() -> None:
    """Apply every migration (idempotent)."""
    from flask_migrate import upgrade

    upgrade()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """widget-server: self-hosted threaded comments.

    Configuration comes from WIDGET_* environment variables (see the README).
    """


# FlaskGroup's --app/--env-file/--debug options belong to the generic `flask`
# command; here the app is always widget-server's, configured by WIDGET_* only.
main.params = [p for p in main.params if p.name not in {"app", "env_file", "debug"}]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the service with gunicorn (migrates an SQLite database on first start)."""
    from gunicorn.app.base import BaseApplication

    from .. import create_app
    from ..extensions import db
    from . import gunicorn_conf

    if db.engine.dialect.name == "sqlite":
        upgrade_database()

    class _Server(BaseApplication):
        def load_config(self):
            for name in dir(gunicorn_conf):
                if name in self.cfg.settings and not name.startswith("_"):
                    self.cfg.set(name, getattr(gunicorn_conf, name))
            self.cfg.set("bind", f"{host}:{port}")

        def load(self):
            return create_app()

    # The served app's own origin and links come from the address it listens on (hosts.py).
    os.environ["WIDGET_BIND"] = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    base = f"http://{host}:{port}"
    click.echo(f"widget-server on {base}  (demo page: {base}/demo, moderation: {base}/admin)")
    _Server().run()


@main.group()
def token() -> None:
    """Admin tokens: create, list, revoke."""


@token.command("create")
@click.option("--name", default="admin", show_default=True, help="who or what uses the token")
@with_appcontext
def token_create(name: str) -> None:
    """Print a new admin token, once, as the last line. Only its hash is stored."""
    from ..extensions import db
    from ..moderation.auth import create_token

    value = create_token(name.strip() or "admin")
    db.session.commit()
    click.echo(f"Created admin token {name!r}. It is shown only now; store it safely:", err=True)
    click.echo(value)


@token.command("list")
@with_appcontext
def token_list() -> None:
    """List admin tokens (names and dates; never the tokens)."""
    from ..extensions import db
    from ..models import AdminToken

    rows = db.session.execute(select(AdminToken).order_by(AdminToken.id)).scalars().all()
    if not rows:
        click.echo("no admin tokens; create one with: widget-server token create --name NAME")
    for row in rows:
        status = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(f"{row.id}\t{row.name}\tcreated {row.created_at:%Y-%m-%d}\tlast used {used}\t{status}")


@token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
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


def _mapping(_ctx, _param, values):
    from ..importers import parse_mapping

    try:
        return [parse_mapping(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(
    ["disqus", "wordpress", "isso", "isso-json", "generic", "commento", "json"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--map-url", "map_urls", multiple=True, callback=_mapping, metavar="OLD=NEW",
              help="rewrite thread URLs starting with OLD to start with NEW (repeatable)")
@click.option("--site", metavar="URL", help="site that path-only thread URLs belong to (Isso, Commento)")
@click.option("--dry-run", is_flag=True, help="read and check everything, report, write nothing")
@click.option("--progress/--no-progress", default=None,
              help="progress bar on stderr (default: when stderr is a terminal)")
@with_appcontext
def import_command(fmt, file, map_urls, site, dry_run, progress) -> None:
    """Import comments: disqus (XML), wordpress (WXR), isso (its SQLite file), isso-json
    (Isso's generic JSON, also called generic), commento (JSON), json (widget-server export).

    Everything is written in one transaction; running it twice creates no duplicates.
    A file of another format is refused (exit status 1), and so is an import that skipped
    every comment (unless --dry-run). See docs/migrating.md."""
    import sys

    from ..importers import ImportFailed, run_import

    if progress is None:
        progress = sys.stderr.isatty()
    try:
        summary = run_import(fmt, file, map_urls=map_urls, site=site, dry_run=dry_run, progress=progress)
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    if summary.all_skipped and not dry_run:
        raise click.ClickException(f"{file}: every comment was skipped, nothing was imported")


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def export_command(file) -> None:
    """Write every thread and comment (all states) to FILE as JSON ("-": standard output).

    Never contains admin tokens, edit tokens or IP addresses. Restore with
    ``widget-server import json FILE``."""
    from ..export import export_to

    counts = export_to(file)
    click.echo(f"exported {counts['threads']} threads and {counts['comments']} comments to {file}", err=True)


@main.command()
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(0.5),
              help="seconds between looks at the outbox")
@with_appcontext
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

