"""Two checkouts of widget-server side by side, in-process: the same requests timed in each, turn
about, and the ratio of the medians (for a change that should not cost speed, such as moving code).

    .venv/bin/python bench/compare_trees.py OLD_CHECKOUT NEW_CHECKOUT [ROUNDS]

Each checkout needs its own .venv (`make install`). Thread CPU time per request (hot thread read,
small thread read, new comment), so other work on a busy machine counts as little as possible.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ONE_TREE = r'''
import sys, tempfile, time
from pathlib import Path
from urllib.parse import quote
sys.path.insert(0, ".")
from bench import seed as seeding
from bench.run import SECRET, prepare
from widget_server import create_app
folder = Path(tempfile.mkdtemp(prefix="compare-"))
url = f"sqlite:///{folder / 'p.db'}"
prepare(url, folder)
app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(folder),
                  "ALLOWED_ORIGINS": [seeding.SITE], "RATELIMIT_ENABLED": False, "POW": "off"})
client = app.test_client()
paths = {kind: "/api/v1/comments?url=" + quote(page, safe="")
         for kind, page in (("hot", seeding.HOT), ("small", seeding.SMALL))}
def timed(call, n):
    for i in range(30):
        call(i)
    started = time.thread_time()
    for i in range(n):
        call(i)
    return (time.thread_time() - started) / n * 1e6
for kind in ("hot", "small"):
    print(kind, timed(lambda i: client.get(paths[kind], headers={"Accept-Encoding": "gzip"}), 1500))
print("post", timed(lambda i: client.post("/api/v1/comments", json={
    "url": seeding.page(i % 198), "text": f"compare {i} {time.time()}"}), 300))
'''


KINDS = ("hot", "small", "post")


def run(tree: Path) -> dict[str, float]:
    done = subprocess.run([str(tree / ".venv" / "bin" / "python"), "-c", ONE_TREE], cwd=tree,
                          capture_output=True, text=True, timeout=600, check=True,
                          env={"WIDGET_ENV_FILE": "", "PATH": ""})
    found = (line.split() for line in done.stdout.splitlines())
    return {words[0]: float(words[1]) for words in found if len(words) == 2 and words[0] in KINDS}


def main() -> None:
    old, new = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    seen: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    for _ in range(rounds):
        for name, tree in (("old", old), ("new", new)):
            for kind, micros in run(tree).items():
                seen[name].setdefault(kind, []).append(micros)
    print("request      old µs   new µs   new/old")
    for kind in seen["old"]:
        a, b = statistics.median(seen["old"][kind]), statistics.median(seen["new"][kind])
        print(f"{kind:<10} {a:8.0f} {b:8.0f}   {b / a:6.2f}")


if __name__ == "__main__":
    main()
