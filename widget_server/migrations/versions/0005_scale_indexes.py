"""Indexes so that no moderation query grows with the whole database; per-day comment counts

Revision ID: scale_1
Revises: 0004_mail

Every admin list is newest first and pages with ``(created_at, id) < (x, y)``: each filter gets
an index ending in (created_at, id). moderation=first looks up ``email_key``, a
generated column: lower(email). The statistics
read ``comment_counts``, which triggers keep (one inserted row per change, never an update, so
concurrent posts wait for nobody). docs/performance.md ("At scale") measures all of it.
"""
import sqlalchemy as sa
from alembic import op

revision = "scale_1"
down_revision = "0004_mail"
branch_labels = None
depends_on = None

# The UTC day of a comment, as the statistics show it (SQLite keeps naive UTC text).
_DAY = {"sqlite": "substr({row}.created_at, 1, 10)",
        "postgresql": "to_char({row}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER comment_counts_insert AFTER INSERT ON comments BEGIN
         INSERT INTO comment_counts (day, state, n) VALUES ({new}, NEW.state, 1);
       END""",
    """CREATE TRIGGER comment_counts_update AFTER UPDATE OF state, created_at ON comments
       WHEN OLD.state IS NOT NEW.state OR OLD.created_at IS NOT NEW.created_at BEGIN
         INSERT INTO comment_counts (day, state, n) VALUES ({old}, OLD.state, -1), ({new}, NEW.state, 1);
       END""",
    """CREATE TRIGGER comment_counts_delete AFTER DELETE ON comments BEGIN
         INSERT INTO comment_counts (day, state, n) VALUES ({old}, OLD.state, -1);
       END""",
)

_POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION comment_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state
            AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at THEN
           RETURN NULL;
         END IF;
         IF TG_OP IN ('UPDATE', 'DELETE') THEN
           INSERT INTO comment_counts (day, state, n) VALUES ({old}, OLD.state, -1);
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') THEN
           INSERT INTO comment_counts (day, state, n) VALUES ({new}, NEW.state, 1);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER comment_counts_track AFTER INSERT OR DELETE OR UPDATE OF state, created_at
       ON comments FOR EACH ROW EXECUTE FUNCTION comment_counts_track()""",
)

# (name, columns) of the comment indexes that change; the old definitions are for downgrade.
_REPLACED = {"ix_comments_thread_state": (["thread_id", "state", "created_at", "id"], ["thread_id", "state"]),
             "ix_comments_state_created": (["state", "created_at", "id"], ["state", "created_at"])}
_ADDED = {"ix_comments_thread_created": ["thread_id", "created_at", "id"],
          "ix_comments_created": ["created_at", "id"]}


def create_count_triggers(dialect: str) -> None:
    """The triggers behind ``comment_counts`` (also used by bench/scale.py after a bulk load)."""
    day = _DAY[dialect]
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRESQL_TRIGGERS:
        op.execute(statement.format(old=day.format(row="OLD"), new=day.format(row="NEW")))


def drop_count_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS comment_counts_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS comment_counts_track ON comments")
        op.execute("DROP FUNCTION IF EXISTS comment_counts_track()")


def upgrade():
    dialect = op.get_bind().dialect.name
    for name, (new, _old) in _REPLACED.items():
        op.drop_index(name, table_name="comments")
        op.create_index(name, "comments", new)
    for name, columns in _ADDED.items():
        op.create_index(name, "comments", columns)
    # SQLite adds a generated column only as VIRTUAL (computed on read, indexable); PostgreSQL
    # only as STORED. Either way the code never writes it.
    op.add_column("comments", sa.Column("email_key", sa.String(length=254), sa.Computed("lower(email)", persisted=True if dialect == "postgresql" else None)))
    op.create_index("ix_comments_email_key", "comments", ["email_key", "state"])
    op.create_table(
        "comment_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_counts")),
    )
    op.create_index("ix_comment_counts_day_state", "comment_counts", ["day", "state"])
    day = _DAY[dialect].format(row="comments")
    op.execute(f"INSERT INTO comment_counts (day, state, n) SELECT {day}, state, count(*) "  # noqa: S608
               f"FROM comments GROUP BY {day}, state")
    create_count_triggers(dialect)


def downgrade():
    drop_count_triggers(op.get_bind().dialect.name)
    op.drop_index("ix_comment_counts_day_state", table_name="comment_counts")
    op.drop_table("comment_counts")
    op.drop_index("ix_comments_email_key", table_name="comments")
    op.drop_column("comments", "email_key")
    for name in _ADDED:
        op.drop_index(name, table_name="comments")
    for name, (_new, old) in _REPLACED.items():
        op.drop_index(name, table_name="comments")
        op.create_index(name, "comments", old)
