"""filter_tokens and filter_labels: the learning filter's counts

Revision ID: spam_4
Revises: spam_3
"""
import sqlalchemy as sa
from alembic import op

revision = "spam_4"
down_revision = "spam_3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "filter_tokens",
        sa.Column("token", sa.String(80), nullable=False),
        sa.Column("spam", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("ham", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_filter_tokens")),
    )
    op.create_table(
        "filter_labels",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_filter_labels_comment_id_comments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_filter_labels")),
    )


def downgrade():
    op.drop_table("filter_labels")
    op.drop_table("filter_tokens")
