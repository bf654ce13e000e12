"""Fill a migrated, empty database with a realistic mix of comments, fast.

The project's own schema (the migrations) and rendering (``comments.render``: a pool of texts
rendered once, reused), written in bulk: ``COPY`` on PostgreSQL, ``executemany`` in large
transactions on SQLite. The mix: threads of 1-19 comments (ten on average), a few very large
old threads, replies nested under earlier comments of their thread, every state (published,
held, spam, deleted tombstones), some e-mail addresses (in mixed case) shared by many comments,
dates spread over two years, oldest threads first. Deterministic for a seed.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from widget_server.models import SEARCH_TABLE

SITE = "https://blog.example"
LARGE_SIZES = (5000, 2500)  # the oldest threads; the first is the one bench/scale.py reads
LARGE_THREADS = len(LARGE_SIZES)
LARGE_SIZE = LARGE_SIZES[0]
START = datetime(2024, 12, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
STATES = ["published"] * 90 + ["pending"] * 4 + ["spam"] * 3 + ["deleted"] * 3
WORDS = ["comment", "thread", "reply", "widget", "server", "cache", "page", "reader", "author", "markdown",
         "link", "code", "nested", "sort", "oldest", "newest", "likes", "quick", "brown", "fox",
         "jumps", "lazy", "dog", "muscle", "spasm", "magnesium", "stretch", "week", "doctor",
         "sleep", "water", "salt", "potassium"]
COMMENT_COLUMNS = ("id", "thread_id", "parent_id", "number", "depth", "author", "email", "website", "text",
                   "html", "state", "held_reason", "created_at", "likes", "pinned", "ip_hash")
THREAD_COLUMNS = ("id", "url", "title", "created_at", "locked", "last_number", "version")


def large_url(n: int) -> str:
    return f"{SITE}/large/{n}"


def page_url(n: int) -> str:
    return f"{SITE}/post/{n}"


def _texts(rng: random.Random, count: int = 400) -> list[tuple[str, str]]:
    from widget_server.comments.render import render

    pool = []
    for i in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
        extra = rng.choice(["", " with *emphasis*", " and `code`", "\n\n> a quote\n\nand more", " **bold**"])
        source = f"{i}: {words}{extra}."
        pool.append((source, render(source)))
    return pool


def plan_threads(total: int, rng: random.Random) -> list[int]:
    """Comments per thread: the large ones first (the oldest), then small ones up to ``total``."""
    sizes = list(LARGE_SIZES)
    left = total - sum(sizes)
    while left > 0:
        size = min(left, rng.randint(1, 19))
        sizes.append(size)
        left -= size
    return sizes


def rows(total: int, seed: int = 16) -> tuple[list[tuple], Iterator[tuple]]:
    """(threads, a generator of comment rows), in the column orders above."""
    rng = random.Random(seed)
    texts = _texts(rng)
    sizes = plan_threads(total, rng)
    step = SPAN / len(sizes)
    threads = []
    for n, size in enumerate(sizes):
        url = large_url(n) if n < LARGE_THREADS else page_url(n)
        threads.append((n + 1, url, f"Page {n}", START + step * n, False, size, size))
    emails = [f"Reader{n}@Example.org" if n % 3 else f"reader{n}@example.org"
              for n in range(max(10, total // 20))]

    def comments() -> Iterator[tuple]:
        cid = 0
        for n, size in enumerate(sizes):
            opened = threads[n][3]
            # A large thread's comments spread over its whole life; a small one's over a few days.
            gap = (SPAN - step * n) / size if n < LARGE_THREADS else timedelta(minutes=rng.randint(5, 600))
            depths: list[tuple[int, int]] = []
            for number in range(1, size + 1):
                cid += 1
                parent, depth = None, 0
                if depths and rng.random() < 0.45:
                    parent, parent_depth = rng.choice(depths[-50:])
                    depth = min(parent_depth + 1, 29)
                depths.append((cid, depth))
                state = rng.choice(STATES)
                source, html = rng.choice(texts)
                email = rng.choice(emails) if rng.random() < 0.4 else None
                author = rng.choice(["Ann", "Bo", "", "Chris", "Dee", "Émile"])
                if state == "deleted":
                    source = html = author = ""
                    email = None
                yield (cid, n + 1, parent, number, depth, author, email, None, source, html, state,
                       "held by the loader" if state == "pending" else None, opened + gap * number,
                       rng.randint(0, 3), False, f"{rng.getrandbits(128):032x}")

    return threads, comments()


def load(app, total: int, seed: int = 16) -> dict:
    """Fill the database of ``app`` (migrated, empty); how long each step took, in seconds."""
    from widget_server.extensions import db

    threads, comments = rows(total, seed)
    timings: dict[str, float] = {}
    with app.app_context():
        engine = db.engine
        started = time.perf_counter()
        if engine.dialect.name == "postgresql":
            _copy(engine, threads, comments)
        else:
            _executemany(engine, threads, comments)
        timings["load"] = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
        engine.dispose()
    return timings


def _copy(engine, threads, comments) -> None:
    """PostgreSQL: COPY with the secondary indexes and the triggers off, then both rebuilt, as
    the migrations made them (their definitions are read back from the catalog)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'comments' "
                       "AND indexname LIKE 'ix_%'")
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("ALTER TABLE comments DISABLE TRIGGER USER")
        with cursor.copy(f"COPY threads ({', '.join(THREAD_COLUMNS)}) FROM STDIN") as copy:
            for row in threads:
                copy.write_row(row)
        with cursor.copy(f"COPY comments ({', '.join(COMMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in comments:
                copy.write_row(row)
        # The per-day counts, filled once as the migration does for rows that were there before.
        cursor.execute("INSERT INTO comment_counts (day, state, site_id, n) SELECT "
                       "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), c.state, t.site_id, count(*) "
                       "FROM comments c JOIN threads t ON t.id = c.thread_id GROUP BY 1, 2, 3")
        cursor.execute("ALTER TABLE comments ENABLE TRIGGER USER")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table in ("threads", "comments"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                           f"(SELECT max(id) FROM {table}))")
        raw.commit()
    finally:
        raw.close()


def _sqlite_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it on SQLite


def _executemany(engine, threads, comments) -> None:
    """SQLite: executemany with the comments' indexes and triggers dropped, then both made again
    from their own definitions (sqlite_master), the FTS table rebuilt and the counts filled."""
    def insert(columns) -> str:
        return f"INSERT INTO {{}} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608

    engine.dispose()  # one connection: leaving WAL mode needs the file to itself
    raw = engine.raw_connection()
    try:
        # A scratch database filled in one transaction: no journal (a crash mid-load means loading
        # again), and a page cache of 1 GiB, without which the FTS rebuild and the index builds
        # of two million rows thrash on 4 KB reads of the file (most of an hour here).
        raw.execute("PRAGMA journal_mode = OFF")
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -1048576")
        raw.execute("PRAGMA temp_store = MEMORY")
        cursor = raw.cursor()
        saved = cursor.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'comments' "
                               "AND type IN ('index', 'trigger') AND sql IS NOT NULL").fetchall()
        for kind, name, _sql in saved:
            cursor.execute(f"DROP {kind.upper()} {name}")
        plain = [(i, u, t, _sqlite_time(c), 0, n, v) for i, u, t, c, _l, n, v in threads]
        cursor.executemany(insert(THREAD_COLUMNS).format("threads"), plain)
        batch: list[tuple] = []
        statement = insert(COMMENT_COLUMNS).format("comments")
        for row in comments:
            batch.append(row[:12] + (_sqlite_time(row[12]),) + row[13:])
            if len(batch) == 20000:
                cursor.executemany(statement, batch)
                batch.clear()
        cursor.executemany(statement, batch)
        cursor.execute("INSERT INTO comment_counts (day, state, site_id, n)"
                       " SELECT substr(c.created_at, 1, 10), c.state, t.site_id, count(*)"
                       " FROM comments c JOIN threads t ON t.id = c.thread_id GROUP BY 1, 2, 3")
        cursor.execute(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')")  # noqa: S608
        for _kind, _name, sql in saved:
            cursor.execute(sql)
        raw.commit()
    finally:
        raw.close()
    engine.dispose()  # the next connections are made as the app makes them (WAL, NORMAL)
    with engine.begin() as connection:
        connection.execute(text("PRAGMA journal_mode = WAL"))
