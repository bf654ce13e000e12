"""reactions (issue 19): emoji reactions to pages and comments; comments.idempotency_hash

The thumbs-up on a comment stays the like (``likes`` rows and ``comments.likes``, imported
counts included), so no existing count moves: the widget and the API show it as the 👍 reaction.

Revision ID: reactions_1
Revises: scale_3
"""
import sqlalchemy as sa
from alembic import op

revision = "reactions_1"
down_revision = "scale_3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("emoji", sa.String(length=16), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"], name=op.f("fk_reactions_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_reactions_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
    )
    op.create_index("ux_reactions_comment", "reactions", ["comment_id", "emoji", "voter_hash"], unique=True,
                    sqlite_where=sa.text("comment_id IS NOT NULL"),
                    postgresql_where=sa.text("comment_id IS NOT NULL"))
    op.create_index("ux_reactions_page", "reactions", ["thread_id", "emoji", "voter_hash"], unique=True,
                    sqlite_where=sa.text("comment_id IS NULL"), postgresql_where=sa.text("comment_id IS NULL"))
    # A plain nullable ADD COLUMN: no table rebuild on SQLite (which would cascade to likes).
    op.add_column("comments", sa.Column("idempotency_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_comments_idempotency_hash"), "comments", ["idempotency_hash"], unique=True)


def downgrade():
    op.drop_index(op.f("ix_comments_idempotency_hash"), table_name="comments")
    op.drop_column("comments", "idempotency_hash")
    op.drop_index("ux_reactions_page", table_name="reactions")
    op.drop_index("ux_reactions_comment", table_name="reactions")
    op.drop_table("reactions")
