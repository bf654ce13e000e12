"""Does any request grow with the whole database? Time the reader's and the moderator's requests
on a small and a large database (bench/scale_load.py fills them), on SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py --sizes 10000 2000000 [--backends sqlite postgresql] [--write-docs]

Each request is made in-process through Flask's test client (the whole app: hooks, views,
queries, JSON), once to warm up and then ``--runs`` times; the table gives the median. Reads
are timed as cache misses (every in-process cache emptied before each run): what the first
reader after a change pays. The figure that matters is the ratio large / small, taken in the
same run on the same machine; for every row above 2 the plans of its statements on the large
database are printed under the table. PostgreSQL databases are scratch ones, dropped at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import scale_load  # noqa: E402

PG = os.environ.get("WIDGET_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DOCS = ROOT / "docs" / "performance.md"
ADMIN = "/api/v1/admin"
SMALL_PAGE = scale_load.page_url(scale_load.LARGE_THREADS + 7)
LARGE_PAGE = scale_load.large_url(0)


@contextlib.contextmanager
def database(backend: str, folder: Path, keep: str | None = None):
    """A scratch database, dropped after; with ``keep`` (a name), one kept for the next run."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / ((keep or 'scale') + '.db')}"
        return
    name = keep or f"widget_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        there = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not there:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def loaded(app) -> bool:
    """Whether a kept database was filled by an earlier run (the loader commits once, at the end)."""
    from widget_server.extensions import db

    with app.app_context():
        return db.session.execute(text("SELECT count(*) FROM threads")).scalar_one() > 0


def make_app(url: str, folder: Path):
    from widget_server import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-scale", "INSTANCE_PATH": str(folder),
                       "ALLOWED_ORIGINS": [scale_load.SITE], "RATELIMIT_ENABLED": False, "POW": "off"})


def forget(app) -> None:
    """Every in-process cache emptied: the next read is a miss."""
    app.extensions["widget_read_cache"].clear()
    app.extensions["widget_tree_cache"].store.clear()
    app.extensions.pop("widget_counts", None)


class Requests:
    """The operations timed, each a function of the run number that makes one request."""

    def __init__(self, app, client, admin: dict, middle: str, site_admin: dict):
        self.app, self.client, self.admin, self.middle = app, client, admin, middle
        self.site_admin = site_admin  # a moderator's token of the default site, every thread's
        self.posted = 0

    def get(self, path: str, admin: bool = False, site: bool = False):
        def run(_n: int):
            forget(self.app)
            response = self.client.get(path, headers=self.site_admin if site else self.admin if admin else {})
            assert response.status_code == 200, (path, response.status_code, response.data[:300])
        return run

    def post(self, url: str, moderation: str = "off"):
        def run(_n: int):
            self.posted += 1
            self.app.config["MODERATION"] = moderation
            body = {"url": url, "text": f"bench post {self.posted} {uuid.uuid4().hex}",
                    "email": f"Reader{self.posted % 50 + 1}@Example.org"}
            response = self.client.post("/api/v1/comments", json=body)
            self.app.config["MODERATION"] = "off"
            assert response.status_code in (201, 202), response.json
        return run

    def after_post(self, url: str):
        """A post, then the first read of the thread's new version: the read cache has no page of
        it, the tree cache still has the version before (as in a worker that served the thread)."""
        def run(n: int):
            self.post(url)(n)
            self.app.extensions["widget_read_cache"].clear()
            response = self.client.get(f"/api/v1/comments?url={url}&sort=newest")
            assert response.status_code == 200, response.data[:300]
        return run

    def second_page(self, url: str):
        def run(_n: int):
            forget(self.app)
            first = self.client.get(f"/api/v1/comments?url={url}&limit=20").json
            started = time.perf_counter()
            self.client.get(f"/api/v1/comments?url={url}&limit=20&cursor={first['next_cursor']}")
            self.client.get(f"/api/v1/comments?url={url}&sort=top&limit=20")
            return time.perf_counter() - started
        return run

    def operations(self) -> list[tuple[str, str, object]]:
        from widget_server.pagination import encode_cursor

        deep = encode_cursor([self.middle, 10 ** 9])
        pages = "&".join(f"url={scale_load.page_url(n)}" for n in range(10, 60))
        return [
            ("reader", "thread, 10 comments (miss)", self.get(f"/api/v1/comments?url={SMALL_PAGE}")),
            ("reader", "thread, 5,000 comments (nothing cached)",
             self.get(f"/api/v1/comments?url={LARGE_PAGE}")),
            ("reader", "5,000: page 2 and sort top after page 1", self.second_page(LARGE_PAGE)),
            ("reader", "post", self.post(SMALL_PAGE)),
            ("reader", "post to 5,000, then its first read", self.after_post(LARGE_PAGE)),
            ("reader", "post to 10, then its first read", self.after_post(SMALL_PAGE)),
            ("reader", "counts, 50 pages (first request)", self.get(f"/api/v1/counts?{pages}")),
            ("reader", "site feed", self.get("/api/v1/feed.atom")),
            ("reader", "feed of the large, old thread", self.get(f"/api/v1/feed.atom?url={LARGE_PAGE}")),
            ("moderator", "recent list", self.get(f"{ADMIN}/comments?limit=50", True)),
            ("moderator", "deep page (a year back)",
             self.get(f"{ADMIN}/comments?limit=50&cursor={deep}", True)),
            ("moderator", "held list", self.get(f"{ADMIN}/comments?state=pending&limit=50", True)),
            ("moderator", "search, common word", self.get(f"{ADMIN}/comments?q=magnesium&limit=50", True)),
            ("moderator", "search, no match", self.get(f"{ADMIN}/comments?q=quokkas&limit=50", True)),
            ("moderator", "threads list", self.get(f"{ADMIN}/threads?limit=50", True)),
            ("moderator", "stats, 30 days", self.get(f"{ADMIN}/stats?days=30", True)),
            ("moderator", "stats, 30 days, the site's token", self.get(f"{ADMIN}/stats?days=30", site=True)),
            ("moderator", "post, moderation=first", self.post(SMALL_PAGE, "first")),
        ]


def timed(run, runs: int) -> float:
    run(0)
    spent = []
    for n in range(1, runs + 1):
        started = time.perf_counter()
        inner = run(n)
        spent.append(inner if isinstance(inner, float) else time.perf_counter() - started)
    return statistics.median(spent) * 1000


def plans(app, run) -> list[str]:
    """The plans of every SELECT one run of ``run`` sends."""
    from widget_server.extensions import db

    seen: list[tuple[str, object]] = []

    def listen(_c, _cur, statement, parameters, _ctx, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        run(0)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    found = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        pg = engine.dialect.name == "postgresql"
        for statement, parameters in seen:
            cursor.execute(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + statement, parameters)
            lines = [row[0] if pg else row[-1] for row in cursor.fetchall()]
            found.append(statement.strip().splitlines()[0][:100] + "\n" + "\n".join(lines))
        raw.rollback()
    finally:
        raw.close()
    return found


def measure(backend: str, size: int, runs: int, want_plans: bool,
            keep: Path | None = None) -> tuple[dict, dict, dict]:
    import flask_migrate

    from widget_server.moderation.auth import create_token

    with contextlib.ExitStack() as stack:
        folder = keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        name = f"bench_scale_{size}" if keep else None
        url = stack.enter_context(database(backend, folder, name))
        app = make_app(url, folder)
        with app.app_context():
            flask_migrate.upgrade()
        kept = keep is not None and loaded(app)
        load = {"load": 0.0, "analyze": 0.0, "kept": True} if kept else scale_load.load(app, size)
        with app.app_context():
            from widget_server import sites
            from widget_server.extensions import db

            token = create_token("bench")
            site_token = create_token("bench-site", sites.default().id, "moderator")
            db.session.commit()
            middle = (scale_load.START + scale_load.SPAN / 2).isoformat()
        client = app.test_client()
        requests = Requests(app, client, {"Authorization": f"Bearer {token}"}, middle,
                            {"Authorization": f"Bearer {site_token}"})
        results, found_plans = {}, {}
        for who, name, run in requests.operations():
            results[(who, name)] = timed(run, runs)
            if want_plans:
                found_plans[(who, name)] = plans(app, run)
        with app.app_context():
            db.engine.dispose()
        load["loadavg"] = os.getloadavg()[0]
        return results, found_plans, load


def _loaded(size: int, load: dict) -> str:
    if load.get("kept"):
        return f"{size:,} comments (loaded by an earlier run, kept)"
    return f"{size:,} comments loaded in {load['load']:.1f} s (+ {load['analyze']:.1f} s ANALYZE)"


def report(sizes: list[int], backends: list[str], runs: int, keep: Path | None = None) -> str:
    small, large = sizes
    lines = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python bench/scale.py --sizes "
             f"{small} {large} --runs {runs}`; load average {os.getloadavg()[0]:.1f} before.", ""]
    plan_notes = []
    table = ["| backend | who | request | small ms | large ms | large / small |",
             "|---|---|---|---:|---:|---:|"]
    for backend in backends:
        few, _, load_small = measure(backend, small, runs, False, keep)
        many, many_plans, load_large = measure(backend, large, runs, True, keep)
        lines.append(f"{backend}: {_loaded(small, load_small)}; {_loaded(large, load_large)}; "
                     f"load average after each: {load_small['loadavg']:.1f}, {load_large['loadavg']:.1f}.")
        for key, ms in many.items():
            ratio = ms / few[key]
            table.append(f"| {backend} | {key[0]} | {key[1]} | {few[key]:.1f} | {ms:.1f} | {ratio:.2f} |")
            if ratio > 2:
                plan_notes.append(f"#### {backend}, {key[1]} ({ratio:.2f})\n\n```\n"
                                  + "\n\n".join(many_plans[key]) + "\n```\n")
    if not plan_notes:
        return "\n".join(lines + [""] + table + ["", "No row above 2."])
    notes = re.sub(r"'\{(https://[^,]*),[^}]*,(https://[^,}]*)\}'", r"'{\1,…,\2}'", "\n".join(plan_notes))
    return "\n".join(lines + [""] + table + ["", "### Plans of the rows above 2", "",
                                            "<details><summary>the plans, on the large database</summary>",
                                            "", notes, "</details>"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 2_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="FOLDER",
                        help="keep the databases (SQLite files in FOLDER, PostgreSQL bench_scale_SIZE) "
                             "and reuse them next time instead of loading again; drop them yourself")
    args = parser.parse_args()
    os.environ.setdefault("WIDGET_ENV_FILE", "")
    body = report(args.sizes, args.backends, args.runs, args.keep)
    print(body)
    if args.write_docs:
        doc = DOCS.read_text()
        begin, end = "<!-- scale:begin -->", "<!-- scale:end -->"
        head, rest = doc.split(begin, 1)
        DOCS.write_text(head + begin + "\n" + body + "\n" + end + rest.split(end, 1)[1])


if __name__ == "__main__":
    main()
