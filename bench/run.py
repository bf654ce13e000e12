"""The read/write benchmark: widget-server against a bare-Flask ceiling, in one run.

    make bench                        # = .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --duration 5 --backends sqlite,postgresql --write-docs

For each database backend: a fresh database is seeded (bench/seed.py: ~200
threads, one hot thread of 500 nested comments), the service is served by
gunicorn with fixed settings, and the same requests are answered by a bare
Flask app (bench/baseline_app.py) under the same gunicorn settings: recorded,
byte-identical responses for reads, one INSERT into the same database for posts.
Both are loaded with wrk on 127.0.0.1, one after the other, for a few seconds
per scenario. Only the ratio app/ceiling is meaningful: the machine is shared.

PostgreSQL: a scratch database on WIDGET_BENCH_DATABASE_URL (default: the local
server, postgresql://postgres@127.0.0.1:5432/test), created and dropped here.
Needs wrk: `apt-get install -y wrk`.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "performance.md"
SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throwaway database
SKIP_HEADERS = {"date", "server", "x-request-id", "content-length", "connection", "transfer-encoding",
                "keep-alive"}
TARGETS = {"hot thread": 0.8, "small thread": 0.8, "304 revalidation": 0.8, "counts, 50 pages": 0.5,
           "posting": 0.3}


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    post: bool = False


def scenarios(only: str = "", skip: str = "") -> list[Scenario]:
    thread = "/api/v1/comments?url="
    fragment = "/api/v1/comments.html?url="  # the thread as HTML (docs/server-rendering.md)
    gzip = {"Accept-Encoding": "gzip"}
    counts = "/api/v1/counts?" + "&".join(f"url={quote(seeding.page(n), safe='')}" for n in range(50))
    every = [
        Scenario("hot thread", "GET", thread + quote(seeding.HOT, safe=""), gzip),
        Scenario("hot thread, HTML", "GET", fragment + quote(seeding.HOT, safe=""), gzip),
        Scenario("small thread", "GET", thread + quote(seeding.SMALL, safe=""), gzip),
        Scenario("small thread, HTML", "GET", fragment + quote(seeding.SMALL, safe=""), gzip),
        Scenario("counts, 50 pages", "GET", counts, gzip),
        Scenario("304 revalidation", "GET", thread + quote(seeding.HOT, safe=""), gzip),  # + If-None-Match
        Scenario("304 revalidation, HTML", "GET", fragment + quote(seeding.HOT, safe=""), gzip),
        Scenario("posting", "POST", "/api/v1/comments", {"Content-Type": "application/json"}, post=True),
    ]
    wanted = [word.strip() for word in only.split(",") if word.strip()]
    unwanted = [word.strip() for word in skip.split(",") if word.strip()]
    return [sc for sc in every if (not wanted or any(word in sc.name for word in wanted))
            and not any(word in sc.name for word in unwanted)]


LUA = r"""
local headers = __HEADERS__
local path = "__PATH__"
local method = "__METHOD__"
local post = __POST__
local counter = 0
local run = "__RUN__"
request = function()
  if post then
    counter = counter + 1
    local page = math.random(0, 197)
    local body = string.format(
      '{"url":"https://blog.example/bench/page-%d","text":"bench %s-%d: a new comment, *some* markdown."}',
      page, run, counter)
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format(method, path, headers)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(folder: Path, scenario: Scenario, headers: dict[str, str]) -> Path:
    table = "{" + ", ".join(f'["{k}"] = [==[{v}]==]' for k, v in headers.items()) + "}"
    post = "true" if scenario.post else "false"
    script = (LUA.replace("__HEADERS__", table).replace("__PATH__", scenario.path)
              .replace("__METHOD__", scenario.method).replace("__POST__", post)
              .replace("__RUN__", uuid.uuid4().hex[:8]))
    path = folder / f"{re.sub(r'[^a-z0-9]+', '-', scenario.name)}-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str, app: str, env: dict[str, str], folder: Path, workers: int, threads: int,
                 ready_path: str = "/healthz"):
        self.name, self.port = name, free_port()
        metrics = folder / f"metrics-{name}"
        metrics.mkdir()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "PROMETHEUS_"))},
                    **env, "WIDGET_BIND": f"127.0.0.1:{self.port}", "WIDGET_WORKERS": str(workers),
                    "WIDGET_THREADS": str(threads), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        self.log = open(folder / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        command = [str(BIN / "gunicorn"), "-c", "python:widget_server.ops.gunicorn_conf", app]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        # The master listens at once; wait until every worker has loaded the app and answers.
        deadline, answered = time.monotonic() + 60, 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} did not start; see {folder / (name + '.log')}")
            with contextlib.suppress(OSError):
                answered = answered + 1 if self.request("GET", ready_path, {})[0] < 500 else 0
            if answered >= 4 * workers and len(self.worker_rss_mb()) == workers:
                self.settle()
                return
            time.sleep(0.05)
        raise SystemExit(f"{name} did not start within 60 s")

    def settle(self, idle: float = 0.05, most: float = 180.0) -> None:
        """Wait until the idle workers stop using CPU: each app worker compresses the widget's
        files (zopfli, every language) in a thread after it starts, seconds of CPU that would
        otherwise be counted against the first scenarios' requests (posting alone: all of it)."""
        deadline = time.monotonic() + most
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - before < idle:
                return
            before = now
        print(f"  {self.name}: workers still busy after {most:.0f} s; measuring anyway", flush=True)

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if ppid == self.process.pid:
                    status = (stat.parent / "status").read_text()
                    kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                    sizes.append(kb / 1024)
        return sorted(sizes)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker processes: a cost per request
        that other load on the machine disturbs far less than requests per second."""
        return sum(self.cpu_by_worker().values())

    def cpu_by_worker(self) -> dict[int, float]:
        """Each live worker's CPU time so far, by process id, and under 0 the exited ones'
        (the master's ``cutime``/``cstime``, which the kernel adds their times to when the
        master reaps them): the total never goes back."""
        ticks = os.sysconf("SC_CLK_TCK")
        found: dict[int, float] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[0] = (int(fields[13]) + int(fields[14])) / ticks
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def combine(results: list[dict]) -> dict:
    """Several wrk runs of one server as one: total requests over total time, the worse latencies."""
    keys = ("requests", "duration_us", "status_errors", "socket_errors", "cpu_s")
    total = {k: sum(r[k] for r in results) for k in keys}
    total.update(p50_us=max(r["p50_us"] for r in results), p99_us=max(r["p99_us"] for r in results))
    total["rps"] = total["requests"] / (total["duration_us"] / 1e6)
    total["cpu_us_per_request"] = total["cpu_s"] / max(1, total["requests"]) * 1e6
    return total


def wrk(port: int, script: Path, duration: float, connections: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = json.loads(line.split(" ", 1)[1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(server: Server, folder: Path, sc: Scenario, headers: dict[str, str], args) -> dict:
    """One wrk run against ``server``, with its workers' CPU time. gunicorn hands each keep-alive
    connection to whichever worker accepts it first, and now and then one worker takes all
    eight: the run then measures one process (half the throughput, more CPU per request on its
    busy GIL), whichever server it is. Such a run is said and measured again (up to twice)."""
    for attempt in range(3):
        before = server.cpu_by_worker()
        result = wrk(server.port, lua_script(folder, sc, headers), args.duration, args.connections)
        after = server.cpu_by_worker()
        result["cpu_s"] = sum(after.values()) - sum(before.values())
        if after.keys() != before.keys():  # a worker died or was replaced: say so
            print(f"  {server.name}: a worker was replaced during {sc.name}", flush=True)
        shares = [after[pid] - before[pid] for pid in after if pid in before and pid != 0]
        if len(shares) < 2 or min(shares) >= 0.2 * sum(shares) or attempt == 2:
            return result
        print(f"  {server.name}: one worker took {max(shares) / sum(shares):.0%} of {sc.name}'s CPU "
              "(wrk's connections went to it); measured again", flush=True)
    return result


# --- databases ----------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, folder: Path):
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    server = os.environ.get("WIDGET_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"widget_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, folder: Path) -> int:
    """Migrate and seed; return the id of the thread the baseline inserts into."""
    from sqlalchemy import select

    from widget_server import create_app
    from widget_server.extensions import db
    from widget_server.models import Thread

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(folder),
                      "ALLOWED_ORIGINS": [seeding.SITE], "RATELIMIT_ENABLED": False, "POW": "off"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.monotonic()
        made = seeding.seed(app)
        print(f"  seeded {made['comments']} comments in {time.monotonic() - started:.1f} s", flush=True)
        thread_id = db.session.execute(
            select(Thread.id).where(Thread.url == seeding.BASELINE_PAGE)).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return thread_id


# --- one backend --------------------------------------------------------------------------


def run_backend(backend: str, args, folder: Path) -> list[dict]:
    print(f"== {backend}", flush=True)
    rows = []
    with database(backend, folder) as url:
        thread_id = prepare(url, folder)
        common = {"WIDGET_DATABASE_URL": url, "WIDGET_SECRET_KEY": SECRET,
                  "WIDGET_INSTANCE_PATH": str(folder), "WIDGET_ALLOWED_ORIGINS": seeding.SITE,
                  "WIDGET_RATELIMIT_ENABLED": "false", "WIDGET_POW": "off",
                  # No recycling in the middle of a measurement: a new worker's start-up (the
                  # widget's files compressed again) would be counted against the requests.
                  "WIDGET_MAX_REQUESTS": "0"}
        app = Server(f"{backend}-app", "widget_server:create_app()", common, folder, args.workers,
                     args.threads)
        base = None
        try:
            # Record what the service answers, then serve exactly those bytes from the baseline.
            recorded, etags = {}, {}
            for sc in scenarios(args.only, args.skip):
                if sc.post:
                    continue
                status, headers, body = app.request("GET", sc.path, sc.headers)
                assert status == 200, (sc.name, status, body[:200])
                kept = {k: v for k, v in headers.items() if k.lower() not in SKIP_HEADERS}
                recorded[sc.path] = {"status": status, "headers": kept,
                                     "body": base64.b64encode(body).decode()}
                etags[sc.path] = headers.get("ETag")
            responses = folder / f"{backend}-responses.json"
            responses.write_text(json.dumps(recorded))
            base = Server(f"{backend}-baseline", "bench.baseline_app:create_app()",
                          {**common, "BENCH_RESPONSES": str(responses), "BENCH_DATABASE_URL": url,
                           "BENCH_THREAD_ID": str(thread_id)}, folder, args.workers, args.threads,
                          ready_path=next(iter(recorded), "/healthz"))
            for path, r in recorded.items():
                status, _headers, body = base.request("GET", path, {"Accept-Encoding": "gzip"})
                assert status == 200 and body == base64.b64decode(r["body"]), f"baseline differs for {path}"
            sizes = {sc.name: len(base64.b64decode(recorded[sc.path]["body"]))
                     for sc in scenarios(args.only, args.skip) if not sc.post}

            for sc in scenarios(args.only, args.skip):
                headers = dict(sc.headers)
                if sc.name.startswith("304"):
                    headers["If-None-Match"] = etags[sc.path]
                    assert app.request("GET", sc.path, headers)[0] == 304
                    assert base.request("GET", sc.path, headers)[0] == 304
                runs: dict[bool, list[dict]] = {True: [], False: []}
                for server in (base, app):
                    # A new script per run: posted texts are never repeated (the app refuses duplicates).
                    wrk(server.port, lua_script(folder, sc, headers), 2, args.connections)  # warm-up
                # ceiling, app, app, ceiling: a drift in the machine's load hits both sides alike.
                for server in (base, app, app, base)[: 4 if args.rounds == 2 else 2]:
                    runs[server is app].append(measure(server, folder, sc, headers, args))
                ours, ceiling = combine(runs[True]), combine(runs[False])
                row = {"backend": backend, "scenario": sc.name, "app": ours, "ceiling": ceiling,
                       "ratio": ours["rps"] / ceiling["rps"], "target": TARGETS.get(sc.name),
                       "cpu_ratio": ceiling["cpu_us_per_request"] / ours["cpu_us_per_request"],
                       "bytes": sizes.get(sc.name)}
                rows.append(row)
                print(f"  {sc.name:18} app {ours['rps']:8.0f}/s  ceiling {ceiling['rps']:8.0f}/s  "
                      f"ratio {row['ratio']:.2f}  CPU/request {ours['cpu_us_per_request']:.0f} vs "
                      f"{ceiling['cpu_us_per_request']:.0f} µs ({row['cpu_ratio']:.2f})  "
                      f"p50 {ours['p50_us'] / 1000:.1f} ms  "
                      f"p99 {ours['p99_us'] / 1000:.1f} ms  "
                      f"errors {ours['status_errors']}+{ours['socket_errors']}",
                      flush=True)
            rows.append({"backend": backend, "scenario": "worker RSS (MB)", "rss_app": app.worker_rss_mb(),
                         "rss_ceiling": base.worker_rss_mb()})
        finally:
            app.stop()
            if base:
                base.stop()
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| backend | scenario | app req/s | ceiling req/s | ratio | target | worker CPU µs per request, "
             "app / ceiling (ratio) | app p50 / p99 ms | ceiling p50 / p99 ms | errors |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        if "rss_app" in r:
            app = " + ".join(f"{mb:.0f}" for mb in r["rss_app"])
            base = " + ".join(f"{mb:.0f}" for mb in r["rss_ceiling"])
            lines.append(f"| {r['backend']} | worker RSS after the run | {app} MB | {base} MB | | | | | | |")
            continue
        a, c = r["app"], r["ceiling"]
        target = "—"
        if r["target"]:
            target = f"≥ {r['target']:.1f} {'met' if r['ratio'] >= r['target'] else 'MISSED'}"
        lines.append(
            f"| {r['backend']} | {r['scenario']} | {a['rps']:.0f} | {c['rps']:.0f} | {r['ratio']:.2f} "
            f"| {target} | {a['cpu_us_per_request']:.0f} / {c['cpu_us_per_request']:.0f} "
            f"({r['cpu_ratio']:.2f}) "
            f"| {a['p50_us'] / 1000:.1f} / {a['p99_us'] / 1000:.1f} "
            f"| {c['p50_us'] / 1000:.1f} / {c['p99_us'] / 1000:.1f} "
            f"| {a['status_errors'] + a['socket_errors']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per scenario and server")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (both servers)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (both servers)")
    parser.add_argument("--rounds", type=int, choices=(1, 2), default=2,
                        help="2: ceiling, app, app, ceiling per scenario; 1: ceiling, app")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--only", default="", help="comma-separated words: run the scenarios whose name "
                        "has one (\"thread\": the thread reads, JSON and HTML)")
    parser.add_argument("--skip", default="", help="comma-separated words: leave out the scenarios whose "
                        "name has one (\"HTML\": the JSON reads only)")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/performance.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: install it with `apt-get install -y wrk` (Debian), then rerun.")

    command = "python bench/run.py " + " ".join(sys.argv[1:])
    load_before = os.getloadavg()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="widget-bench-") as tmp:
        for backend in args.backends.split(","):
            folder = Path(tmp) / backend
            folder.mkdir()
            rows += run_backend(backend.strip(), args, folder)
    load_after = os.getloadavg()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    settings = (f"gunicorn: {args.workers} workers × {args.threads} threads (gthread), both servers; "
                f"wrk: 1 thread, {args.connections} connections, {args.rounds} × {args.duration:g} s per "
                f"scenario and server (ceiling, app, app, ceiling) after a 2 s warm-up; "
                f"{os.cpu_count()} cores; load average {load_before[0]:.1f} before, "
                f"{load_after[0]:.1f} after")
    report = f"Run {stamp}: `{command.strip()}`\n\n{settings}.\n\n{table(rows)}\n"
    print("\n" + report)
    RESULTS.mkdir(exist_ok=True)
    name = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{name}.md").write_text(report)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=1))
    if args.write_docs:
        text = DOCS.read_text()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin not in text:
            raise SystemExit(f"{DOCS} has no {begin} … {end} block")
        head, rest = text.split(begin, 1)
        DOCS.write_text(f"{head}{begin}\n{report}{end}{rest.split(end, 1)[1]}")
        print(f"wrote the table into {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
