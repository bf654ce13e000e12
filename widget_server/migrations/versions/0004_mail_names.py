"""users.name_skeleton and confusable-aware name keys; outbox index for the per-address mail caps

Revision ID: 0004_mail
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_mail"
down_revision = "0003"
branch_labels = None
depends_on = None

USERS = sa.table("users", sa.column("id", sa.Integer), sa.column("display_name", sa.String),
                 sa.column("name_key", sa.String), sa.column("name_skeleton", sa.String))


def _unique(value: str, taken: set[str], user_id: int) -> str:
    """An older account whose name now looks like an earlier one's keeps its name, under a key
    no name can have (the earlier account's keys are what new names are checked against)."""
    if value in taken:
        suffix = f"~{user_id}"
        value = value[:100 - len(suffix)] + suffix
    taken.add(value)
    return value


def upgrade():
    from widget_server.names import name_key, name_skeleton

    # Plain ADD COLUMN and CREATE INDEX: no batch rebuild of users, whose sessions and
    # tokens would go with it (ON DELETE CASCADE) on SQLite.
    op.add_column("users", sa.Column("name_skeleton", sa.String(length=100), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(USERS.c.id, USERS.c.display_name).order_by(USERS.c.id)).all()
    keys: set[str] = set()
    skeletons: set[str] = set()
    updates = [{"uid": uid, "key": _unique(name_key(name) or f"~{uid}", keys, uid),
                "skeleton": _unique(name_skeleton(name) or f"~{uid}", skeletons, uid)}
               for uid, name in rows]
    # Free the old keys first, so that no intermediate state breaks the unique constraint.
    for row in updates:
        connection.execute(USERS.update().where(USERS.c.id == row["uid"]).values(name_key=f"~~{row['uid']}"))
    for row in updates:
        connection.execute(USERS.update().where(USERS.c.id == row["uid"])
                           .values(name_key=row["key"], name_skeleton=row["skeleton"]))
    op.create_index(op.f("ix_users_name_skeleton"), "users", ["name_skeleton"], unique=True)
    op.create_index(op.f("ix_outbox_recipient_created"), "outbox", ["recipient", "created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_outbox_recipient_created"), table_name="outbox")
    op.drop_index(op.f("ix_users_name_skeleton"), table_name="users")
    # SQLite (3.35 and later) drops a plain column in place, like PostgreSQL. The name keys
    # stay as they are: still unique, only stricter than the old ones.
    op.drop_column("users", "name_skeleton")
