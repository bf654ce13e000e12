"""comments.held_reason: why a comment was held, for the moderation page

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (nullable, no default) works on SQLite and PostgreSQL alike,
    # without the table rebuild batch mode would do (which would cascade to likes).
    op.add_column("comments", sa.Column("held_reason", sa.String(length=200), nullable=True))


def downgrade():
    # SQLite (3.35 and later) drops a plain column in place, like PostgreSQL.
    op.drop_column("comments", "held_reason")
