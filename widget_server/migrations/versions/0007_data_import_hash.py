"""comments.import_hash: the source record an imported comment was last written from

Revision ID: data_1
Revises: scale_2
"""
import sqlalchemy as sa
from alembic import op

revision = "data_1"
down_revision = "scale_2"
branch_labels = None
depends_on = None


def upgrade():
    # A plain nullable ADD COLUMN: no table rebuild on SQLite (which would cascade to likes).
    op.add_column("comments", sa.Column("import_hash", sa.String(length=32), nullable=True))


def downgrade():
    op.drop_column("comments", "import_hash")
