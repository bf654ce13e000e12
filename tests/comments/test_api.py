"""The reader endpoints of API.md, walked as the widget and outside checks use them."""
from __future__ import annotations

import pytest
from support.app import PAGE, SITE

API = "/api/v1"


def thread(client, url=PAGE, **params):
    response = client.get(f"{API}/comments", query_string={"url": url, **params})
    assert response.status_code == 200, response.json
    return response.json


def test_unknown_page_is_an_empty_thread(client):
    body = thread(client)
    assert body["comments"] == [] and body["next_cursor"] is None
    assert body["thread"] == {"url": PAGE, "title": "", "comment_count": 0, "locked": False, "reactions": {}}
    assert body["config"]["edit_window"] == 900


def test_post_reply_to_reply_and_read_nested_tree_with_numbers(client, post):
    first = post("First *post*", author="Mr Confused", title="Muscle spasms")
    second = post("A reply", parent_id=first["comment"]["id"])
    third = post("A reply to the reply", parent_id=second["comment"]["id"])
    post("Another top-level comment")

    body = thread(client)
    assert body["thread"]["comment_count"] == 4
    assert body["thread"]["title"] == "Muscle spasms"
    top = body["comments"]
    assert [c["number"] for c in top] == [1, 4]
    assert top[0]["html"] == "<p>First <em>post</em></p>"
    assert top[0]["author"]["name"] == "Mr Confused"
    reply = top[0]["replies"][0]
    assert reply["number"] == 2 and reply["parent_id"] == first["comment"]["id"]
    assert reply["replies"][0]["id"] == third["comment"]["id"]
    assert reply["replies"][0]["number"] == 3


def test_created_answer_carries_token_and_window(post):
    created = post("hello")
    assert created["comment"]["state"] == "published"
    assert len(created["edit_token"]) >= 32
    assert created["editable_until"].endswith("Z")


def test_public_view_never_leaks_private_fields(client, post):
    post("hello", author="Ann", email="ann@example.org", website="https://ann.example/")
    raw = client.get(f"{API}/comments", query_string={"url": PAGE}).get_data(as_text=True)
    for secret in ("ann@example.org", "ip_hash", "edit_token", "127.0.0.1", '"text"', '"email"'):
        assert secret not in raw
    author = thread(client)["comments"][0]["author"]
    assert author["website"] == "https://ann.example/"
    assert len(author["avatar"]) == 16


@pytest.mark.parametrize("variant", [
    "HTTPS://Blog.Example:443/2026/11/muscle-spasms",
    "https://blog.example/2026/11/muscle-spasms#comments",
    "https://blog.example/2026/11/muscle-spasms?utm_source=feed&utm_medium=rss",
    "https://blog.example/2026/11/muscle-spasms?fbclid=abc",
])
def test_url_variants_share_one_thread(client, post, variant):
    post("hello", url=variant)
    assert thread(client)["thread"]["comment_count"] == 1


@pytest.mark.parametrize("sort, expected", [
    ("oldest", [1, 2, 3]),
    ("newest", [3, 2, 1]),
    ("top", [2, 3, 1]),
])
def test_sort_orders(client, post, sort, expected):
    ids = [post(f"comment {n}")["comment"]["id"] for n in range(3)]
    client.post(f"{API}/comments/{ids[1]}/like", json={})
    client.post(f"{API}/comments/{ids[2]}/like", json={})
    # A second voter for comment 2 (another client address).
    client.post(f"{API}/comments/{ids[1]}/like", json={}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert [c["number"] for c in thread(client, sort=sort)["comments"]] == expected


@pytest.mark.parametrize("sort", ["oldest", "newest", "top"])
def test_paging_with_cursor_visits_every_top_level_comment_once(client, post, sort):
    for n in range(7):
        post(f"comment {n}")
    seen, cursor = [], None
    for _ in range(10):
        params = {"sort": sort, "limit": 3} | ({"cursor": cursor} if cursor else {})
        body = thread(client, **params)
        seen += [c["number"] for c in body["comments"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7


def test_replies_come_with_their_top_level_comment_on_every_page(client, post):
    first = post("top 1")["comment"]["id"]
    post("top 2")
    post("late reply to 1", parent_id=first)
    body = thread(client, limit=1)
    assert [r["number"] for r in body["comments"][0]["replies"]] == [3]


def test_edit_within_window_with_token(client, post, frozen_clock):
    created = post("before")
    frozen_clock.advance(seconds=899)
    response = client.patch(f"{API}/comments/{created['comment']['id']}", json={"text": "after **now**"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 200
    assert response.json["comment"]["html"] == "<p>after <strong>now</strong></p>"
    assert response.json["comment"]["edited_at"] is not None
    assert thread(client)["comments"][0]["html"] == "<p>after <strong>now</strong></p>"


def test_an_unchanged_edit_marks_nothing(client, post, frozen_clock):
    created = post("the same words")
    etag = client.get(f"{API}/comments", query_string={"url": PAGE}).headers["ETag"]
    frozen_clock.advance(seconds=60)
    response = client.patch(f"{API}/comments/{created['comment']['id']}", json={"text": "the same words"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 200
    assert response.json["comment"]["edited_at"] is None
    assert thread(client)["comments"][0]["edited_at"] is None
    again = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert again.status_code == 304  # the thread did not change: every reader's cache stays good


def test_edit_refused_after_window(client, post, frozen_clock):
    created = post("before")
    frozen_clock.advance(seconds=901)
    response = client.patch(f"{API}/comments/{created['comment']['id']}", json={"text": "after"},
                            headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "edit_window_closed"
    assert thread(client)["comments"][0]["html"] == "<p>before</p>"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_another_comments_token_is_refused(client, post, method):
    mine, other = post("mine"), post("other")
    response = getattr(client, method)(f"{API}/comments/{other['comment']['id']}", json={"text": "x"},
                                       headers={"X-Edit-Token": mine["edit_token"]})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert [c["html"] for c in thread(client)["comments"]] == ["<p>mine</p>", "<p>other</p>"]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_missing_token_is_refused(client, post, method):
    created = post("mine")
    response = getattr(client, method)(f"{API}/comments/{created['comment']['id']}", json={"text": "x"})
    assert response.status_code == 403


def test_delete_without_replies_removes_it(client, post):
    created = post("mine")
    response = client.delete(f"{API}/comments/{created['comment']['id']}",
                             headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 204
    assert thread(client)["comments"] == []
    assert client.get(f"{API}/comments/{created['comment']['id']}").status_code == 404


def test_delete_with_replies_leaves_a_tombstone(client, post):
    parent = post("parent", author="Ann")
    post("child", parent_id=parent["comment"]["id"])
    client.delete(f"{API}/comments/{parent['comment']['id']}", headers={"X-Edit-Token": parent["edit_token"]})
    body = thread(client)
    tomb = body["comments"][0]
    assert tomb["state"] == "deleted" and tomb["html"] == "" and tomb["author"]["name"] == ""
    assert tomb["replies"][0]["html"] == "<p>child</p>"
    assert body["thread"]["comment_count"] == 1


def test_delete_after_window_is_refused(client, post, frozen_clock):
    created = post("mine")
    frozen_clock.advance(minutes=20)
    response = client.delete(f"{API}/comments/{created['comment']['id']}",
                             headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 403 and response.json["error"]["code"] == "edit_window_closed"


def test_get_one_comment_with_token_shows_source_text(client, post):
    created = post("**bold**")
    url = f"{API}/comments/{created['comment']['id']}"
    assert "text" not in client.get(url).json
    owned = client.get(url, headers={"X-Edit-Token": created["edit_token"]}).json
    assert owned["text"] == "**bold**"


@pytest.mark.parametrize("spellings", [
    ("10.0.0.1", "::ffff:10.0.0.1", "::ffff:a00:1"),
    ("2001:db8::1", "2001:0db8::0001", "2001:db8::2", "2001:db8::1:2:3:4"),  # one /64
])
def test_one_reader_likes_once_however_the_address_is_spelled(client, post, spellings):
    cid = post("like me")["comment"]["id"]
    likes = [client.post(f"{API}/comments/{cid}/like", json={}, environ_base={"REMOTE_ADDR": address}).json
             for address in spellings]
    assert likes == [{"likes": 1}] * len(spellings)


def test_like_twice_counts_once(client, post):
    cid = post("like me")["comment"]["id"]
    assert client.post(f"{API}/comments/{cid}/like", json={}).json == {"likes": 1}
    assert client.post(f"{API}/comments/{cid}/like", json={}).json == {"likes": 1}
    assert client.post(f"{API}/comments/{cid}/like", environ_base={"REMOTE_ADDR": "10.1.1.1"},
                       json={}).json == {"likes": 2}
    assert thread(client)["comments"][0]["likes"] == 2


def test_like_unknown_comment_is_404(client):
    assert client.post(f"{API}/comments/999/like", json={}).status_code == 404


def test_counts_for_several_pages(client, post):
    other = f"{SITE}/other"
    post("a")
    post("b")
    post("c", url=other)
    response = client.get(f"{API}/counts", query_string=[("url", PAGE), ("url", other),
                                                          ("url", f"{SITE}/none")])
    assert response.json == {"counts": {PAGE: 2, other: 1, f"{SITE}/none": 0}}


def test_counts_leave_out_bad_urls_but_answer_the_rest(client, post):
    post("a")
    response = client.get(f"{API}/counts", query_string=[("url", PAGE), ("url", "not a url"),
                                                          ("url", "https://evil.example/x")])
    assert response.status_code == 200 and response.json == {"counts": {PAGE: 1}}


@pytest.mark.parametrize("url, status", [("not a url", 400), ("https://evil.example/x", 403)])
def test_counts_with_no_usable_url_is_an_error(client, url, status):
    assert client.get(f"{API}/counts", query_string={"url": url}).status_code == status


def test_counts_refuses_more_than_100_urls(client):
    response = client.get(f"{API}/counts", query_string=[("url", f"{SITE}/{n}") for n in range(101)])
    assert response.status_code == 400 and "url" in response.json["error"]["fields"]


def test_preview_renders_like_storage(client, post):
    html = client.post(f"{API}/preview", json={"text": "*hi* https://example.org"}).json["html"]
    assert html == post("*hi* https://example.org")["comment"]["html"]
    assert 'rel="nofollow ugc noopener"' in html


def test_parent_must_be_in_the_same_thread(client, post):
    elsewhere = post("elsewhere", url=f"{SITE}/other")["comment"]["id"]
    response = client.post(f"{API}/comments", json={"url": PAGE, "text": "x", "parent_id": elsewhere})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"parent_id": "does not exist in this thread"}
    assert thread(client)["comments"] == []


def test_very_deep_reply_chains_are_capped(client, post):
    parent = None
    for n in range(40):
        parent = post(f"level {n}", parent_id=parent)["comment"]["id"]
    depth, node = 0, thread(client)["comments"][0]
    while node["replies"]:
        node, depth = node["replies"][0], depth + 1
    assert depth < 30
    assert thread(client)["thread"]["comment_count"] == 40


def test_thread_etag_and_304(client, post):
    post("hello")
    first = client.get(f"{API}/comments", query_string={"url": PAGE})
    etag = first.headers["ETag"]
    again = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    post("changes the thread")
    changed = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["thread"]["comment_count"] == 2


def test_thread_is_gzipped_when_asked(client, post):
    import gzip
    import json

    post("hello")
    response = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["thread"]["comment_count"] == 1


def test_no_content_answers_carry_no_content_type(client, post):
    created = post("bye")
    response = client.delete(f"{API}/comments/{created['comment']['id']}",
                             headers={"X-Edit-Token": created["edit_token"]})
    assert response.status_code == 204 and "Content-Type" not in response.headers


def test_missing_edit_token_says_what_to_send(client, post):
    created = post("mine")
    response = client.patch(f"{API}/comments/{created['comment']['id']}", json={"text": "x"})
    assert response.status_code == 403 and "X-Edit-Token" in response.json["error"]["message"]


def test_counts_follow_every_change(client, post, admin_token):
    def count():
        return client.get(f"{API}/counts", query_string={"url": PAGE}).json["counts"][PAGE]

    assert count() == 0
    first = post("one")
    assert count() == 1
    post("two")
    assert count() == 2
    client.delete(f"{API}/comments/{first['comment']['id']}", headers={"X-Edit-Token": first["edit_token"]})
    assert count() == 1
    second_id = thread(client)["comments"][0]["id"]
    client.post(f"{API}/admin/comments/{second_id}/spam", json={},
                headers={"Authorization": f"Bearer {admin_token}"})
    assert count() == 0
    client.post(f"{API}/admin/comments/{second_id}/approve", json={},
                headers={"Authorization": f"Bearer {admin_token}"})
    assert count() == 1


def test_the_avatar_does_not_confirm_a_guessed_address(client, post):
    alice = post("hello", author="Alice", email="alice@example.org")["comment"]
    # Someone else guesses her address (and copies her name) from another network.
    guess = client.post("/api/v1/comments", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                        json={"url": PAGE, "text": "probe", "author": "Alice", "email": "alice@example.org"})
    assert guess.status_code == 201
    assert guess.json["comment"]["author"]["avatar"] != alice["author"]["avatar"]
    shown = {c["id"]: c["author"]["avatar"]
             for c in client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"]}
    assert shown[guess.json["comment"]["id"]] != shown[alice["id"]]
    # The same reader on the same network keeps the same picture.
    again = post("hello again", author="Alice", email="alice@example.org")["comment"]
    assert again["author"]["avatar"] == alice["author"]["avatar"]
