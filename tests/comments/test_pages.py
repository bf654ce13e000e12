"""Threads as HTML (docs/server-rendering.md): GET /api/v1/comments.html, GET /t and its plain form,
POST /t. The structured data is read back with extruct, as search engines read microdata."""
from __future__ import annotations

import gzip
import json
import re

import extruct
import pytest
from sqlalchemy import select
from support import factories
from support.app import PAGE, SITE

from widget_server.extensions import db
from widget_server.models import Comment, Subscription

FRAGMENT = "/api/v1/comments.html"
COMMENT = "https://schema.org/Comment"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def get_html(client, path=FRAGMENT, expect=200, **params):
    response = client.get(path, query_string={"url": PAGE, **params})
    assert response.status_code == expect, response.data[:500]
    return response


def comments_in(markup: str, base: str = PAGE) -> list[dict]:
    """Every schema.org Comment item, at any depth, as extruct reads the microdata."""
    found, stack = [], extruct.extract(markup, base_url=base, syntaxes=["microdata"])["microdata"]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == COMMENT:
                found.append(item)
            stack.extend(v for value in item.get("properties", {}).values()
                         for v in (value if isinstance(value, list) else [value]))
    return found


def seed_of(markup: str) -> dict:
    seed = re.compile(r'<script type="application/json" data-ws-seed="\w+">(.*?)</script>', re.S)
    return json.loads(seed.search(markup).group(1))


# --- the fragment --------------------------------------------------------------------------


def test_fragment_shows_the_first_page_as_the_json_does(client, post):
    first = post("First *post*", author="Mr Confused", website="https://confused.example/")
    post("A reply", parent_id=first["comment"]["id"])
    post("Second top-level")
    response = get_html(client)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    markup = response.get_data(as_text=True)
    assert re.findall(r'<li class="c" id="comment-(\d+)"', markup) == ["1", "2", "3"]
    assert "<p>First <em>post</em></p>" in markup  # the stored html, as it is
    assert 'href="https://confused.example/" rel="nofollow ugc noopener"' in markup
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', markup)
    assert '<a href="#comment-2">#2</a>' in markup
    assert '<span class="ct">3 comments</span>' in markup
    # The widget's first page travels along, the very JSON of /api/v1/comments.
    json_page = client.get("/api/v1/comments", query_string={"url": PAGE}).json
    assert seed_of(markup) == json_page


def test_structured_data_is_one_comment_per_published_comment(app, client, post, admin_token):
    first = post("First", author="Ann", website="https://ann.example/")
    reply = post("Reply to Ann", parent_id=first["comment"]["id"])
    post("Under the reply", parent_id=reply["comment"]["id"])
    doomed = post("Going away")
    with app.app_context():
        assert factories.comment("Held back", held="waits").state == "pending"
    auth = {"Authorization": f"Bearer {admin_token}"}
    assert client.delete(f"/api/v1/admin/comments/{reply['comment']['id']}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/admin/comments/{doomed['comment']['id']}", headers=auth).status_code == 204

    markup = get_html(client).get_data(as_text=True)
    items = comments_in(markup)
    texts = sorted(item["properties"]["text"] for item in items)
    assert texts == ["First", "Under the reply"]  # no tombstone, nothing deleted or held
    assert "Held back" not in markup and "Going away" not in markup and "Reply to Ann" not in markup
    ann = next(item for item in items if item["properties"]["text"] == "First")
    props = ann["properties"]
    assert props["author"]["properties"] == {"name": "Ann", "url": "https://ann.example/"}
    assert props["url"] == f"{PAGE}#comment-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", props["datePublished"])
    assert props["dateCreated"] == props["datePublished"]
    under = next(item for item in items if item["properties"]["text"] == "Under the reply")
    assert under["properties"]["parentItem"] == f"{PAGE}#comment-2"


@pytest.mark.parametrize(("lang", "title", "count"), [
    ("en", "Discussion", "2 comments"), ("de", "Diskussion", "2 Kommentare"),
    ("de-AT", "Diskussion", "2 Kommentare"), ("xx", "Discussion", "2 comments"),
])
def test_fragment_speaks_the_widgets_language(client, post, lang, title, count):
    post("One")
    post("Two")
    markup = get_html(client, lang=lang).get_data(as_text=True)
    assert f'<h2 id="ws-t">{title} <span class="ct">{count}</span></h2>' in markup


def test_arabic_is_right_to_left(client, post):
    post("One")
    markup = get_html(client, lang="ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in markup


def test_fragment_pages_and_sorts_like_the_json(client, post, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        post(f"Comment {n}")
    newest = get_html(client, sort="newest").get_data(as_text=True)
    assert re.findall(r'id="comment-(\d+)"', newest) == ["5", "4"]
    cursor = seed_of(newest)["next_cursor"]
    assert f"cursor={cursor}" in newest.replace("%3D", "=")
    older = get_html(client, sort="newest", cursor=cursor).get_data(as_text=True)
    assert re.findall(r'id="comment-(\d+)"', older) == ["3", "2"]


def test_fragment_is_cached_by_thread_version_with_etag_and_304(client, post):
    post("One")
    first = get_html(client)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == client.get(
        "/api/v1/comments", query_string={"url": PAGE}).headers["Cache-Control"]
    again = client.get(FRAGMENT, query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    post("Two")
    changed = client.get(FRAGMENT, query_string={"url": PAGE}, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "comment-2" in changed.get_data(as_text=True)


def test_fragment_is_served_gzipped_to_who_takes_it(client, post):
    post("One")
    plain = get_html(client).data
    zipped = client.get(FRAGMENT, query_string={"url": PAGE}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    # Only the signed form token may differ between two responses.
    assert TOKEN.sub("", gzip.decompress(zipped.data).decode()) == TOKEN.sub("", plain.decode())


@pytest.mark.parametrize(("params", "field"), [
    ({"url": ""}, "url"), ({"url": "javascript:alert(1)"}, "url"), ({"sort": "best"}, "sort"),
    ({"theme": "pink"}, "theme"), ({"cursor": "garbage"}, "cursor"),
])
def test_bad_arguments_are_the_one_error_shape(client, params, field):
    response = client.get(FRAGMENT, query_string={"url": PAGE, **params})
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]


def test_a_foreign_page_is_refused(client):
    response = client.get(FRAGMENT, query_string={"url": "https://elsewhere.example/a"})
    assert response.status_code == 403 and response.json["error"]["code"] == "origin_not_allowed"


def test_reader_text_is_escaped_and_only_the_sanitized_html_kept(client, post):
    post("<script>alert(1)</script> **bold**", author='" onmouseover=alert(1) x="')
    markup = get_html(client).get_data(as_text=True)
    body = markup.split('<script type="application/json"')[0]
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<strong>bold</strong>" in body
    assert "&#34; onmouseover=alert(1) x=&#34;" in body
    seed = markup.split('data-ws-seed="oldest">')[1].split("</script>")[0]
    assert "<" not in seed and ">" not in seed  # nothing inside the JSON can close its element


# --- the /t page and its form ------------------------------------------------------------


def test_thread_page_is_a_whole_page_with_a_form_and_no_script(client, post):
    post("One")
    response = get_html(client, "/t")
    markup = response.get_data(as_text=True)
    assert markup.startswith("<!doctype html>")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "<script" not in markup
    assert '<form method="post" action="http://127.0.0.1:8000/t"' in markup
    assert TOKEN.search(markup)
    assert comments_in(markup)[0]["properties"]["text"] == "One"


@pytest.mark.parametrize(("query", "status", "says"), [
    ({"url": "https://elsewhere.example/post"}, 403, "Comments are not available on this page."),
    ({}, 400, "This link does not lead to a discussion: url is required."),
    ({"url": PAGE, "sort": "sideways"}, 400, "sort must be one of"),
])
def test_a_thread_page_that_cannot_be_shown_is_a_page_for_the_reader(client, query, status, says):
    """Readers reach /t from a link: they get HTML in their words, never the owner's JSON hint."""
    response = client.get("/t", query_string=query)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    markup = response.get_data(as_text=True)
    assert says in markup
    assert "WIDGET_" not in markup and '"error"' not in markup


def _form(client, **params) -> dict:
    markup = get_html(client, "/t", **params).get_data(as_text=True)
    return {"url": PAGE, "form_token": TOKEN.search(markup).group(1), "author": "Nina",
            "email": "", "website": "", "text": "Without JavaScript"}


@pytest.fixture
def form_post(client, frozen_clock):
    def send(fields=None, headers=None, wait=5, **params):
        form = _form(client, **params)
        frozen_clock.advance(seconds=wait)
        return client.post("/t", data={**form, **(fields or {})}, headers=headers or {"Origin": SITE})
    return send


def test_a_form_post_waits_for_moderation_and_says_so(app, client, form_post):
    response = form_post()
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:8000/t?") and "posted=held" in location
    with app.app_context():
        stored = db.session.scalars(select(Comment)).one()
        assert (stored.state, stored.author, stored.text) == ("pending", "Nina", "Without JavaScript")
        assert "WIDGET_NOSCRIPT_POSTS" in stored.held_reason
    page = client.get(location.split("#")[0]).get_data(as_text=True)
    assert "Your comment will appear once it is approved." in page
    assert "Without JavaScript" not in page
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("config_overrides", [{"NOSCRIPT_POSTS": "published"}], indirect=True)
def test_published_mode_shows_the_post_at_once(client, form_post):
    response = form_post()
    assert response.status_code == 303 and response.headers["Location"].endswith("posted=1#comment-1")
    assert "Without JavaScript" in get_html(client).get_data(as_text=True)


@pytest.mark.parametrize("config_overrides", [{"NOSCRIPT_POSTS": "off"}], indirect=True)
def test_off_mode_has_no_form_and_refuses_posts(client, form_post, post):
    post("One")
    assert "<form" not in get_html(client, "/t").get_data(as_text=True)
    response = client.post("/t", data={"url": PAGE, "text": "x", "form_token": "x"})
    assert response.status_code == 403 and response.mimetype == "text/html"


def test_a_reply_through_the_form(app, client, form_post, post):
    first = post("Parent")
    response = form_post({"parent_id": str(first["comment"]["id"])}, reply=first["comment"]["id"])
    assert response.status_code == 303
    with app.app_context():
        reply = db.session.scalars(select(Comment).where(Comment.author == "Nina")).one()
        assert reply.parent_id == first["comment"]["id"]


@pytest.mark.parametrize(("fields", "headers", "wait", "status", "words"), [
    ({"text": "  "}, None, 5, 400, "Text: must not be empty."),
    ({"form_token": ""}, None, 5, 400, "The form has expired"),
    ({"form_token": "forged.token.value"}, None, 5, 400, "form token is not valid"),
    ({}, None, 0, 400, "please wait at least 3 seconds"),
    ({"email": "not an address"}, None, 5, 400, "Email: must be an e-mail address."),
    ({}, {"Origin": "https://evil.example"}, 5, 403, "Posts from this site are not allowed here."),
    ({}, {"Origin": "null"}, 5, 403, "Posts from this site are not allowed here."),
])
def test_a_refused_post_is_the_page_again_with_the_text_kept(app, form_post, fields, headers, wait, status,
                                                             words):
    response = form_post(fields, headers=headers, wait=wait)
    assert response.status_code == status
    assert response.mimetype == "text/html" and response.headers["Cache-Control"] == "no-store"
    markup = response.get_data(as_text=True)
    assert words in markup
    if fields.get("text") is None:
        assert ">Without JavaScript</textarea>" in markup
    assert TOKEN.search(markup).group(1)  # a fresh token: send again
    with app.app_context():
        assert db.session.scalars(select(Comment)).first() is None


@pytest.mark.parametrize(("fields", "wait", "words"), [
    ({"lang": "de", "text": "  "}, 5, "Kommentar: Bitte füllen Sie dieses Feld aus."),
    ({"lang": "de", "email": "not an address"}, 5, "E-Mail: Diese Angabe ist ungültig."),
    ({"lang": "pt-BR", "text": "x" * 10_001}, 5,
     "Seu comentário: Longo demais: no máximo 10.000 caracteres."),
    ({"lang": "ja"}, 0, "早すぎます！数秒待ってから送信してください。"),  # too_fast, a code of the whole post
])
def test_a_refused_post_is_worded_in_the_pages_language(form_post, fields, wait, words):
    response = form_post(fields, wait=wait)
    assert response.status_code == 400
    assert f'<p class="ws-error" role="alert">{words}</p>' in response.get_data(as_text=True)


def test_no_origin_header_leaves_the_signed_token_to_decide(app, form_post):
    assert form_post(headers={"User-Agent": "Lynx/2.9"}).status_code == 303


def test_a_form_for_another_page_is_refused(app, client, frozen_clock):
    form = _form(client)
    frozen_clock.advance(seconds=5)
    response = client.post("/t", data={**form, "url": f"{SITE}/another"}, headers={"Origin": SITE})
    assert response.status_code == 400 and "belongs to another page" in response.get_data(as_text=True)


def test_json_is_not_a_form(client):
    response = client.post("/t", json={"url": PAGE, "text": "x"})
    assert response.status_code == 415 and response.mimetype == "text/html"


def test_the_honeypot_is_spam_answered_like_a_held_post(app, form_post):
    response = form_post({"homepage": "http://spam.example"})
    assert response.status_code == 303 and "posted=held" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalars(select(Comment)).one().state == "spam"


LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_POST": "1 per minute"}


@pytest.mark.parametrize("config_overrides", [LIMITED], indirect=True)
def test_form_posts_share_the_post_rate_limit_and_answer_in_html(client, form_post):
    assert form_post().status_code == 303
    limited = form_post({"text": "Second"})
    assert limited.status_code == 429 and limited.mimetype == "text/html"
    assert int(limited.headers["Retry-After"]) > 0
    assert "too many posts" in limited.get_data(as_text=True).lower()
    german = form_post({"text": "Dritter", "lang": "de"})
    assert german.status_code == 429
    said = german.get_data(as_text=True)
    assert re.search(r"Zu viele Versuche\. Bitte versuchen Sie es in \d+ Sekunden erneut\.", said)


MAIL = {"SMTP_URL": "smtp://127.0.0.1:9?from=comments@blog.example", "PUBLIC_URL": "https://comments.example",
        "OUTBOX_THREAD": False}


@pytest.mark.parametrize("config_overrides", [MAIL], indirect=True)
def test_where_mail_is_on_the_form_offers_reply_notifications_as_the_widget_does(app, client, form_post):
    assert 'name="notify" value="true"' in get_html(client, "/t").get_data(as_text=True)
    refused = form_post({"notify": "true"})
    assert refused.status_code == 400 and "Email: is needed for reply notifications." in refused.text
    asked = {"notify": "true", "email": "nina@example.org", "text": "Tell me", "lang": "de"}
    assert form_post(asked).status_code == 303
    with app.app_context():  # the page's language, for the mails (issue 19)
        assert db.session.scalars(select(Subscription.lang)).all() == ["de"]


def test_without_mail_there_is_no_notify_box(client):
    assert 'name="notify"' not in get_html(client, "/t").get_data(as_text=True)
