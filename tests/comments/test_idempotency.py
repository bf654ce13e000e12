"""A post sent again with its Idempotency-Key (issue 19: the widget's offline post) is stored once."""
from __future__ import annotations

import pytest
from support.app import PAGE

API = "/api/v1"
KEY = "k7fQ2x9LmN4pR8sT1vW3"


def send(client, key=KEY, text="Sent from a train"):
    return client.post(f"{API}/comments", json={"url": PAGE, "text": text}, headers={"Idempotency-Key": key})


def test_a_repeat_is_answered_with_the_same_comment_and_a_token_that_works(client):
    first, again = send(client), send(client)
    assert first.status_code == again.status_code == 201
    assert again.json["comment"]["id"] == first.json["comment"]["id"]
    thread = client.get(f"{API}/comments", query_string={"url": PAGE}).json
    assert thread["thread"]["comment_count"] == 1
    cid = first.json["comment"]["id"]
    # The token of the lost answer is replaced by the one the repeat carries.
    assert client.patch(f"{API}/comments/{cid}", json={"text": "x"},
                        headers={"X-Edit-Token": first.json["edit_token"]}).status_code == 403
    assert client.patch(f"{API}/comments/{cid}", json={"text": "edited"},
                        headers={"X-Edit-Token": again.json["edit_token"]}).status_code == 200


def test_another_key_is_another_post(client):
    assert send(client).json["comment"]["id"] != send(client, KEY + "b", "another").json["comment"]["id"]


@pytest.mark.parametrize("key", ["short", "x" * 101, "has spaces in it ok?", "ünïcode-key-0123456"])
def test_a_malformed_key_is_a_clear_error_that_stores_nothing(client, key):
    response = send(client, key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json["error"]["fields"]
    assert client.get(f"{API}/comments", query_string={"url": PAGE}).json["comments"] == []


def test_the_key_is_stored_keyed_not_as_sent(app, client):
    from sqlalchemy import select

    from widget_server.extensions import db
    from widget_server.models import Comment

    send(client)
    with app.app_context():
        stored = db.session.execute(select(Comment.idempotency_hash)).scalar_one()
    assert stored and KEY not in stored
