"""comments.revision: moved on by the database at every update of a comment, for the tree cache

Revision ID: scale_3
Revises: sites_1

A new version of a large thread is built from the one before (comments/trees.py): which comments
changed is read from ``(id, parent_id, revision)`` in number order, through an index that holds
exactly those (no comment's text or html read), and only those comments are loaded again. A
trigger moves the revision on, so no update, by any code or by hand, can be missed.
"""
import sqlalchemy as sa
from alembic import op

revision = "scale_3"
down_revision = "sites_1"
branch_labels = None
depends_on = None

_INDEX = ("ix_comments_thread_tree", "comments", ["thread_id", "number", "id", "parent_id", "revision"])

_SQLITE = (
    # After the row's update (SQLite has no NEW to assign to); the WHEN keeps it from firing on
    # its own update, whatever recursive_triggers says.
    """CREATE TRIGGER comments_revision AFTER UPDATE ON comments WHEN NEW.revision IS OLD.revision BEGIN
         UPDATE comments SET revision = OLD.revision + 1 WHERE id = NEW.id;
       END""",
)

_POSTGRESQL = (
    """CREATE FUNCTION comments_revision() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.revision := OLD.revision + 1;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER comments_revision BEFORE UPDATE ON comments
       FOR EACH ROW EXECUTE FUNCTION comments_revision()""",
)


def upgrade():
    # Not in batch mode: a copied table would lose the other triggers on comments.
    op.add_column("comments", sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
    op.create_index(*_INDEX, unique=False)
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS comments_revision")
    else:
        op.execute("DROP TRIGGER IF EXISTS comments_revision ON comments")
        op.execute("DROP FUNCTION IF EXISTS comments_revision()")
    op.drop_index(_INDEX[0], table_name="comments")
    op.drop_column("comments", "revision")  # SQLite 3.35+ drops a column in place
