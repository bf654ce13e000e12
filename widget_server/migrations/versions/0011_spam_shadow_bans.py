"""bans.shadow: shadow bans

Revision ID: spam_3
Revises: spam_2
"""
import sqlalchemy as sa
from alembic import op

revision = "spam_3"
down_revision = "spam_2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bans") as batch:
        batch.add_column(sa.Column("shadow", sa.Boolean(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("bans") as batch:
        batch.drop_column("shadow")
