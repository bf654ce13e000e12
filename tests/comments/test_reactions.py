"""Reactions (issue 19): one of each per reader, to a page or a comment; the like is the 👍."""
from __future__ import annotations

import pytest
from support.app import PAGE

API = "/api/v1"
OTHER = {"REMOTE_ADDR": "10.9.9.9"}


def react(client, method="POST", environ=None, **body):
    return client.open(f"{API}/reactions", method=method, json=body, environ_base=environ or {})


def thread(client):
    return client.get(f"{API}/comments", query_string={"url": PAGE}).json


def test_each_reader_counts_once_per_emoji_on_a_comment_and_the_page(client, post):
    cid = post("react to me")["comment"]["id"]
    assert react(client, comment_id=cid, emoji="🎉").json == {"reactions": {"🎉": 1}}
    assert react(client, comment_id=cid, emoji="🎉").json == {"reactions": {"🎉": 1}}  # again: no change
    assert react(client, comment_id=cid, emoji="❤️", environ=OTHER).json == {"reactions": {"❤️": 1, "🎉": 1}}
    assert react(client, url=PAGE, emoji="😮").json == {"reactions": {"😮": 1}}
    assert react(client, url=PAGE, emoji="😮", environ=OTHER).json == {"reactions": {"😮": 2}}
    body = thread(client)
    assert body["thread"]["reactions"] == {"😮": 2}
    assert body["comments"][0]["reactions"] == {"❤️": 1, "🎉": 1}  # in the configured order
    assert body["config"]["reactions"] == ["👍", "❤️", "😂", "😮", "😢", "🎉"]
    # Taken back: once, and only the reader's own.
    assert react(client, "DELETE", comment_id=cid, emoji="🎉").json == {"reactions": {"❤️": 1}}
    assert react(client, "DELETE", comment_id=cid, emoji="🎉").json == {"reactions": {"❤️": 1}}
    assert react(client, "DELETE", url=PAGE, emoji="😮").json == {"reactions": {"😮": 1}}
    assert thread(client)["thread"]["reactions"] == {"😮": 1}


def test_the_like_is_the_thumbs_up_and_keeps_its_count_and_api(client, post):
    cid = post("like me")["comment"]["id"]
    assert client.post(f"{API}/comments/{cid}/like", json={}).json == {"likes": 1}
    # The same reader's 👍 is the like already given; another reader's adds to it.
    assert react(client, comment_id=cid, emoji="👍").json == {"reactions": {"👍": 1}}
    assert react(client, comment_id=cid, emoji="👍", environ=OTHER).json == {"reactions": {"👍": 2}}
    comment = thread(client)["comments"][0]
    assert comment["likes"] == 2 and comment["reactions"] == {"👍": 2}
    assert react(client, "DELETE", comment_id=cid, emoji="👍").json == {"reactions": {"👍": 1}}
    assert thread(client)["comments"][0]["likes"] == 1


def test_a_page_without_a_thread_gets_one_on_its_first_reaction(client):
    assert react(client, "DELETE", url=PAGE, emoji="🎉").json == {"reactions": {}}
    assert thread(client)["thread"]["reactions"] == {}
    assert react(client, url=PAGE, emoji="🎉").json == {"reactions": {"🎉": 1}}
    assert thread(client)["thread"] == {"url": PAGE, "title": "", "comment_count": 0, "locked": False,
                                        "reactions": {"🎉": 1}}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"url": PAGE, "emoji": "🦄"}, 400, "emoji"),
    ({"url": PAGE}, 400, "emoji"),
    ({"comment_id": "1", "emoji": "🎉"}, 400, "comment_id"),
    ({"comment_id": True, "emoji": "🎉"}, 400, "comment_id"),
    ({"url": "javascript:alert(1)", "emoji": "🎉"}, 400, "url"),
    ({"comment_id": 999999, "emoji": "🎉"}, 404, None),
])
def test_bad_reactions_are_clear_errors_that_change_nothing(client, body, status, field):
    response = react(client, **body)
    assert response.status_code == status, response.json
    assert field is None or field in response.json["error"]["fields"]
    assert thread(client)["thread"]["reactions"] == {}


def test_a_foreign_page_cannot_be_reacted_to(client):
    response = react(client, url="https://elsewhere.example/post", emoji="🎉")
    assert response.status_code == 403


@pytest.mark.parametrize("config_overrides", [{"REACTIONS": ["🔥", "👀"]}], indirect=True)
def test_the_set_is_the_servers_setting(client, post):
    cid = post("hot")["comment"]["id"]
    assert react(client, comment_id=cid, emoji="🎉").status_code == 400
    assert react(client, comment_id=cid, emoji="🔥").json == {"reactions": {"🔥": 1}}
    assert thread(client)["config"]["reactions"] == ["🔥", "👀"]


def test_a_reaction_is_told_to_open_pages_on_the_change_feed(app, client, post):
    from sqlalchemy import select

    from widget_server.extensions import db
    from widget_server.models import ThreadChange

    cid = post("watched")["comment"]["id"]
    react(client, comment_id=cid, emoji="😂")
    with app.app_context():
        last = db.session.execute(select(ThreadChange).order_by(ThreadChange.id.desc())).scalars().first()
    assert last.kind == "reactions"
    assert '"reactions":{"😂":1}' in last.data and f'"comment_id":{cid}' in last.data
