"""Atom feeds: valid Atom 1.0, published comments only, permalinks, escaped sanitized HTML."""
from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from sqlalchemy import update
from support.app import PAGE, SITE

from widget_server.extensions import db
from widget_server.models import PENDING, Comment

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OTHER = f"{SITE}/other"


def parse(response) -> ElementTree.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ElementTree.fromstring(response.data)  # noqa: S314 - our own output


def check_atom(feed: ElementTree.Element) -> list[ElementTree.Element]:
    """The must-haves of RFC 4287, checked element by element."""
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert re.match(r"^(urn:uuid:[0-9a-f-]{36}|tag:)", feed.findtext(f"{ATOM}id"))
    assert RFC3339.match(feed.findtext(f"{ATOM}updated"))
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    assert any(link.get("rel") == "self" and link.get("href") for link in feed.findall(f"{ATOM}link"))
    entries = feed.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert re.match(r"^(urn:uuid:[0-9a-f-]{36}|tag:)", entry.findtext(f"{ATOM}id"))
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        assert RFC3339.match(entry.findtext(f"{ATOM}published"))
        assert entry.find(f"{ATOM}author/{ATOM}name").text
        [alternate] = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        assert alternate.get("href")
        assert entry.find(f"{ATOM}content").get("type") == "html"
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
    return entries


def test_thread_feed(client, post, app):
    first = post("Hello <script>alert(1)</script> & **bold**", author="Ann", website="https://ann.example")
    post("A reply", parent_id=first["comment"]["id"])
    gone = post("To be deleted")
    client.delete(f"/api/v1/comments/{gone['comment']['id']}", headers={"X-Edit-Token": gone["edit_token"]})
    held = post("Held")
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == held["comment"]["id"]).values(state=PENDING))
        db.session.commit()
    post("Elsewhere", url=OTHER)

    response = client.get("/api/v1/feed.atom", query_string={"url": PAGE + "?utm_source=rss"})
    entries = check_atom(parse(response))
    assert len(entries) == 2  # published only, this thread only
    newest, oldest = entries
    assert newest.find(f"{ATOM}link").get("href") == f"{PAGE}#comment-2"
    assert oldest.find(f"{ATOM}link").get("href") == f"{PAGE}#comment-1"
    assert newest.find(f"{ATOM}author/{ATOM}name").text == "Anonymous"
    assert oldest.find(f"{ATOM}author/{ATOM}uri").text == "https://ann.example/"
    content = oldest.findtext(f"{ATOM}content")
    with app.app_context():
        stored = db.session.get(Comment, first["comment"]["id"]).html
    assert content == stored and "<strong>bold</strong>" in content and "<script" not in content
    assert b"<strong>" not in response.data and b"&lt;strong&gt;" in response.data  # escaped, not markup
    assert b"<script" not in response.data

    again = parse(client.get("/api/v1/feed.atom", query_string={"url": PAGE}))
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == \
        [e.findtext(f"{ATOM}id") for e in entries]  # ids are stable


def test_site_feed_has_recent_comments_of_every_thread(client, post):
    for n in range(3):
        post(f"Comment {n}")
    post("Other page", url=OTHER)
    for path in ("/api/v1/feed.atom", "/api/v1/feeds/recent.atom"):
        entries = check_atom(parse(client.get(path)))
        assert [e.find(f"{ATOM}link").get("href") for e in entries] == [
            f"{OTHER}#comment-1", f"{PAGE}#comment-3", f"{PAGE}#comment-2", f"{PAGE}#comment-1"]
    limited = check_atom(parse(client.get("/api/v1/feed.atom", query_string={"limit": 2})))
    assert len(limited) == 2


def test_site_feed_leaves_out_sites_that_are_not_allowed(client, post, runner, tmp_path):
    from support.imports import run

    post("Visible")
    export = tmp_path / "elsewhere.xml"
    export.write_text(
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="1"><link>https://not-allowed.example/page</link></thread>'
        '<post dsq:id="2"><message>hidden</message><createdAt>2030-01-01T00:00:00Z</createdAt>'
        '<thread dsq:id="1"/></post></disqus>')
    run(runner, "import", "disqus", export)
    entries = check_atom(parse(client.get("/api/v1/feed.atom")))
    assert [e.find(f"{ATOM}link").get("href") for e in entries] == [f"{PAGE}#comment-1"]


def test_empty_and_refused_feeds(client):
    entries = check_atom(parse(client.get("/api/v1/feed.atom", query_string={"url": f"{SITE}/nothing-yet"})))
    assert entries == []
    assert check_atom(parse(client.get("/api/v1/feed.atom"))) == []
    refused = client.get("/api/v1/feed.atom", query_string={"url": "https://evil.example/x"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "origin_not_allowed"


@pytest.mark.parametrize("query", [{"url": "javascript:alert(1)"}, {"limit": "0"}, {"limit": "many"}])
def test_bad_feed_requests(client, query):
    response = client.get("/api/v1/feed.atom", query_string=query)
    assert response.status_code == 400 and response.json["error"]["code"] == "validation_error"


def test_feeds_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/feed.atom" in paths and "/api/v1/feeds/recent.atom" in paths
