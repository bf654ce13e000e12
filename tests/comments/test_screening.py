"""Anti-spam rules without any outside service, and the optional Akismet check.

Time-dependent rules run on the frozen clock: the form token is stamped and
checked with ``clock.now()``.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from support.app import PAGE, SITE

from widget_server.extensions import db
from widget_server.models import Comment, Thread

API = "/api/v1"
OTHER_PAGE = f"{SITE}/2026/12/other"


def stored(app) -> list[tuple[str, str]]:
    with app.app_context():
        query = select(Comment.text, Comment.state).order_by(Comment.id)
        return [tuple(r) for r in db.session.execute(query)]


def form_token(client, url=PAGE) -> str:
    response = client.get(f"{API}/comments", query_string={"url": url})
    assert response.status_code == 200
    return response.headers["X-Form-Token"]


def send(client, text="hello there", url=PAGE, environ_base=None, **fields):
    return client.post(f"{API}/comments", json={"url": url, "text": text, **fields},
                       environ_base=environ_base or {})


# --- honeypot ------------------------------------------------------------------------------


@pytest.mark.parametrize("homepage", ["https://spam.example/", "x", 1, True, ["a"]])
def test_a_filled_honeypot_looks_held_but_is_stored_as_spam(client, app, homepage):
    response = send(client, "cheap pills", homepage=homepage)
    assert response.status_code == 202
    assert response.json["comment"]["state"] == "pending"  # exactly what a held comment gets
    assert "spam" not in response.get_data(as_text=True)
    assert stored(app) == [("cheap pills", "spam")]
    assert client.get(f"{API}/comments", query_string={"url": PAGE}).json["comments"] == []
    own = client.get(f"{API}/comments/{response.json['comment']['id']}",
                     headers={"X-Edit-Token": response.json["edit_token"]})
    assert own.status_code == 200 and own.json["state"] == "pending"  # its author sees it as held


def _as_its_author_sees_it(client, created) -> list:
    """Every answer the author of a new comment can get about it, without ids, tokens and times."""
    def shape(body):
        if not isinstance(body, dict):
            return body
        return {k: shape(v) for k, v in body.items()
                if k not in ("id", "edit_token", "editable_until", "created_at", "edited_at")}

    token = {"X-Edit-Token": created.json["edit_token"]}
    path = f"{API}/comments/{created.json['comment']['id']}"
    own = client.get(path, headers=token)
    edited = client.patch(path, json={"text": "second thoughts"}, headers=token)
    liked = client.post(f"{path}/like", json={})
    deleted = client.delete(path, headers=token)
    gone = client.get(path, headers=token)
    return [(r.status_code, shape(r.get_json(silent=True)))
            for r in (created, own, edited, liked, deleted, gone)]


def test_a_spam_verdict_answers_its_author_exactly_like_a_held_comment(client, app):
    app.config["BLOCKED_WORDS"] = ["pills"]  # held for moderation
    held = send(client, "cheap pills", url=PAGE)
    spam = send(client, "cheap pills", url=OTHER_PAGE, homepage="x")  # judged spam
    assert [held.status_code, spam.status_code] == [202, 202]
    assert _as_its_author_sees_it(client, held) == _as_its_author_sees_it(client, spam)
    assert [state for _text, state in stored(app)] == ["deleted", "deleted"]


@pytest.mark.parametrize("homepage", ["", None, False])
def test_an_empty_honeypot_is_fine(client, homepage):
    assert send(client, homepage=homepage).status_code == 201


# --- the signed form token ----------------------------------------------------------------------


def test_the_thread_hands_out_a_form_token_in_a_header_not_in_the_body(client, frozen_clock):
    first = client.get(f"{API}/comments", query_string={"url": PAGE})
    token = first.headers["X-Form-Token"]
    assert token and token.encode() not in first.data
    frozen_clock.advance(seconds=5)
    again = client.get(f"{API}/comments", query_string={"url": PAGE},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Form-Token"] not in ("", token)


def test_the_form_token_header_is_exposed_to_cross_origin_widgets(client):
    response = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Origin": SITE})
    assert "X-Form-Token" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(("wait", "status", "code"), [
    (0, 400, "too_fast"),
    (2, 400, "too_fast"),
    (3, 201, None),
    (3600, 201, None),
    (86400, 201, None),
    (86401, 400, "invalid_form_token"),
])
def test_form_token_age(client, app, frozen_clock, wait, status, code):
    token = form_token(client)
    frozen_clock.advance(seconds=wait)
    response = send(client, form_token=token)
    assert response.status_code == status
    if code:
        assert response.json["error"]["code"] == code
        assert stored(app) == []
    if code == "too_fast":
        assert "wait at least 3 seconds" in response.json["error"]["message"]


@pytest.mark.parametrize("config_overrides", [{"SPAM_MIN_SECONDS": 10, "FORM_TOKEN_MAX_AGE": 60}],
                         indirect=True)
def test_form_token_limits_are_configurable(client, frozen_clock):
    token = form_token(client)
    frozen_clock.advance(seconds=9)
    assert send(client, form_token=token).json["error"]["code"] == "too_fast"
    frozen_clock.advance(seconds=1)
    assert send(client, form_token=token).status_code == 201
    frozen_clock.advance(seconds=51)
    assert send(client, "later", form_token=token).json["error"]["code"] == "invalid_form_token"


def test_a_form_token_from_the_future_is_too_fast(client, frozen_clock):
    token = form_token(client)
    frozen_clock.advance(seconds=-30)  # e.g. another instance whose clock is behind
    assert send(client, form_token=token).json["error"]["code"] == "too_fast"


def _forged(client, frozen_clock) -> list[str]:
    good = form_token(client)
    frozen_clock.advance(seconds=10)
    from itsdangerous import URLSafeTimedSerializer

    other_key = URLSafeTimedSerializer("another-secret", salt="widget-form-token").dumps({"u": PAGE})
    return [good[:-2] + ("AA" if not good.endswith("AA") else "BB"), other_key, "garbage", "a.b.c",
            form_token(client, OTHER_PAGE)]


def test_forged_or_foreign_form_tokens_are_refused(client, app, frozen_clock):
    for token in _forged(client, frozen_clock):
        frozen_clock.advance(seconds=10)
        response = send(client, form_token=token)
        assert response.status_code == 400, token
        assert response.json["error"]["code"] == "invalid_form_token"
    assert stored(app) == []


def test_a_missing_form_token_is_accepted_by_default(client):
    assert send(client).status_code == 201  # API.md's POST has no form token: curl works


@pytest.mark.parametrize("config_overrides", [{"REQUIRE_FORM_TOKEN": True}], indirect=True)
@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_form_token_can_be_required(client, app, frozen_clock, token):
    body = {} if token is None else {"form_token": token}
    response = send(client, **body)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_form_token"
    good = form_token(client)
    frozen_clock.advance(seconds=3)
    assert send(client, form_token=good).status_code == 201


# --- links and blocked words ----------------------------------------------------------------------

LINKS = [
    ("no links at all", 201),
    ("see https://a.example/ and https://b.example/ and https://c.example/", 201),
    ("see https://a.example/ https://b.example/ https://c.example/ https://d.example/", 202),
    ("[one](https://a.example/) [two](https://b.example/) www.c-shop.com d-shop.net/x", 202),
    ("www.a-shop.com b-shop.net c-shop.org example.invalid", 201),
    ("`https://a.example/ https://b.example/ https://c.example/ https://d.example/` in code", 201),
]


@pytest.mark.parametrize(("text", "status"), LINKS)
def test_too_many_links_go_to_the_queue(client, app, text, status):
    response = send(client, text)
    assert response.status_code == status
    assert stored(app) == [(text, "published" if status == 201 else "pending")]


@pytest.mark.parametrize("config_overrides", [{"SPAM_MAX_LINKS": 0}], indirect=True)
def test_the_link_limit_is_configurable(client):
    assert send(client, "one link: https://a.example/").status_code == 202
    assert send(client, "none").status_code == 201


BLOCKED = {"BLOCKED_WORDS": ["viagra", "cheap pills", "casino"]}


@pytest.mark.parametrize("config_overrides", [BLOCKED], indirect=True)
@pytest.mark.parametrize(("fields", "status"), [
    ({"text": "Buy VIAGRA now"}, 202),
    ({"text": "viagra!"}, 202),
    ({"text": "the cheap   pills"}, 201),           # a phrase matches as written, not across gaps
    ({"text": "cheap pills here"}, 202),
    ({"text": "a casinos review"}, 201),             # whole words only
    ({"text": "occasional visitor"}, 201),
    ({"text": "hello", "author": "Casino King"}, 202),
    ({"text": "hello", "website": "https://casino.example/"}, 202),
    ({"text": "hello", "email": "viagra@example.org"}, 202),
    ({"text": "an honest comment"}, 201),
])
def test_blocked_words_hold_the_comment(client, app, fields, status):
    response = client.post(f"{API}/comments", json={"url": PAGE, **fields})
    assert response.status_code == status
    assert stored(app)[0][1] == ("published" if status == 201 else "pending")


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "blocked.txt"
    path.write_text("# one per line\nbitcoin doubler\n\n  forex  # trading spam\n", "utf-8")
    return path


def test_blocked_words_from_a_file(app, client, words_file):
    app.config["BLOCKED_WORDS_FILE"] = str(words_file)
    assert send(client, "a Bitcoin Doubler for you").status_code == 202
    assert send(client, "forex signals").status_code == 202
    assert send(client, "one per line").status_code == 201  # comments in the file are not words
    words_file.write_text("nothing\n", "utf-8")
    assert send(client, "forex again").status_code == 201   # the file is read afresh


# --- duplicates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("second", "status"), [
    ("Great post!", 409),
    ("  great   POST! ", 409),
    ("Great post!!", 201),
])
def test_the_same_text_twice_in_a_thread_is_refused(client, app, frozen_clock, second, status):
    assert send(client, "Great post!").status_code == 201
    frozen_clock.advance(seconds=30)
    response = send(client, second)
    assert response.status_code == status
    if status == 409:
        assert response.json["error"]["code"] == "duplicate"
        assert len(stored(app)) == 1


def test_duplicates_are_allowed_after_the_window_and_in_other_threads(client, frozen_clock):
    assert send(client, "Great post!").status_code == 201
    assert send(client, "Great post!", url=OTHER_PAGE).status_code == 201
    frozen_clock.advance(seconds=599)
    assert send(client, "Great post!").status_code == 409
    frozen_clock.advance(seconds=2)
    assert send(client, "Great post!").status_code == 201


def test_two_readers_may_say_the_same_thing(client):
    assert send(client, "Thanks!").status_code == 201
    assert send(client, "Thanks!", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 201


def test_the_same_email_from_another_address_is_the_same_poster(client):
    assert send(client, "Me again", email="bot@spam.example").status_code == 201
    response = send(client, "Me again", email="BOT@spam.example", environ_base={"REMOTE_ADDR": "10.7.7.8"})
    assert response.status_code == 409


@pytest.mark.parametrize(("first", "second"), [("10.0.0.1", "::ffff:10.0.0.1"),
                                               ("2001:db8::1", "2001:0DB8:0:0::1"),
                                               ("2001:db8::1", "2001:db8::beef")])
def test_one_poster_in_another_spelling_is_the_same_poster(client, first, second):
    assert send(client, "Me again", environ_base={"REMOTE_ADDR": first}).status_code == 201
    assert send(client, "Me again", environ_base={"REMOTE_ADDR": second}).status_code == 409


def test_held_and_spam_comments_count_as_duplicates(client, app):
    assert send(client, "spam spam", homepage="x").status_code == 202
    assert send(client, "spam spam").status_code == 409


@pytest.mark.parametrize("config_overrides", [{"SPAM_DUPLICATE_WINDOW": 0}], indirect=True)
def test_the_duplicate_rule_can_be_switched_off(client):
    assert send(client, "same").status_code == 201
    assert send(client, "same").status_code == 201


# --- a scripted burst, as the "done when" describes -------------------------------------


@pytest.mark.parametrize("config_overrides", [{"REQUIRE_FORM_TOKEN": True}], indirect=True)
def test_a_scripted_burst_is_held_or_refused(client, app, frozen_clock):
    token = form_token(client)
    burst = [
        send(client, "buy now https://a.x/ https://b.x/ https://c.x/ https://d.x/", form_token=token),
        send(client, "hello friend"),                                   # no token
        send(client, "hello friend", form_token="forged.token.value"),  # forged
        send(client, "nice", homepage="https://bot.example/", form_token=token),
    ]
    frozen_clock.advance(seconds=4)
    burst += [send(client, "same again", form_token=token), send(client, "same again", form_token=token)]
    assert [r.status_code for r in burst] == [400, 400, 400, 202, 201, 409]
    assert [s for _t, s in stored(app)] == ["spam", "published"]
    with app.app_context():
        assert db.session.execute(select(Thread)).scalars().one().url == PAGE


# --- Akismet (optional) against a local stand-in ----------------------------------------------


class StandIn:
    """A tiny Akismet on 127.0.0.1 that records what it was sent."""

    def __init__(self, answer: str = "false"):
        self.answer, self.requests = answer, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append((self.path, parse_qs(self.rfile.read(length).decode())))
                body = outer.answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def akismet():
    stand_in = StandIn()
    yield stand_in
    stand_in.close()


@pytest.mark.parametrize(("answer", "status", "state"), [
    ("false", 201, "published"),
    ("true", 202, "spam"),
    ("invalid", 201, "published"),   # a bad key fails open: the local rules still apply
])
def test_akismet_verdicts(app, client, akismet, answer, status, state):
    app.config.update(AKISMET_KEY="test-key", AKISMET_URL=akismet.url)
    akismet.answer = answer
    response = client.post(f"{API}/comments", json={
        "url": PAGE, "text": "is this spam?", "author": "Ann", "email": "ann@example.org"},
        headers={"User-Agent": "pytest-browser"})
    assert response.status_code == status
    assert stored(app) == [("is this spam?", state)]
    [(path, form)] = akismet.requests
    assert path == "/1.1/comment-check"
    assert form["api_key"] == ["test-key"] and form["blog"] == [SITE] and form["permalink"] == [PAGE]
    assert form["comment_content"] == ["is this spam?"]
    assert form["comment_author_email"] == ["ann@example.org"]
    assert form["user_ip"] == ["127.0.0.1"] and form["user_agent"] == ["pytest-browser"]


def test_akismet_unreachable_fails_open(app, client, akismet):
    akismet.close()
    app.config.update(AKISMET_KEY="test-key", AKISMET_URL=akismet.url)
    assert send(client).status_code == 201


def test_without_a_key_nothing_leaves_the_machine(app, client, akismet):
    app.config.update(AKISMET_KEY=None, AKISMET_URL=akismet.url)
    assert send(client).status_code == 201
    assert send(client, "hi", homepage="x").status_code == 202
    assert akismet.requests == []


def test_local_refusals_never_reach_akismet(app, client, akismet):
    app.config.update(AKISMET_KEY="test-key", AKISMET_URL=akismet.url)
    send(client, "bot", homepage="x")
    send(client, "https://a.x/ https://b.x/ https://c.x/ https://d.x/")
    assert akismet.requests == []
