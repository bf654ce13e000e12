"""GET /api/v1/events: a thread's changes as Server-Sent Events (API.md "Live updates"), resumed
with Last-Event-ID, capped per process and per client."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete
from support.app import PAGE, SITE

from widget_server.extensions import db
from widget_server.models import ThreadChange

EVENTS = f"/api/v1/events?url={PAGE}"


def parse(chunk: bytes) -> list[tuple[str, str, dict]]:
    """(event, id, data) of each event in ``chunk``; comments and retry lines are left out."""
    found = []
    for block in chunk.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":")
        if "event" in fields:
            found.append((fields["event"], fields["id"], json.loads(fields["data"])))
    return found


class Stream:
    """An open stream through the test client; ``next()`` runs the server's generator one step."""

    def __init__(self, client, path: str = EVENTS, **kw):
        self.response = client.get(path, buffered=False, **kw)
        self.chunks = iter(self.response.response)

    def next_events(self) -> list[tuple[str, str, dict]]:
        return parse(next(self.chunks))

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def config_overrides(request):
    return {"STREAMS_HEARTBEAT": 1, **getattr(request, "param", {})}


def test_a_new_comment_reaches_an_open_stream_with_the_count_after_it(client, post):
    stream = Stream(client)
    assert stream.response.status_code == 200
    assert stream.response.mimetype == "text/event-stream"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    assert stream.response.headers["Cache-Control"] == "no-store"
    assert next(stream.chunks) == b"retry: 3000\n\n"
    created = post("live **words**")
    events = stream.next_events()
    assert [(name, event_id, data["change"]) for name, event_id, data in events] == \
        [("comment", "1", "created"), ("thread", "1", "count")]
    assert events[0][2]["comment"]["html"] == "<p>live <strong>words</strong></p>"
    assert events[0][2]["comment"]["id"] == created["comment"]["id"]
    assert events[1][2]["thread"] == {"url": PAGE, "comment_count": 1}
    stream.close()


def test_edits_and_deletions_reach_the_stream_in_place(client, post):
    created = post("first")
    stream = Stream(client)
    next(stream.chunks)
    headers = {"X-Edit-Token": created["edit_token"]}
    comment_id = created["comment"]["id"]
    path = f"/api/v1/comments/{comment_id}"
    assert client.patch(path, json={"text": "second"}, headers=headers).status_code == 200
    assert client.delete(path, headers=headers).status_code == 204
    (_, edit_id, edited), *_ = stream.next_events()
    deleted = stream.next_events()
    assert (edit_id, edited["change"], edited["comment"]["html"]) == ("2", "edited", "<p>second</p>")
    assert (deleted[0][1], deleted[0][2]["change"]) == ("3", "deleted")
    assert deleted[0][2]["comment"]["state"] == "deleted"
    assert deleted[1][2]["thread"]["comment_count"] == 0
    stream.close()


def test_last_event_id_resumes_with_every_event_missed(client, post):
    for n in range(3):
        post(f"comment {n}")
    stream = Stream(client, headers={"Last-Event-ID": "1"})
    next(stream.chunks)
    missed = stream.next_events() + stream.next_events()
    comments = [(event_id, data["comment"]["number"]) for name, event_id, data in missed if name == "comment"]
    assert comments == [("2", 2), ("3", 3)]
    stream.close()


def test_a_resume_from_before_what_the_log_keeps_begins_with_a_resync(app, client, post):
    for n in range(4):
        post(f"comment {n}")
    with app.app_context():  # versions 1 and 2 pruned (older than the log keeps)
        db.session.execute(delete(ThreadChange).where(ThreadChange.version <= 2))
        db.session.commit()
    stream = Stream(client, headers={"Last-Event-ID": "1"})
    next(stream.chunks)
    first = stream.next_events()
    assert first == [("thread", "2", {"change": "resync", "thread": {"url": PAGE}})]
    then = stream.next_events() + stream.next_events()
    assert [(event_id, data["comment"]["number"]) for name, event_id, data in then if name == "comment"] == \
        [("3", 3), ("4", 4)]
    stream.close()

    with app.app_context():  # nothing logged at all (a restore starts the log anew)
        db.session.execute(delete(ThreadChange))
        db.session.commit()
    stream = Stream(client, headers={"Last-Event-ID": "3"})
    next(stream.chunks)
    assert stream.next_events() == [("thread", "4", {"change": "resync", "thread": {"url": PAGE}})]
    stream.close()


def test_a_like_moves_the_version_without_an_event_and_the_next_event_follows(client, post):
    created = post("like me")
    stream = Stream(client)
    next(stream.chunks)
    client.post(f"/api/v1/comments/{created['comment']['id']}/like", json={})
    post("after the like")
    events = stream.next_events()
    assert [(event_id, data["change"]) for _name, event_id, data in events] == \
        [("3", "created"), ("3", "count")]
    stream.close()


def test_an_idle_stream_sends_heartbeats(client):
    stream = Stream(client)
    next(stream.chunks)
    assert next(stream.chunks) == b": heartbeat\n\n"
    stream.close()


@pytest.mark.parametrize("config_overrides", [{"STREAMS_PER_CLIENT": 1}], indirect=True)
def test_past_the_per_client_cap_a_stream_is_refused_until_one_closes(client):
    first = Stream(client)
    refused = client.get(EVENTS)
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "service_unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    another_client = {"REMOTE_ADDR": "192.0.2.77"}
    assert client.get(EVENTS, environ_overrides=another_client).status_code == 200
    first.close()
    again = Stream(client)
    assert again.response.status_code == 200
    again.close()


@pytest.mark.parametrize("config_overrides", [{"THREADS": 4, "STREAMS_MAX": 1000}], indirect=True)
def test_with_threaded_workers_streams_take_at_most_half_the_threads(client):
    held = [Stream(client, environ_overrides={"REMOTE_ADDR": f"192.0.2.{n}"}) for n in (1, 2)]
    assert all(s.response.status_code == 200 for s in held)
    assert client.get(EVENTS, environ_overrides={"REMOTE_ADDR": "192.0.2.3"}).status_code == 503
    assert client.get(f"/api/v1/comments?url={PAGE}").status_code == 200  # ordinary requests go on
    for stream in held:
        stream.close()


@pytest.mark.parametrize(("path", "headers", "status", "field"), [
    ("/api/v1/events", {}, 400, "url"),
    ("/api/v1/events?url=javascript:alert(1)", {}, 400, "url"),
    (EVENTS, {"Last-Event-ID": "seven"}, 400, "Last-Event-ID"),
    (EVENTS, {"Last-Event-ID": "-1"}, 400, "Last-Event-ID"),
    (EVENTS, {"Last-Event-ID": "1" * 40}, 400, "Last-Event-ID"),
    ("/api/v1/events?url=https://elsewhere.example/page", {}, 403, None),
])
def test_bad_requests_get_the_one_error_shape(client, path, headers, status, field):
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert set(response.json["error"]) >= {"code", "message"}
    if field:
        assert field in response.json["error"]["fields"]


def test_the_widgets_origin_may_read_the_stream(client):
    stream = Stream(client, headers={"Origin": SITE})
    assert stream.response.headers["Access-Control-Allow-Origin"] == SITE
    stream.close()
