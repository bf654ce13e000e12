"""One event written to N open streams in one gevent process, two ways, in the same run:

    .venv/bin/python bench/live_write_paths.py --streams 1000

- "per stream" (the path before the fan-out, still the gthread path's shape): each stream's
  greenlet waits on its own queue, a generator yields the event, gunicorn's chunked write
  ``sendall``s it;
- "fan-out" (comments/live.py ``_Thread.hear`` under gevent): one loop sends the ready chunk with
  each OS socket's non-blocking ``send``;
- "gevent sendall": the loop with gevent's ``sendall`` instead (what the loop saves by not
  going through gevent's socket).

Real loopback TCP connections, the clients' ends drained between rounds (not timed). Prints
µs per stream per event (median of the rounds) and the ratio of each to "per stream". Where
the rest of the time goes in the real stream process: docs/performance.md, "Live updates".
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import queue  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from gunicorn import util  # noqa: E402

EVENT = b"event: comment\nid: 7\ndata: " + b"x" * 400 + b"\n\n"
CHUNK = b"%x\r\n%s\r\n" % (len(EVENT), EVENT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    n = args.streams
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(n + 10)
    clients, servers = [], []
    for _ in range(n):
        clients.append(socket.create_connection(listener.getsockname()))
        servers.append(listener.accept()[0])
    for client in clients:
        client.setblocking(False)

    def drain() -> None:
        for client in clients:
            try:
                while client.recv(1 << 16):
                    pass
            except BlockingIOError:
                pass

    queues = [queue.SimpleQueue() for _ in range(n)]
    written = [0]

    def stream(heard: queue.SimpleQueue, sock) -> None:
        def events():
            while (item := heard.get()) is not None:
                yield item
        for item in events():
            util.write(sock, item, True)  # gunicorn's chunked write
            written[0] += 1

    greenlets = [gevent.spawn(stream, q, s) for q, s in zip(queues, servers, strict=True)]
    gevent.sleep(0.1)

    def per_stream() -> float:
        written[0] = 0
        started = time.perf_counter()
        for heard in queues:
            heard.put(EVENT)
        while written[0] < n:
            gevent.sleep(0)
        return time.perf_counter() - started

    def fan_out() -> float:
        started = time.perf_counter()
        for sock in servers:
            sock._sock.send(CHUNK)
        return time.perf_counter() - started

    def gevent_sendall() -> float:
        started = time.perf_counter()
        for sock in servers:
            sock.sendall(CHUNK)
        return time.perf_counter() - started

    ways = {"per stream": per_stream, "fan-out": fan_out, "gevent sendall": gevent_sendall}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):  # interleaved: the machine's load falls on all three alike
        for name, way in ways.items():
            times[name].append(way())
            drain()
    base = statistics.median(times["per stream"])
    print(f"{n} streams, {args.rounds} rounds, one {len(CHUNK)}-byte chunk per stream per round")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:15s} {median / n * 1e6:6.1f} µs per stream  ({median * 1e3:5.1f} ms per event)  "
              f"ratio {median / base:.2f}")
    for heard in queues:
        heard.put(None)
    gevent.joinall(greenlets, timeout=5)


if __name__ == "__main__":
    main()
