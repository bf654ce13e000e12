"""The proof of work's budget (issue 14), measured on this machine in one run.

1. A bot's cost: a solver in Python's hashlib (the fast way: the salt's hash state copied,
   only the number hashed on top; and the ``altcha`` package's own solve_challenge_v1) asks
   for challenges at the default WIDGET_POW_COST as a newcomer and posts. Reported: CPU
   seconds per accepted comment (budget: at least 1 s), and as a ratio to the server's CPU
   for checking the solution, measured beside it.
2. A reader's wait: Debian's Chromium opens an article with the widget, starts typing,
   types for five seconds, presses "Post"; the time from the click to the POST's answer is
   measured with proof of work on (default cost) and off, alternating, and the medians are
   compared (budget: under 300 ms more).
3. Why no Web Crypto: in the same Chromium, SHA-256 digests per second through
   crypto.subtle.digest against widget-pow.js's own compressor.

    .venv/bin/python bench/pow_budget.py [--posts 8] [--runs 5]
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from altcha import ChallengeV1, solve_challenge_v1
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright
from sqlalchemy import delete
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from widget_server import create_app
from widget_server.config import SETTINGS
from widget_server.extensions import db
from widget_server.models import Comment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.pow import payload  # noqa: E402 - the tests' solver, same as the fast one here

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DEFAULT_COST = int(SETTINGS["POW_COST"][0])
RELAXED = {"SPAM_MIN_SECONDS": 0, "SPAM_DUPLICATE_WINDOW": 0, "RATELIMIT_ENABLED": False}
SITE = "http://localhost"


def make_app(folder: Path, **settings):
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "INSTANCE_PATH": str(folder),
                      "SECRET_KEY": "bench", "ALLOWED_ORIGINS": ["*"], **RELAXED, **settings})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return app


def fast_number(challenge: dict) -> int:
    prefix, wanted = hashlib.sha256(challenge["salt"].encode()), bytes.fromhex(challenge["challenge"])
    for number in range(challenge["maxnumber"] + 1):
        attempt = prefix.copy()
        attempt.update(b"%d" % number)
        if attempt.digest() == wanted:
            return number
    raise AssertionError("unsolvable")


def library_number(challenge: dict) -> int:
    made = ChallengeV1(challenge["algorithm"], challenge["challenge"], challenge["maxnumber"],
                       challenge["salt"], challenge["signature"])
    return solve_challenge_v1(made).number


def bot(app, posts: int) -> None:
    client = FlaskClient(app, app.response_class)
    for name, solver in (("hashlib, salt state copied", fast_number),
                         ("altcha.solve_challenge_v1", library_number)):
        solving, checking, tried = [], [], []
        for n in range(posts if solver is fast_number else max(2, posts // 3)):
            address = {"REMOTE_ADDR": f"198.51.100.{n + (0 if solver is fast_number else 100)}"}
            challenge = client.get("/api/v1/challenge", environ_base=address).json
            assert challenge["maxnumber"] == DEFAULT_COST
            started = time.process_time()
            number = solver(challenge)
            solving.append(time.process_time() - started)
            tried.append(number + 1)
            started = time.process_time()
            answer = client.post("/api/v1/comments", environ_base=address, json={
                "url": f"{SITE}/article", "text": f"bot comment {name} {n}",
                "altcha": payload(challenge, number)})
            checking.append(time.process_time() - started)
            assert answer.status_code == 201, answer.json
        mean = statistics.mean(solving)
        print(f"  {name}: {len(solving)} posts, CPU per accepted comment: mean {mean:.2f} s "
              f"(median {statistics.median(solving):.2f} s, {statistics.mean(tried) / mean:,.0f} hashes/s); "
              f"the server's whole post incl. the check: {statistics.mean(checking) * 1000:.1f} ms "
              f"-> the bot pays {mean / statistics.mean(checking):,.0f}x the server's work")


def forget_comments(app) -> None:
    with app.app_context():
        db.session.execute(delete(Comment))
        db.session.commit()
        db.session.remove()


def serve(app) -> tuple[object, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def host(apis: dict[str, str]) -> tuple[object, str]:
    def page(environ, start_response):
        which = environ["PATH_INFO"].strip("/").split("-")[0]
        html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bench</title></head>"
                f"<body><main><h1>An article</h1><div id='comments'></div>"
                f"<script src='{apis[which]}/widget.js' async></script></main></body></html>")
        return Response(html, mimetype="text/html")(environ, start_response)

    server = make_server("127.0.0.1", 0, page, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_port}"


def reader_wait(browser, url: str, run: int) -> float:
    page = browser.new_page()
    page.goto(url)
    root = page.locator("#comments")
    textarea = root.locator("textarea").first
    textarea.wait_for()
    words = f"A reader's comment number {run}, typed over five seconds like a person would. "
    textarea.click()
    started = time.monotonic()
    page.keyboard.type(words, delay=5000 / len(words))
    page.wait_for_timeout(max(0, 5000 - (time.monotonic() - started) * 1000))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/comments"),
                              timeout=120_000) as answer:
        clicked = time.monotonic()
        root.get_by_role("button", name="Post comment").click()
    waited = time.monotonic() - clicked
    assert answer.value.status == 201, answer.value.text()
    page.close()
    return waited


def digest_rates(browser, url: str) -> tuple[float, float]:
    page = browser.new_page()
    page.goto(url)
    page.locator("#comments textarea").first.wait_for()
    crypto = page.evaluate("""async () => {
      const encoder = new TextEncoder(), salt = "0123456789abcdef01234567?expires=1790000000&";
      const start = performance.now(); let n = 0;
      while (performance.now() - start < 2000) {
        const batch = [];
        for (let i = 0; i < 256; i++, n++) {
          batch.push(crypto.subtle.digest("SHA-256", encoder.encode(salt + n)));
        }
        await Promise.all(batch);
      }
      return n / ((performance.now() - start) / 1000);
    }""")
    module = page.evaluate("""async (api) => {
      const { default: proofOfWork } = await import(api + "/widget-pow.js");
      const challenge = await (await fetch(api + "/api/v1/challenge")).json();
      const work = proofOfWork(async () => ({ data: challenge }));
      const start = performance.now();
      const solution = JSON.parse(atob(await work.take()));
      return (solution.number + 1) / ((performance.now() - start) / 1000);
    }""", page.evaluate("() => new URL(document.querySelector('script[src$=\"widget.js\"]').src).origin"))
    page.close()
    return crypto, module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=8, help="posts by the hashlib bot")
    parser.add_argument("--runs", type=int, default=5, help="reader posts per case (on, off)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "on").mkdir()
        (folder / "off").mkdir()
        on, off = make_app(folder / "on"), make_app(folder / "off", POW="off")
        print(f"1. A bot in Python's hashlib, default WIDGET_POW_COST = {DEFAULT_COST:,} "
              "(a newcomer's cost):")
        bot(on, args.posts)
        servers = [serve(on), serve(off)]
        page_host, origin = host({"on": servers[0][1], "off": servers[1][1]})
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            waits: dict[str, list[float]] = {"on": [], "off": []}
            for run in range(args.runs):
                for case in ("off", "on"):
                    waits[case].append(reader_wait(browser, f"{origin}/{case}-{run}", run))
                forget_comments(on)  # every run is a newcomer's first comment: the default cost
            crypto, module = digest_rates(browser, f"{origin}/on-rates")
            browser.close()
        for server, _url in servers:
            server.shutdown()
        page_host.shutdown()
    median_on, median_off = statistics.median(waits["on"]), statistics.median(waits["off"])
    print(f"2. A reader in Chromium who types for 5 s, then presses Post "
          f"({args.runs} runs each, alternating):")
    print(f"  proof of work off: median {median_off * 1000:.0f} ms from the click to the answer "
          f"({', '.join(f'{w * 1000:.0f}' for w in waits['off'])})")
    print(f"  proof of work on:  median {median_on * 1000:.0f} ms "
          f"({', '.join(f'{w * 1000:.0f}' for w in waits['on'])})")
    extra = (median_on - median_off) * 1000
    print(f"  -> {extra:+.0f} ms more with proof of work (budget: under 300 ms): "
          f"{'within' if extra < 300 else 'OVER'} budget")
    print(f"3. SHA-256 digests per second in Chromium: crypto.subtle.digest {crypto:,.0f}; "
          f"widget-pow.js {module:,.0f} ({module / crypto:.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
