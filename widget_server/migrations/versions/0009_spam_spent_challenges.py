"""spent_challenges: proof-of-work challenges already used (single use across instances)

Revision ID: spam_1
Revises: oidc_1
"""
import sqlalchemy as sa
from alembic import op

revision = "spam_1"
down_revision = "oidc_1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spent_challenges",
        sa.Column("challenge", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("challenge", name=op.f("pk_spent_challenges")),
    )
    op.create_index(op.f("ix_spent_challenges_expires_at"), "spent_challenges", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_spent_challenges_expires_at"), table_name="spent_challenges")
    op.drop_table("spent_challenges")
