"""The widget's budgets, measured in Debian's Chromium (issue 3; not a pass/fail test).

1. Bytes: everything a reader downloads for the widget before any comment
   arrives, compressed as served (budget: 12 KB); and each module loaded later,
   on demand (the account panel, the reaction picker, editing ...: 6 KB each). In English that is /widget.js
   alone (styles and English strings are inside it, identicons are drawn
   locally); in any other language /widget.js plus /widget-i18n/LANG.json,
   fetched alongside the thread. Every language is reported; the worst counts.
2. Script time: a thread of 500 comments rendered and interactive, against an
   empty thread measured in the same run (target: under 150 ms more script
   time). Chromium's own counters (CDP Performance.getMetrics) are read once
   the last comment is in the DOM; each case runs several times, alternating,
   and the median is reported. The machine is shared: read the ratios.

    .venv/bin/python bench/widget_budget.py [--runs 7]
"""
from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from widget_server import create_app
from widget_server.assets import STATIC_DIR, languages
from widget_server.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
BUDGET_BYTES = 12 * 1024
MODULE_BUDGET = 6 * 1024  # each module loaded later, on demand (issue 19)
GZIP = {"Accept-Encoding": "gzip"}
TARGET_MS = 150
METRICS = ("ScriptDuration", "TaskDuration", "LayoutDuration", "RecalcStyleDuration")


def start_server(instance: Path):
    app = create_app({"DATABASE_URL": f"sqlite:///{instance / 'bench.db'}", "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench", "ALLOWED_ORIGINS": ["*"], "RATELIMIT_ENABLED": False,
                      "POW": "off", "SPAM_MIN_SECONDS": 0, "SPAM_DUPLICATE_WINDOW": 0,
                      "SPAM_MAX_LINKS": 10_000})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}"


def start_host(html: str) -> tuple[object, str]:
    """The article page on a second origin (localhost, another port), as on a real site."""
    page = Response(html, mimetype="text/html")
    server = make_server("127.0.0.1", 0, page, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_port}"


def seed_500(app, url: str) -> int:
    """50 top-level comments (one page) with 9 replies each, nested up to four deep."""
    client = app.test_client()
    total = 0
    for n in range(50):
        def post(text, parent=None):
            nonlocal total
            r = client.post("/api/v1/comments", json={
                "url": url, "text": text, "parent_id": parent, "author": f"Reader {total % 37}",
                "website": "https://example.org/" if total % 5 == 0 else None})
            assert r.status_code == 201, r.get_json()
            total += 1
            return r.get_json()["comment"]["id"]

        top = post(f"Comment {n}: a paragraph of **Markdown** with a [link](https://example.org/) "
                   "and enough words to wrap over two lines in a normal column of text.")
        for branch in range(3):
            parent = top
            for depth in range(3):
                parent = post(f"Reply {branch}.{depth} to {n}: short and to the point.", parent)
    return total


def measure(browser, page_url: str, expect: int) -> dict[str, float]:
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(page_url)
    page.wait_for_function(
        "n => { const r = document.querySelector('#comments')?.shadowRoot;"
        " return r && r.querySelector('form') && r.querySelectorAll('li.c').length === n; }", arg=expect,
        polling=100)  # a slow poll: raf polling would add its own script time to both cases
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    context.close()
    return {name: metrics[name] * 1000 for name in METRICS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app, server, api = start_server(Path(tmp))
        html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>bench</title></head>"
                f"<body><h1>Article</h1><div id='comments'></div>"
                f"<script src='{api}/widget.js' async></script></body></html>")
        host, origin = start_host(html)
        try:
            empty_url, full_url = f"{origin}/empty", f"{origin}/full"
            count = seed_500(app, full_url)
            client = app.test_client()
            served = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
            raw = client.get("/widget.js").data
            account = client.get("/widget-account.js", headers={"Accept-Encoding": "gzip"}).data
            modules = {path.name: len(client.get("/" + path.name, headers=GZIP).data)
                       for path in sorted(STATIC_DIR.glob("widget-*.js"))}
            strings = {lang: (len(client.get(f"/widget-i18n/{lang}.json", headers=GZIP).data),
                              len(client.get(f"/widget-i18n/account/{lang}.json", headers=GZIP).data))
                       for lang in languages(STATIC_DIR) if lang != "en"}
            source = (Path(__file__).resolve().parent.parent / "static" / "widget.js").read_bytes()
            results: dict[str, list[dict[str, float]]] = {"empty": [], "500": []}
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                measure(browser, empty_url, 0)  # warm-up: caches, JIT
                for _ in range(args.runs):
                    results["empty"].append(measure(browser, empty_url, 0))
                    results["500"].append(measure(browser, full_url, count))
                browser.close()
        finally:
            server.shutdown()
            host.shutdown()

    size = len(served.data)
    print("Widget download before comments (gzip bytes as served)")
    print(f"  /widget.js source    {len(source):>7,} B   gzip -9: {len(gzip.compress(source, 9)):>6,} B")
    print(f"  /widget.js served    {len(raw):>7,} B   gzip:    {size:>6,} B   (English strings inside)")
    print(f"  {'language':<10}{'widget.js':>10}{'strings':>9}{'total':>8}   budget {BUDGET_BYTES:,} B")
    totals = {"en": size}
    for lang, (widget_strings, _) in sorted(strings.items()):
        totals[lang] = size + widget_strings
    for lang, total in totals.items():
        extra = total - size
        print(f"  {lang:<10}{size:>10,}{extra:>9,}{total:>8,}   {total / BUDGET_BYTES:.0%}")
    worst = max(totals, key=totals.__getitem__)
    print(f"  worst case: {worst}, {totals[worst]:,} B, {BUDGET_BYTES - totals[worst]:,} B under the budget"
          if totals[worst] <= BUDGET_BYTES else f"  OVER BUDGET: {worst}, {totals[worst]:,} B")
    on_demand = ", ".join(f"{lang} {n:,}" for lang, (_, n) in sorted(strings.items()))
    print(f"  on demand only (sign-in, account panels): /widget-account.js gzip: {len(account):>6,} B;"
          f" its strings /widget-i18n/account/LANG.json: {on_demand} B")
    print(f"  on-demand modules (budget {MODULE_BUDGET:,} B each, gzip as served):")
    for name, n in modules.items():
        over = "" if n <= MODULE_BUDGET else "   OVER"
        print(f"    /{name:<20}{n:>7,} B   {n / MODULE_BUDGET:.0%}{over}")
    print()
    print(f"Rendering {count} comments vs an empty thread, median of {args.runs} runs"
          " (ms, Chromium CDP metrics)")
    print(f"  {'metric':<20}{'empty':>10}{'500':>10}{'ratio':>9}{'extra':>10}")
    for name in METRICS:
        empty = statistics.median(r[name] for r in results["empty"])
        full = statistics.median(r[name] for r in results["500"])
        print(f"  {name:<20}{empty:>10.1f}{full:>10.1f}{full / empty:>8.1f}x{full - empty:>10.1f}")
    extra = (statistics.median(r["ScriptDuration"] for r in results["500"])
             - statistics.median(r["ScriptDuration"] for r in results["empty"]))
    print(f"\n  extra script time for {count} comments: {extra:.0f} ms (target < {TARGET_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
