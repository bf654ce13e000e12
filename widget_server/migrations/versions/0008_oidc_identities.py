"""identities, sign-in flows and provider registrations; accounts without password or address;
the "via ..." of a comment and of a session (issue 18)

Revision ID: oidc_1
Revises: data_1
"""
import sqlalchemy as sa
from alembic import op

revision = "oidc_1"
down_revision = "data_1"
branch_labels = None
depends_on = None


def _users_nullable(nullable: bool) -> None:
    # SQLite rebuilds the table for this: with foreign keys off, so dropping the old copy
    # cascades nowhere (the sessions and tokens of every account stay), as in 0002.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=nullable)
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=nullable)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_identities_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("provider", "subject", name="uq_identities_provider_subject"),
    )
    op.create_index(op.f("ix_identities_user_id"), "identities", ["user_id"], unique=False)
    op.create_table(
        "sign_in_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=300), nullable=True),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_in_flows_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_flows")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_sign_in_flows_key_hash")),
    )
    op.create_index(op.f("ix_sign_in_flows_expires_at"), "sign_in_flows", ["expires_at"], unique=False)
    op.create_table(
        "provider_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=300), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("client_secret", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_clients")),
        sa.UniqueConstraint("provider", "instance", name="uq_provider_clients_instance"),
    )
    # Plain ADD COLUMN (nullable): no rebuild of comments or sessions.
    op.add_column("comments", sa.Column("verified_via", sa.String(length=200), nullable=True))
    op.add_column("account_sessions", sa.Column("via", sa.String(length=200), nullable=True))
    _users_nullable(True)


def downgrade():
    # Accounts without a password or an address cannot exist before this revision.
    op.execute("DELETE FROM users WHERE email IS NULL OR password_hash IS NULL")
    _users_nullable(False)
    op.drop_column("account_sessions", "via")
    op.drop_column("comments", "verified_via")
    op.drop_table("provider_clients")
    op.drop_index(op.f("ix_sign_in_flows_expires_at"), table_name="sign_in_flows")
    op.drop_table("sign_in_flows")
    op.drop_index(op.f("ix_identities_user_id"), table_name="identities")
    op.drop_table("identities")
