"""Peak memory of ``widget-server import disqus`` on a small and a large generated export.

    .venv/bin/python bench/import_memory.py                 # 2 MB and 100 MB
    .venv/bin/python bench/import_memory.py --sizes 1,8 --max-ratio 1.3

Each import runs in its own process (a fresh SQLite database) and reports its
peak resident memory (ru_maxrss); the ratio large/small shows whether memory
stays flat as the file grows. The generated file has what makes streaming
hard: threads listed after their posts, replies before their parents, HTML
messages in CDATA.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESSAGE = ("<p>Lorem ipsum dolor sit amet, <b>consectetur</b> adipiscing elit, sed do eiusmod tempor "
           "incididunt ut labore et dolore magna aliqua.</p><p>Ut enim ad minim veniam, quis nostrud "
           "<a href=\"https://example.org/{n}\">exercitation</a> ullamco laboris.</p>"
           "<script>alert({n})</script>")


def generate(path: Path, megabytes: float, seed: int = 7) -> int:
    """Write a Disqus export of about ``megabytes``; returns the number of posts."""
    rng = random.Random(seed)
    target = int(megabytes * 1024 * 1024)
    posts = 0
    pending_threads: list[int] = []
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
                  'xmlns:dsq="http://disqus.com/disqus-internals">\n')
        thread = 0
        while out.tell() < target:
            thread += 1
            count = rng.randint(5, 60)
            first = posts + 1
            for i in range(count):
                posts += 1
                # a reply to an earlier post of the thread, or (now and then) to a later one
                parent = ""
                if i and rng.random() < 0.6:
                    pid = rng.randint(first, posts + (3 if rng.random() < 0.1 else 0))
                    if pid != posts:
                        parent = f'<parent dsq:id="{pid}"/>'
                out.write(
                    f'<post dsq:id="{posts}"><id/><message><![CDATA[{MESSAGE.format(n=posts)}]]></message>'
                    f"<createdAt>2015-{1 + posts % 12:02d}-{1 + posts % 28:02d}T{posts % 24:02d}:"
                    f"{posts % 60:02d}:00Z</createdAt><isDeleted>{'true' if posts % 50 == 0 else 'false'}"
                    f"</isDeleted><isSpam>false</isSpam><author><name>User {posts % 997}</name>"
                    f"<email>user{posts % 997}@example.org</email></author><ipAddress>192.0.2.{posts % 250}"
                    f'</ipAddress><thread dsq:id="{thread}"/>{parent}</post>\n')
            pending_threads.append(thread)
            if len(pending_threads) >= 20:  # threads come after their posts
                for t in pending_threads:
                    out.write(f'<thread dsq:id="{t}"><id/><link>https://blog.example/post/{t}/</link>'
                              f"<title>Post {t}</title></thread>\n")
                pending_threads.clear()
        for t in pending_threads:
            out.write(f'<thread dsq:id="{t}"><link>https://blog.example/post/{t}/</link></thread>\n')
        out.write("</disqus>\n")
    return posts


def run_one(path: str) -> None:
    """In a child process: import ``path`` into a fresh SQLite database, print the figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from flask_migrate import upgrade

    from widget_server import create_app
    from widget_server.importers import run_import

    with tempfile.TemporaryDirectory(prefix="widget-bench-") as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "SECRET_KEY": "bench",
                          "INSTANCE_PATH": folder, "ALLOWED_ORIGINS": ["https://blog.example"],
                          "LOG_LEVEL": "WARNING"})
        with app.app_context():
            upgrade()
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            summary = run_import("disqus", path)
            seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"imported": summary.total_imported, "seconds": round(seconds, 1),
                      "baseline_kb": baseline, "peak_kb": peak}))


def measure(path: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--run", str(path)], check=True, capture_output=True,
                            text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2,100", help="small,large file sizes in MB")
    parser.add_argument("--max-ratio", type=float, default=None, help="fail if large/small peak RSS is above")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_one(args.run)
        return 0
    small_mb, large_mb = (float(s) for s in args.sizes.split(","))
    results = {}
    with tempfile.TemporaryDirectory(prefix="widget-bench-") as folder:
        for label, size in (("small", small_mb), ("large", large_mb)):
            path = Path(folder) / f"{label}.xml"
            posts = generate(path, size)
            figures = measure(path)
            figures.update(file_mb=round(path.stat().st_size / 2**20, 1), posts=posts)
            results[label] = figures
            path.unlink()
    results["ratio"] = round(results["large"]["peak_kb"] / results["small"]["peak_kb"], 3)
    print(json.dumps(results))
    if args.max_ratio is not None and results["ratio"] > args.max_ratio:
        print(f"peak memory grew {results['ratio']}x (limit {args.max_ratio}x)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
