"""comment_counts.site_id: a site's statistics read from the counts, not counted from its comments

Revision ID: stats_2
Revises: mails_1

Each row of ``comment_counts`` gets the site of the comment's thread when it was written
(``threads.site_id`` as it is: NULL is the default site's, as in ``sites.in_site``). The
comment triggers look the thread up by its primary key, also when a comment moves to another
thread (``UPDATE OF thread_id``: the merges of ``moderation/moves.py``). Two triggers on
``threads`` keep the sites true when a thread changes rather than a comment:

- ``AFTER UPDATE OF site_id`` (a site's origins change, ``widget-server move`` to another
  site's page) moves the thread's counts: a -n row for the old site and a +n row for the new
  one per day and state, from the thread's comments (``ix_comments_thread_state``), so it
  costs the thread's comments, not the site's;
- ``BEFORE DELETE`` writes the -n rows of the thread's comments while the thread is there: the
  comments its foreign key then deletes find no thread, and their own trigger writes nothing.

Rows are still only inserted (posts wait for nobody's row). On PostgreSQL the comment trigger
reads the thread ``FOR SHARE`` (a post holds that row already: it bumps ``last_number``), so a
state change and a concurrent move of the thread to another site are counted one after the
other, never both under the old site.
``ix_comment_counts_site_day`` (site_id, day, state, n) serves a site's days and its totals
by itself. docs/performance.md ("At scale") measures it.

The previous release's code, still serving while this runs, folds past days by deleting every
row of a day and state and adding their sum back without a site: it would merge the sites' past
figures into the default site's, for good. So ``site_id`` defaults to -1, a value no trigger and
no fold of this release writes, and a row inserted with it is refused
(``comment_counts_site_given``): that old fold fails and rolls back (its global statistics answer
an error until its worker is replaced) instead of losing the sites.
"""
import sqlalchemy as sa
from alembic import op

revision = "stats_2"
down_revision = "mails_1"
branch_labels = None
depends_on = None

# The UTC day of a comment, as the statistics show it (SQLite keeps naive UTC text); as scale_1.
_DAY = {"sqlite": "substr({row}.created_at, 1, 10)",
        "postgresql": "to_char({row}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}
_INDEX = "ix_comment_counts_site_day"
_NO_SITE = "-1"  # the default of site_id: only code older than this revision leaves it out
_REFUSED = ("comment_counts needs the site of each row (migration stats_2): this code is older "
            "than the database; replace it")
_INSERT = "INSERT INTO comment_counts (day, state, n, site_id)"
# The site of a comment's thread, by primary key (nothing when the thread is being deleted).
_ROW = "SELECT {day}, {row}.state, {n}, site_id FROM threads WHERE id = {row}.thread_id"
# A thread's counts per day and state, with the site and sign given (its move and its delete).
_THREAD = ("SELECT {day}, state, {sign}count(*), {site} FROM comments WHERE thread_id = {thread} "
           "GROUP BY {day}, state")

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER comment_counts_insert AFTER INSERT ON comments BEGIN
          {_INSERT} {_ROW.format(day="{new}", row="NEW", n=1)};
        END""",
    f"""CREATE TRIGGER comment_counts_update AFTER UPDATE OF state, created_at, thread_id ON comments
        WHEN OLD.state IS NOT NEW.state OR OLD.created_at IS NOT NEW.created_at
          OR OLD.thread_id IS NOT NEW.thread_id BEGIN
          {_INSERT} {_ROW.format(day="{old}", row="OLD", n=-1)}
            UNION ALL {_ROW.format(day="{new}", row="NEW", n=1)};
        END""",
    f"""CREATE TRIGGER comment_counts_delete AFTER DELETE ON comments BEGIN
          {_INSERT} {_ROW.format(day="{old}", row="OLD", n=-1)};
        END""",
    f"""CREATE TRIGGER comment_counts_thread_site AFTER UPDATE OF site_id ON threads
        WHEN OLD.site_id IS NOT NEW.site_id BEGIN
          {_INSERT} {_THREAD.format(day="{day}", sign="-", site="OLD.site_id", thread="OLD.id")}
            UNION ALL {_THREAD.format(day="{day}", sign="", site="NEW.site_id", thread="NEW.id")};
        END""",
    f"""CREATE TRIGGER comment_counts_thread_delete BEFORE DELETE ON threads BEGIN
          {_INSERT} {_THREAD.format(day="{day}", sign="-", site="OLD.site_id", thread="OLD.id")};
        END""",
    f"""CREATE TRIGGER comment_counts_site_given BEFORE INSERT ON comment_counts
        WHEN NEW.site_id = {_NO_SITE} BEGIN
          SELECT RAISE(ABORT, '{_REFUSED}');
        END""",
)

_POSTGRESQL_TRIGGERS = (
    # FOR SHARE: a concurrent UPDATE OF site_id of the thread waits for this transaction, or
    # this one for it (and then reads the new site); see the docstring.
    f"""CREATE FUNCTION comment_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state
             AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at
             AND OLD.thread_id IS NOT DISTINCT FROM NEW.thread_id THEN
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_INSERT} {_ROW.format(day="{old}", row="OLD", n=-1)} FOR SHARE;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {_INSERT} {_ROW.format(day="{new}", row="NEW", n=1)} FOR SHARE;
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER comment_counts_track AFTER INSERT OR DELETE OR UPDATE OF state, created_at, thread_id
       ON comments FOR EACH ROW EXECUTE FUNCTION comment_counts_track()""",
    f"""CREATE FUNCTION comment_counts_thread() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            {_INSERT} {_THREAD.format(day="{day}", sign="-", site="OLD.site_id", thread="OLD.id")};
            RETURN OLD;
          END IF;
          {_INSERT} {_THREAD.format(day="{day}", sign="-", site="OLD.site_id", thread="OLD.id")}
            UNION ALL {_THREAD.format(day="{day}", sign="", site="NEW.site_id", thread="NEW.id")};
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER comment_counts_thread_site AFTER UPDATE OF site_id ON threads FOR EACH ROW
       WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id) EXECUTE FUNCTION comment_counts_thread()""",
    """CREATE TRIGGER comment_counts_thread_delete BEFORE DELETE ON threads FOR EACH ROW
       EXECUTE FUNCTION comment_counts_thread()""",
    f"""CREATE FUNCTION comment_counts_site_given() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '{_REFUSED}';
        END $$""",
    f"""CREATE TRIGGER comment_counts_site_given BEFORE INSERT ON comment_counts FOR EACH ROW
       WHEN (NEW.site_id = {_NO_SITE}) EXECUTE FUNCTION comment_counts_site_given()""",
)


def create_site_count_triggers(dialect: str) -> None:
    """The triggers behind ``comment_counts`` with its sites (scale_1's
    ``create_count_triggers`` made them without), and its guard: for a migration that rebuilds
    ``comments``, ``threads`` or ``comment_counts`` on SQLite, which drops their triggers."""
    day = _DAY[dialect]
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRESQL_TRIGGERS:
        op.execute(statement.format(old=day.format(row="OLD"), new=day.format(row="NEW"),
                                    day=day.format(row="comments")))


def drop_count_triggers(dialect: str) -> None:
    """Both shapes' triggers (scale_1's names are this revision's comment triggers' names)."""
    if dialect == "sqlite":
        for name in ("insert", "update", "delete", "thread_site", "thread_delete", "site_given"):
            op.execute(f"DROP TRIGGER IF EXISTS comment_counts_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS comment_counts_site_given ON comment_counts")
        op.execute("DROP FUNCTION IF EXISTS comment_counts_site_given()")
        op.execute("DROP TRIGGER IF EXISTS comment_counts_thread_site ON threads")
        op.execute("DROP TRIGGER IF EXISTS comment_counts_thread_delete ON threads")
        op.execute("DROP TRIGGER IF EXISTS comment_counts_track ON comments")
        op.execute("DROP FUNCTION IF EXISTS comment_counts_thread()")
        op.execute("DROP FUNCTION IF EXISTS comment_counts_track()")


def _scale_1():
    """scale_1's module (its file name starts with a digit: not importable by name)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0005_scale_indexes.py")
    spec = importlib.util.spec_from_file_location("widget_migration_scale_1", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Writers of comments and threads wait for the end of this transaction, then fire the
        # new triggers: the rebuilt counts miss no change made meanwhile.
        op.execute("LOCK TABLE comments, threads IN SHARE MODE")
    drop_count_triggers(dialect)
    # Plain nullable ADD COLUMN with a constant default: no table rebuild on SQLite, no rewrite
    # on PostgreSQL (and every row is written again below, with its site).
    op.add_column("comment_counts", sa.Column("site_id", sa.Integer(), nullable=True,
                                              server_default=sa.text(_NO_SITE)))
    op.execute("DELETE FROM comment_counts")
    day = _DAY[dialect].format(row="comments")
    op.execute(f"{_INSERT} SELECT {day}, comments.state, count(*), threads.site_id "  # noqa: S608
               f"FROM comments JOIN threads ON threads.id = comments.thread_id "
               f"GROUP BY {day}, comments.state, threads.site_id")
    op.create_index(_INDEX, "comment_counts", ["site_id", "day", "state", "n"])
    create_site_count_triggers(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    drop_count_triggers(dialect)
    op.drop_index(_INDEX, table_name="comment_counts")
    # The rows of every site still add up to the server's per day and state: they stay.
    op.drop_column("comment_counts", "site_id")
    _scale_1().create_count_triggers(dialect)
