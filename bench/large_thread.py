"""What a post to a large thread costs its next reader: the first read of the new version, with the
tree built from the version before (comments/trees.py) and, in the same run, with it built again
from every row (as before), against the same on a small thread.

    .venv/bin/python bench/large_thread.py [--backend sqlite|postgresql] [--runs 15]

In-process (Flask's test client, the whole app). Each run posts one comment, empties the read
cache (so the read is a miss, as for the first reader of the new version) and times the read in
thread CPU time (what a worker spends; other load on a shared machine disturbs it least), wall
time beside it. A database with bench/scale_load.py's mix: one thread of 5,000 comments, one of
2,500, and 500 comments in small threads.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import scale, scale_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("WIDGET_ENV_FILE", "")
    import flask_migrate

    from widget_server.comments import trees

    with tempfile.TemporaryDirectory() as folder, scale.database(args.backend, Path(folder)) as url:
        app = scale.make_app(url, Path(folder))
        with app.app_context():
            flask_migrate.upgrade()
        scale_load.load(app, sum(scale_load.LARGE_SIZES) + 500)
        client = app.test_client()
        posted = [0]

        def after_post(page: str) -> tuple[float, float]:
            posted[0] += 1
            body = {"url": page, "text": f"bench {posted[0]} {time.time()}"}
            answer = client.post("/api/v1/comments", json=body)
            assert answer.status_code == 201, answer.json
            app.extensions["widget_read_cache"].clear()
            cpu, wall = time.thread_time(), time.perf_counter()
            answer = client.get(f"/api/v1/comments?url={page}&sort=newest")
            assert answer.status_code == 200 and answer.json["comments"][0]["html"].startswith("<p>bench ")
            return (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000

        def cold(page: str) -> tuple[float, float]:
            scale.forget(app)
            cpu, wall = time.thread_time(), time.perf_counter()
            assert client.get(f"/api/v1/comments?url={page}&sort=newest").status_code == 200
            return (time.thread_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000

        def timed(run, page: str) -> tuple[float, float]:
            run(page)
            found = [run(page) for _ in range(args.runs)]
            return statistics.median(f[0] for f in found), statistics.median(f[1] for f in found)

        large, small = scale_load.large_url(0), scale.SMALL_PAGE
        rows, threshold_was = {}, trees.INCREMENTAL_FROM
        # Same run, turn about: from the version before, then (the threshold out of reach) in full.
        for name, threshold in (("from the version before", threshold_was), ("built in full", 10 ** 9),
                                ("from the version before, again", threshold_was)):
            trees.INCREMENTAL_FROM = threshold
            scale.forget(app)
            rows[f"post to 5,000, first read: {name}"] = timed(after_post, large)
        trees.INCREMENTAL_FROM = threshold_was
        rows["5,000, cold (nothing cached)"] = timed(cold, large)
        rows["post to 10, first read"] = timed(after_post, small)
        rows["10, cold (nothing cached)"] = timed(cold, small)
        base = rows["post to 10, first read"][0]
        print(f"{args.backend}, {args.runs} runs each, load average {os.getloadavg()[0]:.1f}\n")
        print("| read | CPU ms | wall ms | CPU / post to 10, first read |\n|---|---:|---:|---:|")
        for name, (cpu, wall) in rows.items():
            print(f"| {name} | {cpu:.1f} | {wall:.1f} | {cpu / base:.1f} |")
        with app.app_context():
            from widget_server.extensions import db

            db.engine.dispose()


if __name__ == "__main__":
    main()
