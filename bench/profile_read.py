"""Profile one request type in-process (cProfile), to see where a request's time goes.

    .venv/bin/python bench/profile_read.py [hot|small|counts|post] [N]
"""
from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402
from bench.run import SECRET, prepare  # noqa: E402


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "hot"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    import logging

    logging.getLogger("widget_server.access").disabled = True  # its lines would bury the profile
    from widget_server import create_app

    folder = Path(tempfile.mkdtemp(prefix="widget-profile-"))
    url = f"sqlite:///{folder / 'p.db'}"
    prepare(url, folder)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(folder),
                      "ALLOWED_ORIGINS": [seeding.SITE], "RATELIMIT_ENABLED": False, "POW": "off"})
    client = app.test_client()
    paths = {"hot": "/api/v1/comments?url=" + quote(seeding.HOT, safe=""),
             "small": "/api/v1/comments?url=" + quote(seeding.SMALL, safe=""),
             "counts": "/api/v1/counts?" + "&".join(f"url={quote(seeding.page(i), safe='')}"
                                                    for i in range(50))}

    def one(i: int):
        if kind == "post":
            body = {"url": seeding.page(i % 198), "text": f"profile {i}"}
            return client.post("/api/v1/comments", json=body)
        return client.get(paths[kind], headers={"Accept-Encoding": "gzip"})

    for i in range(50):
        one(i)
    feed = app.extensions["widget_feed"]  # reads take versions from the change feed once it is live
    feed.start()  # posting alone never asks the feed for a version
    while not feed.fresh():
        time.sleep(0.01)
    for i in range(50):
        one(i)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(n):
        one(50 + i)
    profiler.disable()
    print(f"{n} requests: {(time.perf_counter() - started) / n * 1e6:.0f} µs each (under the profiler)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("widget_server|markdown|bleach", 40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
