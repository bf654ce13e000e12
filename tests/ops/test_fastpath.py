"""ops/fastpath.py: cached reads answered before Flask, with exactly Flask's answer.

Each case is asked twice of the same app: through Flask's own WSGI callable (the
path every request took before) and through the layer in front of it. Status,
body and every header but the request id must be equal, and the layer must have
answered itself (its metrics say so) or left the request to Flask, as stated.
"""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from support.app import PAGE, SITE
from werkzeug.test import Client

from widget_server.metrics import REQUESTS

THREAD = "/api/v1/comments?url=" + quote(PAGE, safe="")
COUNTS = "/api/v1/counts?url=" + quote(PAGE, safe="") + "&url=" + quote(SITE + "/other", safe="")
GZIP = {"Accept-Encoding": "gzip"}


def _live(app):
    feed = app.extensions["widget_feed"]
    feed.start()
    deadline = time.monotonic() + 5
    while not feed.fresh():
        assert time.monotonic() < deadline, "the change feed did not come up"
        time.sleep(0.01)


def _answer(wsgi, path, headers):
    response = Client(wsgi).get(path, headers=headers)
    kept = sorted((k, v) for k, v in response.headers.items() if k != "X-Request-Id")
    return response.status_code, kept, response.get_data(), response.headers.get("X-Request-Id")


def _fast_count(route: str, status: int) -> float:
    return REQUESTS.labels(route, "GET", str(status))._value.get()


def _prepared(app, post):
    post("the first comment")
    post("a **second** one")
    _live(app)
    fast = app.extensions["widget_fast_reads"]
    for path in (THREAD, COUNTS):  # a first answer through Flask teaches the layer the query
        assert Client(fast).get(path, headers=GZIP).status_code == 200
    return fast


@pytest.mark.parametrize(("path", "headers", "status"), [
    (THREAD, GZIP, 200),
    (THREAD, {}, 200),  # no gzip
    (THREAD, {"Accept-Encoding": "br;q=1, gzip;q=0.5"}, 200),
    (THREAD, {"Accept-Encoding": "identity"}, 200),
    (THREAD, {**GZIP, "Origin": SITE}, 200),  # CORS headers, Vary: Origin
    (THREAD, {**GZIP, "X-Request-Id": "proxy-id-42"}, 200),  # a proxy's id kept
    (THREAD, {"If-None-Match": "ETAG"}, 304),
    (THREAD, {"If-None-Match": 'W/"x", ETAG', "Origin": SITE}, 304),  # a list, weak compare
    (THREAD, {"If-None-Match": '"not-it"'}, 200),
    (COUNTS, GZIP, 200),
    (COUNTS, {"Origin": SITE}, 200),
])
def test_a_cache_hit_answered_in_front_of_flask_is_flasks_answer(app, post, path, headers, status):
    fast = _prepared(app, post)
    etag = Client(fast).get(THREAD).headers["ETag"]
    headers = {k: v.replace("ETAG", etag) for k, v in headers.items()}
    route = path.split("?")[0]
    before = _fast_count(route, status)
    mine = _answer(fast, path, headers)
    assert _fast_count(route, status) == before + 1  # counted once
    flasks = _answer(fast.flask, path, headers)  # Flask's own path, every hook
    assert mine[:3] == flasks[:3]
    assert mine[0] == status
    if "X-Request-Id" in headers:
        assert mine[3] == flasks[3] == headers["X-Request-Id"]
    else:
        assert mine[3] and len(mine[3]) == 32 and mine[3] != flasks[3]


def test_the_layer_answers_hits_itself_and_leaves_everything_else_to_flask(app, post, monkeypatch):
    fast = _prepared(app, post)
    calls = []
    real = fast.flask
    fast.flask = lambda environ, start_response: calls.append(environ["PATH_INFO"]) or real(environ,
                                                                                            start_response)
    client = Client(fast)
    assert client.get(THREAD, headers=GZIP).status_code == 200
    assert client.get(COUNTS).status_code == 200
    assert calls == []  # both hits answered without Flask
    for path, headers in [
        (THREAD + "&sort=newest", {}),  # a query never answered by Flask yet
        (THREAD, {"Origin": "https://evil.example"}),  # refused by Flask's origin check
        (THREAD, {"Host": "elsewhere.example"}),  # an unknown Host: refused by Flask
        ("/api/v1/comments?url=nonsense", {}),  # an error: Flask's JSON shape
    ]:
        calls.clear()
        status = client.get(path, headers=headers).status_code
        assert calls == [path.split("?")[0]], (path, headers, status)
    assert client.get(THREAD, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.get(THREAD, headers={"Host": "elsewhere.example"}).status_code == 400


def test_a_new_comment_is_read_at_once_and_a_lost_feed_sends_reads_to_flask(app, post):
    fast = _prepared(app, post)
    client = Client(fast)
    first = client.get(THREAD)
    counts = client.get(COUNTS).get_json()["counts"]
    post("a third, after the reads were cached")
    second = client.get(THREAD)  # the feed moved the version: not the cached page
    assert second.headers["ETag"] != first.headers["ETag"] and b"a third" in second.get_data()
    assert client.get(COUNTS).get_json()["counts"][PAGE] == counts[PAGE] + 1
    assert client.get(THREAD, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    feed = app.extensions["widget_feed"]
    feed.alive_at = 0.0  # as when Redis is gone: reads must ask the database
    feed.stop()
    calls = []
    real = fast.flask
    fast.flask = lambda environ, start_response: calls.append(1) or real(environ, start_response)
    assert client.get(THREAD).status_code == 200 and calls == [1]
