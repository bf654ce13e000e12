"""thread_changes: the change feed's log (one row per thread version)

Revision ID: live_1
Revises: spam_4
"""
import sqlalchemy as sa
from alembic import op

revision = "live_1"
down_revision = "spam_4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "thread_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_changes")),
        sa.UniqueConstraint("thread_id", "version", name=op.f("uq_thread_changes_thread_id")),
    )
    op.create_index(op.f("ix_thread_changes_at"), "thread_changes", ["at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_thread_changes_at"), table_name="thread_changes")
    op.drop_table("thread_changes")
