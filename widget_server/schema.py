"""Is the database's schema the one this code needs? Asked by /readyz, /healthz, the error handler
(a missing table is "run `widget-server db upgrade`", not a 500) and the commands.

The revision is read from Alembic's table directly: Alembic's MigrationContext logs two lines each
time it is configured, which on a readiness probe meant two log lines every few seconds.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from .extensions import MIGRATIONS, db

VERSION_TABLE = "alembic_version"
UPGRADE = "run `widget-server db upgrade`"


@lru_cache(maxsize=1)
def heads() -> tuple[str, ...]:
    """The newest revisions the code knows (one, unless the history branches)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at; () for a database nobody has migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return tuple(sorted(row[0] for row in rows))


def current() -> tuple[str, ...]:
    """The database's revisions, on a connection of its own (raises when the database does not answer)."""
    with db.engine.connect() as connection:
        return revisions(connection)


def mismatch(found: tuple[str, ...]) -> str | None:
    """Why a database at ``found`` cannot serve this code, in one line; None when it can."""
    if found == heads():
        return None
    return (f"database schema is at {', '.join(found) or 'nothing'}, the code needs "
            f"{', '.join(heads())}: {UPGRADE}")


def problem() -> str | None:
    """The schema's mismatch, or None when it matches or the database cannot be asked (that is
    another error, reported as such by the caller)."""
    try:
        return mismatch(current())
    except Exception:  # no answer is not a schema problem
        return None
