"""An open ``GET /api/v1/events`` on a real server, read by a thread of its own (the ops tests)."""
from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from urllib.parse import quote


class EventStream:
    """(event, id, data, when heard) of each event as it comes, how many heartbeats came, and
    ``ended`` once the body ended cleanly (its last chunk). http.client decodes the chunked
    body and fails on a broken frame: such a failure is in ``failed``."""

    def __init__(self, port: int, page: str, last_event_id: str | None = None, chunked: bool = True):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.connection.request("GET", f"/api/v1/events?url={quote(page, safe='')}", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        if chunked:
            assert self.response.getheader("Transfer-Encoding") == "chunked"
        self.heard: queue.Queue = queue.Queue()
        self.heartbeats = 0
        self.ended = threading.Event()
        self.failed: list[BaseException] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line == ": heartbeat":
                    self.heartbeats += 1
                elif not line:
                    if "event" in fields:
                        self.heard.put((fields["event"], fields["id"], json.loads(fields["data"]),
                                        time.monotonic()))
                    fields = {}
                elif ": " in line and not line.startswith(":"):
                    name, value = line.split(": ", 1)
                    fields[name] = value
            self.ended.set()
        except (OSError, ValueError, AttributeError, http.client.HTTPException) as exc:  # or closed
            self.failed.append(exc)

    def next_comment(self, timeout: float = 5) -> tuple[str, dict, float]:
        """The next comment event: (id, data, when heard)."""
        while True:
            name, event_id, data, at = self.heard.get(timeout=timeout)
            if name == "comment":
                return event_id, data, at

    def comments(self, count: int, timeout: float = 10) -> list[tuple[str, str]]:
        """The next ``count`` comment events: (id, html)."""
        return [(event_id, data["comment"]["html"])
                for event_id, data, _at in (self.next_comment(timeout) for _ in range(count))]

    def nothing_more(self) -> list:
        rest = []
        while not self.heard.empty():
            rest.append(self.heard.get()[:3])
        return rest

    def close(self) -> None:
        self.connection.close()
