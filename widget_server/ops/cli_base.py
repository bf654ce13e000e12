"""What every database command of ``widget-server`` shares: the schema check and clean connections."""
from __future__ import annotations

import contextlib
import functools
import logging

import click
from flask.cli import with_appcontext


def upgrade_database() -> None:
    """Apply every migration (idempotent), saying which ones ran."""
    from flask_migrate import upgrade

    migration_log = logging.getLogger("alembic.runtime.migration")
    level = migration_log.level
    migration_log.setLevel(logging.INFO)  # "Running upgrade ...", as JSON lines
    migration_log.addFilter(_steps_only)
    try:
        upgrade()
    finally:  # back to quiet: nothing Alembic does later (in a forked worker, say) is logged
        migration_log.setLevel(level)
        migration_log.removeFilter(_steps_only)


def _steps_only(record: logging.LogRecord) -> bool:
    # Not "Context impl SQLiteImpl." and "Will assume non-transactional DDL.": what ran, only.
    return record.levelno > logging.INFO or str(record.msg).startswith("Running")


def database_error(exc: Exception) -> click.ClickException:
    detail = str(getattr(exc, "orig", None) or exc.__class__.__name__).strip().splitlines()[0]
    return click.ClickException(f"WIDGET_DATABASE_URL: the database does not answer: {detail}")


def ensure_schema() -> None:
    """The database is at the code's schema: an SQLite file is migrated (as ``serve`` does);
    any other database gets one line naming the command to run."""
    from sqlalchemy.exc import DBAPIError

    from .. import schema
    from ..extensions import db

    try:
        reason = schema.mismatch(schema.current())
        if reason and db.engine.dialect.name == "sqlite":
            upgrade_database()
            reason = schema.mismatch(schema.current())
    except DBAPIError as exc:
        raise database_error(exc) from None
    if reason:
        raise click.ClickException(reason)


def needs_database(command):
    """For commands that read or write the comments: an app context and a database at the schema."""

    @functools.wraps(command)
    @with_appcontext
    def run(*args, **kwargs):
        with connections_closed():
            ensure_schema()
            return command(*args, **kwargs)

    return run


@contextlib.contextmanager
def connections_closed():
    """A command leaves no pooled connection behind (an embedding process or test may go on)."""
    from ..extensions import db

    try:
        yield
    finally:
        db.session.remove()
        db.engine.dispose()
