"""Admin search that scales: FTS5 (trigram) on SQLite, pg_trgm indexes on PostgreSQL

Revision ID: scale_2
Revises: scale_1

Both serve the same question as before, a case-insensitive substring of the text, the author or
the e-mail (moderation/search.py). SQLite: an external-content FTS5 table with the trigram
tokenizer (SQLite 3.34+), kept by triggers. PostgreSQL: GIN trigram indexes, which ILIKE uses as
it stands; where the extension may not be created (a managed database without the right), the
migration says so and search stays a scan: correct, only slower.
"""
import logging

from alembic import op

from widget_server.models import SEARCH_TABLE, TRIGRAM_INDEXES

revision = "scale_2"
down_revision = "scale_1"
branch_labels = None
depends_on = None

log = logging.getLogger("widget_server.migrations")
_COLUMNS = "text, author, email"
_OLD = "'delete', old.id, old.text, old.author, old.email"
_NEW = "new.id, new.text, new.author, new.email"
_SQLITE = (
    f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5({_COLUMNS}, content='comments', "
    "content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON comments BEGIN
          INSERT INTO {SEARCH_TABLE} (rowid, {_COLUMNS}) VALUES ({_NEW});
        END""",
    f"""CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON comments BEGIN
          INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {_COLUMNS}) VALUES ({_OLD});
        END""",
    f"""CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF {_COLUMNS} ON comments BEGIN
          INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {_COLUMNS}) VALUES ({_OLD});
          INSERT INTO {SEARCH_TABLE} (rowid, {_COLUMNS}) VALUES ({_NEW});
        END""",
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')",
)


def _postgresql() -> None:
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # noqa: BLE001 - any refusal means the same: no trigram indexes
        log.warning("pg_trgm could not be created (%s): admin search works without its indexes, "
                    "scanning; ask the database's owner to CREATE EXTENSION pg_trgm, then run "
                    "`widget-server db upgrade` again after a downgrade to scale_1", error)
        return
    for name, column in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON comments USING gin ({column} gin_trgm_ops)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
        return
    for statement in _SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{name}")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
