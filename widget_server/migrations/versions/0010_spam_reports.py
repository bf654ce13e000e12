"""reports: readers' reports of comments, one per reader and comment

Revision ID: spam_2
Revises: spam_1
"""
import sqlalchemy as sa
from alembic import op

revision = "spam_2"
down_revision = "spam_1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_reports_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("comment_id", "reporter", name=op.f("uq_reports_comment_id")),
    )
    op.create_index(op.f("ix_reports_comment_id"), "reports", ["comment_id"])


def downgrade():
    op.drop_index(op.f("ix_reports_comment_id"), table_name="reports")
    op.drop_table("reports")
