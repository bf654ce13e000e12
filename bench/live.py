"""Live updates under load: open event streams held by one gevent process while reads run.

    .venv/bin/python bench/live.py --streams 1000 --posts 20 --redis redis://127.0.0.1:6379/1

One SQLite database (seeded as bench/run.py seeds it); the app (gunicorn gthread, as in
run.py) and a stream process (gunicorn gevent, one worker: the compose file's `streams`
service) share it, and hear each other through Redis (``--redis``) or, without it, by
polling the change log. Reports, all measured in this run:

- the hot thread's reads on the app and on the bare Flask route serving the same bytes (the
  ceiling, bench/baseline_app.py), req/s and their ratio, without open streams, then with
  ``--streams`` streams open on the stream process (what the streams cost the reads on this
  2-core machine, where all the processes share the cores);
- the stream process's resident memory with the streams open;
- post → event: from each post's 201 to the event's arrival at every open stream, p50/p99.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402
from bench.run import SECRET, SKIP_HEADERS, Scenario, Server, lua_script, prepare, wrk  # noqa: E402

THREAD = "/api/v1/comments?url=" + quote(seeding.HOT, safe="")


class _Stream(asyncio.Protocol):
    """One open stream, as cheap as a client can be: no line parsing, one search per chunk
    (an event is one write of the server's: a chunk holds it whole), the arrival time taken
    with the wall clock (comparable between the client processes)."""

    def __init__(self, heard: list, opened: asyncio.Future):
        self.heard, self.opened, self.head = heard, opened, b""

    def connection_made(self, transport):
        path = f"/api/v1/events?url={quote(seeding.SMALL, safe='')}"
        transport.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

    def data_received(self, data: bytes):
        if not self.opened.done():
            self.head += data
            if b"\r\n\r\n" in self.head:
                self.opened.set_result(b" 200 " in self.head.split(b"\r\n", 1)[0])
            return
        if b"event: comment" in data:
            self.heard.append(time.time())


async def _client(port: int, count: int, commands, answers) -> None:
    loop = asyncio.get_running_loop()
    heard: list[float] = []
    opened = []
    for _ in range(count):
        future = loop.create_future()
        await loop.create_connection(lambda f=future: _Stream(heard, f), "127.0.0.1", port)
        opened.append(future)
    assert all(await asyncio.gather(*opened)), "a stream was refused"
    answers.send("ready")
    while True:
        command = await loop.run_in_executor(None, commands.recv)
        if command == "stop":
            return
        heard.clear()
        cpu = time.process_time()
        deadline = time.monotonic() + 30
        while len(heard) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        answers.send((list(heard), time.process_time() - cpu))


def _client_process(port: int, count: int, commands, answers) -> None:
    asyncio.run(_client(port, count, commands, answers))


def post(port: int, page: str, n: int) -> float:
    body = json.dumps({"url": page, "text": f"live benchmark post {n} {time.time()}"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/comments", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our own server
        assert answer.status == 201
    return time.time()


def measure(app: Server, streams: Server, args, ceiling: Server) -> dict:
    """``--clients`` processes hold the streams between them (one asyncio loop each)."""
    shares = [args.streams // args.clients + (i < args.streams % args.clients) for i in range(args.clients)]
    pipes, processes = [], []
    for share in shares:
        commands, remote_commands = multiprocessing.Pipe()
        remote_answers, answers = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_client_process,
                                          args=(streams.port, share, remote_commands, remote_answers))
        process.start()
        pipes.append((commands, answers))
        processes.append(process)
    for _commands, answers in pipes:
        assert answers.poll(180) and answers.recv() == "ready"
    time.sleep(1)
    rss = streams.worker_rss_mb()
    latencies, client_cpu, spreads = [], 0.0, []
    for n in range(args.posts):
        for commands, _answers in pipes:
            commands.send("go")
        time.sleep(0.05)  # the clients are listening
        answered = post(app.port, seeding.SMALL, n)
        arrivals = []
        for _commands, answers in pipes:
            assert answers.poll(60)
            heard, cpu = answers.recv()
            arrivals += heard
            client_cpu += cpu
        missing = args.streams - len(arrivals)
        assert missing == 0, f"{missing} streams did not hear of post {n} within 30 s"
        latencies += [max(0.0, at - answered) * 1000 for at in arrivals]
        spreads.append((max(arrivals) - min(arrivals)) * 1000)
        time.sleep(0.2)
    reads = read_ratio(app, ceiling, args)
    for (commands, _answers), process in zip(pipes, processes, strict=True):
        commands.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
    return {"rss_mb": rss, "latencies_ms": latencies, "reads": reads,
            "client_cpu_us_per_event": client_cpu / max(1, len(latencies)) * 1000 * 1000,
            "spread_ms": statistics.median(spreads)}


def read_rps(server: Server, args) -> float:
    scenario = Scenario("hot thread", "GET", THREAD, {"Accept-Encoding": "gzip"})
    script = lua_script(Path(args.folder), scenario, scenario.headers)
    return wrk(server.port, script, args.duration, 8)["rps"]


def read_ratio(app: Server, ceiling: Server, args) -> dict:
    """The hot thread's reads on the app and on the bare Flask route serving the same bytes
    (bench/baseline_app.py), ceiling, app, app, ceiling as in run.py: req/s and their ratio."""
    rps = {"app": [], "ceiling": []}
    for server in (ceiling, app, app, ceiling):
        rps["app" if server is app else "ceiling"].append(read_rps(server, args))
    found = {side: sum(values) / len(values) for side, values in rps.items()}
    return {**found, "ratio": found["app"] / found["ceiling"]}


def baseline(app: Server, common: dict, folder: Path, thread_id: int) -> Server:
    """The ceiling: a bare Flask app under the same gunicorn settings answering the bytes the
    app answered for the hot thread a moment before (checked byte for byte)."""
    status, headers, body = app.request("GET", THREAD, {"Accept-Encoding": "gzip"})
    assert status == 200, status
    kept = {k: v for k, v in headers.items() if k.lower() not in SKIP_HEADERS}
    responses = folder / "responses.json"
    responses.write_text(json.dumps({THREAD: {"status": status, "headers": kept,
                                              "body": base64.b64encode(body).decode()}}))
    ceiling = Server("ceiling", "bench.baseline_app:create_app()",
                     {**common, "BENCH_RESPONSES": str(responses),
                      "BENCH_DATABASE_URL": common["WIDGET_DATABASE_URL"], "BENCH_THREAD_ID": str(thread_id)},
                     folder, 2, 4, ready_path=THREAD)
    assert ceiling.request("GET", THREAD, {"Accept-Encoding": "gzip"})[2] == body, "the ceiling differs"
    return ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="client processes holding the streams")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of read load per measure")
    parser.add_argument("--stream-workers", type=int, default=1,
                        help="gevent worker processes of the stream process (the compose file: 1)")
    parser.add_argument("--redis", default="",
                        help="WIDGET_REDIS_URL for both (default: none, the log is polled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="widget-bench-live-") as tmp:
        folder = Path(tmp)
        args.folder = tmp
        url = f"sqlite:///{folder / 'bench.db'}"
        thread_id = prepare(url, folder)
        common = {"WIDGET_DATABASE_URL": url, "WIDGET_SECRET_KEY": SECRET, "WIDGET_INSTANCE_PATH": tmp,
                  "WIDGET_ALLOWED_ORIGINS": seeding.SITE, "WIDGET_RATELIMIT_ENABLED": "false",
                  "WIDGET_SPAM_DUPLICATE_WINDOW": "0", "WIDGET_SPAM_MIN_SECONDS": "0", "WIDGET_POW": "off"}
        if args.redis:
            common["WIDGET_REDIS_URL"] = args.redis
        app = Server("app", "widget_server:create_app()", common, folder, 2, 4)
        streams = Server("streams", "widget_server:create_app()",
                         {**common, "WIDGET_WORKER_CLASS": "gevent",
                          "WIDGET_STREAMS_MAX": str(args.streams + 100),
                          "WIDGET_STREAMS_PER_CLIENT": str(args.streams + 100)},
                         folder, args.stream_workers, 1)
        ceiling = None
        try:
            wrk(app.port, lua_script(folder, Scenario("warm", "GET", THREAD, {}), {}), 2, 8)
            ceiling = baseline(app, common, folder, thread_id)
            wrk(ceiling.port, lua_script(folder, Scenario("warm", "GET", THREAD, {}), {}), 2, 8)
            alone = read_ratio(app, ceiling, args)
            found = measure(app, streams, args, ceiling)
        finally:
            app.stop()
            streams.stop()
            if ceiling is not None:
                ceiling.stop()
            lost = (folder / "streams.log").read_text(errors="replace").count("change feed lost")
    lat = sorted(found["latencies_ms"])
    p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
    transport = "Redis pub/sub" if args.redis else "the polled change log (no Redis)"
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python bench/live.py "
          f"{' '.join(sys.argv[1:])}` ({transport})\n\n"
          f"| measure | value |\n|---|---:|\n"
          f"| hot thread reads without streams: app / bare Flask req/s (ratio) | {alone['app']:.0f} / "
          f"{alone['ceiling']:.0f} ({alone['ratio']:.2f}) |\n"
          f"| the same with {args.streams} open streams on the stream process | "
          f"{found['reads']['app']:.0f} / {found['reads']['ceiling']:.0f} ({found['reads']['ratio']:.2f}) |\n"
          f"| stream process ({args.stream_workers} gevent worker(s)) RSS with {args.streams} streams | "
          f"{sum(found['rss_mb']):.0f} MB |\n"
          f"| post's 201 → event at every open stream, p50 / p99 ({len(lat)} deliveries) | "
          f"{p50:.0f} / {p99:.0f} ms |\n"
          f"| first to last stream of one post, median | {found['spread_ms']:.0f} ms |\n"
          f"| the benchmark client's own CPU per event received ({args.clients} processes) | "
          f"{found['client_cpu_us_per_event']:.0f} µs |\n"
          f"| times the stream process lost the change feed during the run | {lost} |")


if __name__ == "__main__":
    main()
