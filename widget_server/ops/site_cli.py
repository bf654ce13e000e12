"""``widget-server site``: the sites one server hosts (docs/sites.md).

Kept apart from ``cli.py``; ``cli.main`` adds ``site``. Every change is checked whole before
anything is written, and a running server applies it within a second (sites/registry.py).
"""
from __future__ import annotations

import click

from .cli_base import needs_database


def _fail(exc) -> click.ClickException:
    """An APIError of the sites service as one ``Error: ...`` line (its message names the field)."""
    return click.ClickException(exc.message)


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise click.ClickException(f"{value!r}: write KEY=VALUE, e.g. moderation=all")
        found[key.strip().lower()] = rest
    return found


def _commit() -> None:
    from ..extensions import db
    from ..sites import service

    db.session.commit()
    service.changed()


@click.group("site")
def site() -> None:
    """Sites served by this server: add, list, set, remove (docs/sites.md)."""


@site.command("add")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, required=True, metavar="URL",
              help="an origin of the site, scheme://host[:port] (repeatable)")
@click.argument("settings", nargs=-1, metavar="[KEY=VALUE]...")
@needs_database
def site_add(name: str, origins: tuple[str, ...], settings: tuple[str, ...]) -> None:
    """Add site NAME with its origins (and settings). Threads already on those origins move to it."""
    from ..errors import APIError
    from ..sites import service

    try:
        row = service.add(name, origins, _pairs(settings))
        threads = service.thread_count(row.id)
    except APIError as exc:
        raise _fail(exc) from None
    _commit()
    click.echo(f"added site {name} ({', '.join(service.view(row, threads=False)['origins'])}); "
               f"{threads} existing thread(s) moved to it", err=True)


@site.command("list")
@needs_database
def site_list() -> None:
    """Every site: name, origins, threads, and the settings it overrides (secrets as "(set)").
    The default site's origins are WIDGET_ALLOWED_ORIGINS and those added to it."""
    from .. import sites
    from ..sites import service

    configured = {str(o) for o in sites.default().config.get("ALLOWED_ORIGINS") or ()}
    rows = service.all_rows()
    shown = [service.view(row) for row in rows]
    if not any(row.name == "default" for row in rows):  # a database not made by the migrations
        shown.insert(0, {"name": "default", "origins": [], "settings": {},
                         "threads": service.thread_count(None)})
    for site in shown:
        origins = sorted(set(site["origins"]) | configured) if site["name"] == "default" else site["origins"]
        settings = " ".join(f"{k}={v}" for k, v in site["settings"].items()) or "(server's settings)"
        click.echo(f"{site['name']}\t{', '.join(origins) or '-'}\tthreads {site['threads']}\t{settings}")


@site.command("set")
@click.argument("name")
@click.argument("settings", nargs=-1, metavar="KEY=VALUE...")
@click.option("--reset", "reset", multiple=True, metavar="KEY",
              help="back to the server's WIDGET_* value (repeatable)")
@click.option("--origin", "origins", multiple=True, metavar="URL",
              help="replace the site's origins by these (repeatable); threads follow their pages")
@needs_database
def site_set(name: str, settings: tuple[str, ...], reset: tuple[str, ...], origins: tuple[str, ...]) -> None:
    """Change settings of site NAME, e.g. ``site set blog moderation=all pow=off``. Keys are the
    WIDGET_* names without the prefix, lower-case; running servers apply it within a second."""
    from ..errors import APIError
    from ..sites import service

    if not settings and not reset and not origins:
        raise click.UsageError("name at least one KEY=VALUE, --reset KEY or --origin URL")
    try:
        row = service.update_site(name, _pairs(settings), [k.strip().lower() for k in reset],
                                  origins or None)
    except APIError as exc:
        raise _fail(exc) from None
    _commit()
    shown = service.view(row, threads=False)["settings"]
    click.echo(f"site {name}: " + (" ".join(f"{k}={v}" for k, v in shown.items()) or "the server's settings"),
               err=True)


@site.command("remove")
@click.argument("name")
@click.option("--export", "export_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="first export the site's data to FILE (export FILE --site NAME), then remove the "
                   "site with its threads, their comments and the site's tokens and bans")
@needs_database
def site_remove(name: str, export_file: str | None) -> None:
    """Remove site NAME. Refused while it has threads, unless --export FILE saves them first."""
    from ..errors import APIError
    from ..export import export_to
    from ..sites import service

    try:
        row = service.removable(name)
        if export_file:
            counts = export_to(export_file, site=name)
            click.echo(f"exported {counts['threads']} thread(s), {counts['comments']} comment(s) of site "
                       f"{name} to {export_file}", err=True)
            service.delete_data(row.id)
        service.remove(name)
    except APIError as exc:
        raise _fail(exc) from None
    _commit()
    click.echo(f"removed site {name}", err=True)


COMMANDS = (site,)
