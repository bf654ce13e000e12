"""Peak memory of ``widget-server export`` and of its restore, on a small and a large database.

    .venv/bin/python bench/export_memory.py                    # 20,000 and 400,000 comments
    .venv/bin/python bench/export_memory.py --sizes 4000,32000 --max-ratio 1.2

For each size a child process fills a fresh SQLite database (threads, accounts, comments with
replies, likes, audit entries), another exports it, and a third restores the file into an
empty database (``widget-server import json``); each reports its peak resident memory
(ru_maxrss) above what it had once the app was loaded. The ratios large/small show whether
memory stays flat as the data grows, in both directions.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = ("Lorem ipsum dolor sit amet, **consectetur** adipiscing elit, sed do eiusmod tempor incididunt "
        "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation [{n}]"
        "(https://example.org/{n}) ullamco laboris.")


def _app(folder: str, name: str):
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from widget_server import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/{name}.db", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": folder, "ALLOWED_ORIGINS": ["https://blog.example"],
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
    return app


def fill(folder: str, comments: int) -> None:
    from sqlalchemy import insert

    app = _app(folder, "source")
    from widget_server.extensions import db
    from widget_server.models import AuditEntry, Comment, Like, Thread, User

    start = datetime(2020, 1, 1, tzinfo=UTC)
    with app.app_context():
        threads = max(1, comments // 40)
        db.session.execute(insert(Thread), [{"id": t, "url": f"https://blog.example/post/{t}/",
                                             "title": f"Post {t}", "created_at": start, "last_number": 40}
                                            for t in range(1, threads + 1)])
        db.session.execute(insert(User), [{"id": u, "email": f"u{u}@example.org", "display_name": f"User {u}",
                                           "name_key": f"user {u}", "name_skeleton": f"user {u}",
                                           "password_hash": "x", "created_at": start} for u in range(1, 101)])
        for first in range(1, comments + 1, 1000):
            rows = []
            for n in range(first, min(first + 1000, comments + 1)):
                number = (n - 1) % 40 + 1
                rows.append({"id": n, "thread_id": (n - 1) // 40 + 1, "number": number,
                             "parent_id": n - 1 if number > 1 and n % 3 else None, "depth": 1 if n % 3 else 0,
                             "author": f"User {n % 997}", "email": f"user{n % 997}@example.org",
                             "text": TEXT.format(n=n), "html": "", "state": "published",
                             "created_at": start + timedelta(minutes=n), "ip_hash": f"{n:064x}",
                             "user_id": n % 100 + 1 if n % 7 == 0 else None})
            db.session.execute(insert(Comment), rows)
            db.session.execute(insert(Like), [{"comment_id": r["id"], "voter_hash": f"{r['id']:064x}",
                                               "created_at": start} for r in rows[::2]])
            db.session.execute(insert(AuditEntry), [{"at": start, "actor": "bench", "action": "approve",
                                                     "target": f"comment {r['id']}"} for r in rows[::10]])
        db.session.commit()


def _peak(step) -> dict:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = step()
    return {"seconds": round(time.perf_counter() - started, 1), "baseline_kb": baseline,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **result}


def export(folder: str) -> dict:
    app = _app(folder, "source")
    from widget_server.export import export_to

    with app.app_context():
        return _peak(lambda: {"rows": sum(export_to(f"{folder}/export.json").values())})


def restore(folder: str) -> dict:
    app = _app(folder, "target")
    from widget_server.importers import run_import

    with app.app_context():
        return _peak(lambda: {"comments": run_import("json", f"{folder}/export.json").total_imported})


def child(step: str, folder: str, comments: int = 0) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    output = subprocess.run([sys.executable, __file__, "--run", step, folder, str(comments)], check=True,
                            capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1]) if output.strip() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,400000", help="small,large numbers of comments")
    parser.add_argument("--max-ratio", type=float, default=None,
                        help="fail if a large/small peak ratio is above")
    parser.add_argument("--run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        step, folder, comments = args.run
        result = {"fill": lambda: fill(folder, int(comments)) or {}, "export": lambda: export(folder),
                  "restore": lambda: restore(folder)}[step]()
        print(json.dumps(result))
        return 0
    results: dict = {}
    for label, size in zip(("small", "large"), (int(s) for s in args.sizes.split(",")), strict=True):
        with tempfile.TemporaryDirectory(prefix="widget-bench-") as folder:
            child("fill", folder, size)
            results[label] = {"export": child("export", folder), "restore": child("restore", folder),
                              "file_mb": round(os.path.getsize(f"{folder}/export.json") / 2**20, 1)}
    for step in ("export", "restore"):
        large, small = results["large"][step]["peak_kb"], results["small"][step]["peak_kb"]
        results[f"{step}_ratio"] = round(large / small, 3)
    print(json.dumps(results))
    worst = max(results["export_ratio"], results["restore_ratio"])
    if args.max_ratio is not None and worst > args.max_ratio:
        print(f"peak memory grew {worst}x (limit {args.max_ratio}x)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
