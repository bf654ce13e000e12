"""sites: many sites on one server (issue 17). The default site is made from the configured
origins and every existing thread moves into it; admin tokens, bans and the audit log get the
site they belong to (NULL: global, as every existing row stays).

Revision ID: sites_1
Revises: live_1
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "sites_1"
down_revision = "live_1"
branch_labels = None
depends_on = None

# Plain ADD COLUMNs (no foreign keys): SQLite adds them in place, so no table is rebuilt and
# the comments' triggers and the search table stay as they are.
_SITE_COLUMNS = (("threads", True), ("admin_tokens", True), ("bans", True), ("audit_log", True),
                 ("webhook_deliveries", False))


def _configured_origins() -> list[str]:
    """WIDGET_ALLOWED_ORIGINS of the server running the upgrade (normalized), for the record:
    the default site always has the configured ones too, whatever they become later."""
    try:
        from flask import current_app

        from widget_server.urls import normalize_origin

        raw = current_app.config.get("ALLOWED_ORIGINS") or []
    except (ImportError, RuntimeError):  # no app: offline SQL
        return []
    return sorted({o for o in (normalize_origin(str(v)) for v in raw) if o and o != "*"})


def upgrade():
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    for table, indexed in _SITE_COLUMNS:
        op.add_column(table, sa.Column("site_id", sa.Integer(), nullable=True))
        if indexed:
            op.create_index(op.f(f"ix_{table}_site_id"), table, ["site_id"], unique=False)
    op.add_column("admin_tokens", sa.Column("role", sa.String(length=16), nullable=True))

    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as models.UTCDateTime stores it
    sites = sa.table("sites", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("origins", sa.Text), sa.column("settings", sa.Text),
                     sa.column("version", sa.Integer), sa.column("created_at", sa.DateTime(timezone=True)),
                     sa.column("updated_at", sa.DateTime(timezone=True)))
    op.bulk_insert(sites, [{"id": 1, "name": "default", "origins": json.dumps(_configured_origins()),
                            "settings": "{}", "version": 1, "created_at": now, "updated_at": now}])
    if op.get_bind().dialect.name == "postgresql":  # the row was given its id: move the sequence on
        op.execute("SELECT setval(pg_get_serial_sequence('sites', 'id'), 1)")
    op.execute("UPDATE threads SET site_id = 1")


def downgrade():
    # SQLite (3.35+) drops a column in place once its index is gone: no rebuild, no cascade.
    op.drop_column("admin_tokens", "role")
    for table, indexed in reversed(_SITE_COLUMNS):
        if indexed:
            op.drop_index(op.f(f"ix_{table}_site_id"), table_name=table)
        op.drop_column(table, "site_id")
    op.drop_table("sites")
