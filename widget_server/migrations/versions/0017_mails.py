"""mails (issue 19): the reader's language on subscriptions and users, for the mails sent to them

Nullable: rows from before, and requests without a language, get English.

Revision ID: mails_1
Revises: reactions_1
"""
import sqlalchemy as sa
from alembic import op

revision = "mails_1"
down_revision = "reactions_1"
branch_labels = None
depends_on = None


def upgrade():
    # Plain nullable ADD COLUMNs: no table rebuild on SQLite.
    op.add_column("subscriptions", sa.Column("lang", sa.String(length=16), nullable=True))
    op.add_column("users", sa.Column("lang", sa.String(length=16), nullable=True))


def downgrade():
    # SQLite (3.35 and later) drops a plain column in place, like PostgreSQL.
    op.drop_column("users", "lang")
    op.drop_column("subscriptions", "lang")
