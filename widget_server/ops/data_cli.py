"""The operator's data commands: import, export (and restore), move, backup.

Kept apart from ``cli.py`` (the server and token commands); ``cli.main`` adds ``COMMANDS``.
"""
from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext

from .cli_base import needs_database

WITH_SECRETS = ("also password hashes, edit token hashes, the sites' webhook and SSO keys and the "
                "instance secret (keep such a file as safe as the server; see docs/migrating.md)")


def _progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


progress_option = click.option("--progress/--no-progress", default=None,
                               help="progress bar on stderr (default: when stderr is a terminal)")


def _mapping(_ctx, _param, values):
    from ..importers import parse_mapping

    try:
        return [parse_mapping(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(
    ["disqus", "wordpress", "isso", "isso-json", "generic", "commento", "comentario", "remark42", "artalk",
     "waline", "twikoo", "cusdis", "json"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--map-url", "map_urls", multiple=True, callback=_mapping, metavar="OLD=NEW",
              help="rewrite thread URLs starting with OLD to start with NEW (repeatable)")
@click.option("--site", metavar="URL",
              help="site that path-only thread URLs belong to (Isso, Waline, Twikoo, Cusdis, ...)")
@click.option("--dry-run", is_flag=True, help="read and check everything, report, write nothing")
@click.option("--with-secrets", is_flag=True,
              help="json: take over the export's instance secret when it carries one")
@progress_option
@needs_database
def import_command(fmt, file, map_urls, site, dry_run, with_secrets, progress) -> None:
    """Import comments: disqus (XML), wordpress (WXR), isso (its SQLite file), isso-json
    (Isso's generic JSON, also called generic), commento and comentario (JSON, gzipped or not),
    remark42 (its backup), artalk (.artrans), waline and twikoo (their JSON exports), cusdis
    (its SQLite database or a JSON dump of its tables), json (widget-server export).

    Everything is written in one transaction; running it twice creates no duplicates.
    A complete export (`widget-server export`) into an empty server restores everything it
    holds. A file of another format is refused (exit status 1), and so is an import that
    skipped every comment (unless --dry-run). See docs/migrating.md."""
    from ..importers import ImportFailed, run_import

    try:
        summary = run_import(fmt, file, map_urls=map_urls, site=site, dry_run=dry_run,
                             progress=_progress(progress), with_secrets=with_secrets)
    except ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    if summary.all_skipped and not dry_run:
        raise click.ClickException(f"{file}: every comment was skipped, nothing was imported")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--with-secrets", is_flag=True, help=WITH_SECRETS)
@click.option("--site", "site", default=None, metavar="NAME",
              help="only this site (its origins and settings), its threads, their comments, likes, reports "
                   "and subscriptions, the accounts that wrote them, and the site's own tokens, bans, audit "
                   "entries and webhooks")
@progress_option
@needs_database
def export_command(file, with_secrets, site, progress) -> None:
    """Write everything (the sites, threads, comments in every state, accounts, likes,
    subscriptions, bans, admin token hashes, the audit log, undelivered mail and webhooks) to
    FILE as JSON ("-": standard output).

    Never contains IP addresses, sessions or e-mail link tokens; password hashes, the sites'
    webhook and SSO keys and the instance secret only with --with-secrets. Restore with
    ``widget-server import json FILE``."""
    from .. import sites
    from ..export import export_to, total_rows
    from ..importers.base import progress_bar

    if site is not None and sites.by_name(site) is None:
        raise click.ClickException(f"no site called {site!r} (see: widget-server site list)")
    bar = progress_bar(_progress(progress) and file != "-" and site is None, total_rows(with_secrets),
                       "rows", "exporting")
    try:
        counts = export_to(file, with_secrets=with_secrets, bar=bar, site=site)
    finally:
        if bar is not None:
            bar.close()
    listed = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"exported {listed} to {file}", err=True)


@click.command("move")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--map", "rules", multiple=True, metavar="OLD=NEW",
              help="move every thread matching OLD; one * on each side carries the matched part, e.g. "
                   "'https://old.example/blog/*=https://new.example/posts/*' (repeatable)")
@click.option("--dry-run", is_flag=True, help="say what would move and merge, change nothing")
@progress_option
@needs_database
def move_command(old, new, rules, dry_run, progress) -> None:
    """Move the thread at OLD to NEW (a page changed its address), or many with --map.

    A thread that already exists at the new address is merged: its comments keep their numbers,
    the moved ones are numbered after them in their own order; ids do not change. Each move is an
    audit entry. See docs/migrating.md."""
    from ..extensions import db
    from ..importers.base import progress_bar
    from ..moderation import moves

    if (old is None) != (new is None) or not (old or rules):
        raise click.UsageError("give OLD NEW, or one or more --map OLD=NEW")
    try:
        parsed = ([(old, new)] if old else []) + [moves.parse_rule(rule) for rule in rules]
        planned = moves.plan(parsed)
        bar = progress_bar(_progress(progress) and len(planned) > 1, len(planned), "threads", "moving")
        try:
            done = moves.apply(planned, bar=bar)
        finally:
            if bar is not None:
                bar.close()
    except moves.MoveError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    verb = "would " if dry_run else ""

    def many(n: int, noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    _warn_outside(done)
    for item in done:
        if item.merged:
            numbers = f", numbered {item.first_number}-{item.last_number}" if item.comments else ""
            moved = many(item.comments, "comment")
            click.echo(f"{item.old} -> {item.new}: {verb}merge {moved} into the thread there{numbers}")
        else:
            click.echo(f"{item.old} -> {item.new}: {verb}move {many(item.comments, 'comment')}")
    if dry_run:
        db.session.rollback()
        click.echo(f"dry run: {many(len(done), 'thread')} would move; nothing was changed")
        return
    db.session.commit()
    click.echo(f"moved {many(len(done), 'thread')}" if done else "no thread matched: nothing was moved")


def _warn_outside(done) -> None:
    """A thread moved to a site the widget may not show is a mistake more often than not."""

    from .. import sites
    from ..urls import origin_of

    allowed = sites.allowed_origins()
    outside = sorted({origin_of(item.new) for item in done} - allowed) if "*" not in allowed else []
    for origin in outside:
        click.echo(f"warning: {origin} is not in WIDGET_ALLOWED_ORIGINS nor any site's origins: the "
                   "widget cannot show the threads moved there until it is added", err=True)


@click.command("backup")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--keep", type=click.IntRange(1), default=None,
              help="then remove all but the newest N backups in DIR")
@click.option("--export", "use_export", is_flag=True,
              help="write the complete export with secrets (JSON) instead of a copy of the database")
@needs_database
def backup_command(folder, keep, use_export) -> None:
    """Take a consistent backup while the service runs: SQLite's online backup API, or on
    PostgreSQL pg_dump (when installed, else the complete export with secrets). Schedule it
    nightly: docs/deploy.md."""
    from .backup import BackupFailed, backup

    try:
        path, removed = backup(folder, keep=keep, use_export=use_export)
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {path}")
    for old in removed:
        click.echo(f"removed the older backup {old}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask: replace everything in the database")
@progress_option
@with_appcontext  # not needs_database: the database may be too damaged to check its schema
def restore_command(file, yes, progress) -> None:
    """Replace everything in the database by a backup (from `widget-server backup`, or a complete
    export). Stop the service first, and start it again afterwards."""
    from ..importers.base import progress_bar
    from .backup import BackupFailed, restore
    from .cli_base import connections_closed, upgrade_database

    if not yes:
        click.confirm(f"Replace everything in the database by {file}?", abort=True, err=True)
    bar = progress_bar(_progress(progress), os.path.getsize(file), "B", "restoring")
    try:
        with connections_closed():
            kind = restore(file, progress_bar=bar)
            upgrade_database()  # a backup of an older release; an export restored into a new database
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"restored {file} ({kind}); start the service again")


COMMANDS = (import_command, export_command, move_command, backup_command, restore_command)
