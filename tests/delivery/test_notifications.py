"""Reply notifications (opt-in, confirm once, one-click unsubscribe) and admin notifications."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select
from support import accounts as account_support
from support.accounts import account_config, count, html_of, link_path, link_with, send_outbox, text_of
from support.app import PAGE

from widget_server.extensions import db
from widget_server.models import Subscription

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader
ALICE = "alice@example.org"


@pytest.fixture
def config_overrides(request, smtp_server):
    return account_config(smtp_server.url, **getattr(request, "param", {}))


def confirm(client, smtp_server, address=ALICE):
    """Press the link of every confirmation mail the address got (each confirms its own opt-in)."""
    for message in [m for m in smtp_server.to(address) if m["Subject"] == "Confirm reply notifications"]:
        url = link_with(message, "/mail/confirm?token=")
        assert client.post(link_path(url)).status_code == 200
    return url


def replies_to(smtp_server, address=ALICE):
    return [m for m in smtp_server.to(address) if m["Subject"].startswith("New reply")]


def test_opt_in_confirm_and_get_a_reply(client, app, smtp_server, post):
    parent = post("My question", author="Alice", email=ALICE, notify=True)["comment"]
    post("Not a reply")
    send_outbox(app)
    (ask,) = smtp_server.to(ALICE)
    assert ask["Subject"] == "Confirm reply notifications"
    url = link_with(ask, "/mail/confirm?token=")

    # Before confirming, replies send nothing.
    post("early answer", parent_id=parent["id"])
    send_outbox(app)
    assert replies_to(smtp_server) == []

    page = client.get(link_path(url))  # a GET shows a page and changes nothing
    assert page.status_code == 200 and b'method="post"' in page.data
    assert count(app, Subscription, Subscription.confirmed.is_(True)) == 0
    assert client.post(link_path(url)).status_code == 200
    assert count(app, Subscription, Subscription.confirmed.is_(True)) == 1

    reply = post("Try <b>magnesium</b> & rest", author="Bob", parent_id=parent["id"])["comment"]
    send_outbox(app)
    (message,) = replies_to(smtp_server)
    assert f"{PAGE}#comment-{reply['number']}" in links_of(message)
    assert "Try <b>magnesium</b> & rest" in text_of(message)
    assert "Try &lt;b&gt;magnesium&lt;/b&gt; &amp; rest" in html_of(message)
    assert "<b>magnesium" not in html_of(message)
    unsubscribe = link_with(message, "/mail/unsubscribe?token=")
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As sent: verbatim on one line, not RFC 2047-encoded (mail programs read only that).
    raw = smtp_server.raw[smtp_server.messages.index(message)]
    assert f"\r\nList-Unsubscribe: <{unsubscribe}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    for link in (url, unsubscribe):  # signed, readable payloads: they name no address
        payload = link.split("token=")[1].split(".")[0]
        assert b"alice" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def links_of(message):
    return account_support.links(message)


def test_confirmation_link_expires(client, app, smtp_server, post, frozen_clock):
    post("first", email=ALICE, notify=True)
    send_outbox(app)
    url = link_with(smtp_server.to(ALICE)[0], "/mail/confirm")
    frozen_clock.advance(days=8)
    assert client.post(link_path(url)).status_code == 400
    assert count(app, Subscription, Subscription.confirmed.is_(True)) == 0


def test_the_replier_is_not_mailed_about_their_own_reply(client, app, smtp_server, post):
    parent = post("question", email=ALICE, notify=True)["comment"]
    send_outbox(app)
    confirm(client, smtp_server)
    post("answering myself", email="ALICE@example.org", parent_id=parent["id"])
    send_outbox(app)
    assert replies_to(smtp_server) == []


def test_no_opt_in_no_mail(client, app, smtp_server, post):
    parent = post("question", email=ALICE)["comment"]
    post("answer", parent_id=parent["id"])
    send_outbox(app)
    assert smtp_server.messages == [] and count(app, Subscription) == 0


def test_notify_needs_an_address(client):
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "notify": True})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"email": "is needed for reply notifications"}


@pytest.mark.parametrize("everything", [False, True])
def test_unsubscribe_page(client, app, smtp_server, post, everything):
    first = post("question", email=ALICE, notify=True)["comment"]
    second = post("another", email=ALICE, notify=True)["comment"]
    send_outbox(app)
    confirm(client, smtp_server)
    post("answer", parent_id=first["id"])
    send_outbox(app)
    url = link_with(replies_to(smtp_server)[0], "/mail/unsubscribe")

    page = client.get(link_path(url))
    assert page.status_code == 200 and count(app, Subscription) == 2  # GET changes nothing
    done = client.post(link_path(url), data={"all": "1"} if everything else {})
    assert done.status_code == 200 and b"no more" in done.data
    assert count(app, Subscription) == (0 if everything else 1)

    post("another answer", parent_id=first["id"])
    post("answer to the second", parent_id=second["id"])
    send_outbox(app)
    assert len(replies_to(smtp_server)) == (1 if everything else 2)
    assert client.post(link_path(url)).status_code == 200  # repeating it is harmless


def test_rfc8058_one_click_unsubscribe(client, app, smtp_server, post):
    parent = post("question", email=ALICE, notify=True)["comment"]
    send_outbox(app)
    confirm(client, smtp_server)
    post("answer", parent_id=parent["id"])
    send_outbox(app)
    url = replies_to(smtp_server)[0]["List-Unsubscribe"].strip("<>")
    # What a mail provider sends: a form POST to the header's URL, from no particular origin.
    response = client.post(link_path(url), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert count(app, Subscription) == 0


FORGED = "eyJzIjoxLCJlIjoiYWxpY2VAZXhhbXBsZS5vcmcifQ.AAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB"


@pytest.mark.parametrize("token", ["", "garbage", FORGED])
def test_forged_unsubscribe_links_do_nothing(client, app, smtp_server, post, token):
    post("question", email=ALICE, notify=True)
    response = client.post(f"/mail/unsubscribe?token={token}")
    assert response.status_code == 400
    api = client.post("/api/v1/notifications/unsubscribe", json={"token": token or "x"})
    assert api.status_code == 400 and "token" in api.json["error"]["fields"]
    assert count(app, Subscription) == 1


def test_json_endpoints_for_the_widget(client, app, smtp_server, post):
    parent = post("question", email=ALICE, notify=True)["comment"]
    send_outbox(app)
    token = link_with(smtp_server.to(ALICE)[0], "/mail/confirm").split("token=")[1]
    assert client.post("/api/v1/notifications/confirm", json={"token": token}).json == {"confirmed": 1}
    post("answer", parent_id=parent["id"])
    send_outbox(app)
    unsubscribe = link_with(replies_to(smtp_server)[0], "/mail/unsubscribe").split("token=")[1]
    response = client.post("/api/v1/notifications/unsubscribe", json={"token": unsubscribe})
    assert response.json == {"unsubscribed": 1}


def test_signed_in_readers_need_no_confirmation(client, app, smtp_server, make_reader):
    reader = make_reader(ALICE, "Alice")
    before = len(smtp_server.messages)
    parent = client.post("/api/v1/comments", json={"url": PAGE, "text": "q", "notify": True},
                         headers=reader.auth).json["comment"]
    client.post("/api/v1/comments", json={"url": PAGE, "text": "a", "parent_id": parent["id"]})
    send_outbox(app)
    (message,) = smtp_server.messages[before:]
    assert message["Subject"].startswith("New reply") and message["To"] == ALICE


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_held_replies_notify_once_approved(client, app, smtp_server, post, admin_token):
    admin = {"Authorization": f"Bearer {admin_token}"}
    parent = post("question", email=ALICE, notify=True, expect=202)["comment"]
    client.post(f"/api/v1/admin/comments/{parent['id']}/approve", json={}, headers=admin)
    send_outbox(app)
    confirm(client, smtp_server)
    reply = post("held answer", parent_id=parent["id"], expect=202)["comment"]
    send_outbox(app)
    assert replies_to(smtp_server) == []
    assert client.post(f"/api/v1/admin/comments/{reply['id']}/approve", json={},
                       headers=admin).status_code == 200
    send_outbox(app)
    (message,) = replies_to(smtp_server)
    assert f"#comment-{reply['number']}" in text_of(message)


@pytest.mark.parametrize(("config_overrides", "subject", "has_page_link"), [
    ({"ADMIN_EMAIL": "owner@blog.example"}, "New comment on", True),
    ({"ADMIN_EMAIL": "owner@blog.example", "MODERATION": "all"}, "Held for moderation on", False),
], indirect=["config_overrides"])
def test_admin_notifications(client, app, smtp_server, post, subject, has_page_link):
    created = post("Buy <cheap> stuff", author="Spammy", title="Muscle spasms")["comment"]
    send_outbox(app)
    (message,) = smtp_server.to("owner@blog.example")
    assert message["Subject"] == f"{subject} \u201cMuscle spasms\u201d"
    assert "https://comments.example/admin" in links_of(message)
    assert (f"{PAGE}#comment-{created['number']}" in links_of(message)) is has_page_link
    assert "Buy &lt;cheap&gt; stuff" in html_of(message)


def test_no_admin_mail_without_an_address(client, app, smtp_server, post):
    post("hello")
    send_outbox(app)
    assert smtp_server.messages == []


def test_subscriptions_go_with_their_comment(app, post):
    post("question", email=ALICE, notify=True)
    with app.app_context():
        sub = db.session.execute(select(Subscription)).scalar_one()
        assert sub.email == ALICE and sub.confirmed is False
        db.session.remove()


@pytest.mark.parametrize("config_overrides", [{"SMTP_URL": None}], indirect=True)
def test_notifications_are_refused_where_no_mail_can_be_sent(client, app):
    assert client.get("/api/v1/comments", query_string={"url": PAGE}).json["config"]["notifications"] is False
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "tell me", "email": ALICE,
                                                     "notify": True})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"notify": "is not available: this site sends no mail"}


# --- an opt-in needs a proof from its own requester (audit finding 4) ---------------------------


def test_an_earlier_confirmation_does_not_confirm_a_strangers_opt_in(client, app, smtp_server, post):
    post("My question", author="Alice", email=ALICE, notify=True)
    send_outbox(app)
    confirm(client, smtp_server)
    # Mallory, anonymously, opts Alice's address in on her own comment, then replies to it:
    # the site must not mail Mallory's text to Alice.
    bait = post("Mallory's comment", author="Mallory", email=ALICE, notify=True)["comment"]
    post("Cheap pills at pills.example", author="Mallory", parent_id=bait["id"])
    send_outbox(app)
    assert replies_to(smtp_server) == []
    with app.app_context():
        states = dict(db.session.execute(select(Subscription.comment_id, Subscription.confirmed)).all())
        db.session.remove()
    assert states[bait["id"]] is False
    # Alice gets only a question about that opt-in, which she can ignore.
    asks = [m for m in smtp_server.to(ALICE) if m["Subject"] == "Confirm reply notifications"]
    assert len(asks) == 2


def test_each_confirmation_link_confirms_its_own_opt_in(client, app, smtp_server, post):
    first = post("first", email=ALICE, notify=True)["comment"]
    second = post("second", email=ALICE, notify=True)["comment"]
    send_outbox(app)
    asks = smtp_server.to(ALICE)
    assert len(asks) == 2
    assert client.post(link_path(link_with(asks[1], "/mail/confirm"))).status_code == 200
    with app.app_context():
        confirmed = set(db.session.execute(
            select(Subscription.comment_id).where(Subscription.confirmed.is_(True))).scalars())
        db.session.remove()
    assert confirmed == {second["id"]} and first["id"] not in confirmed


@pytest.mark.parametrize("config_overrides", [{"MAIL_PER_ADDRESS_HOUR": 3, "MAIL_PER_ADDRESS_DAY": 4,
                                               "ADMIN_EMAIL": "owner@blog.example"}], indirect=True)
def test_mail_per_address_is_capped(client, app, smtp_server, post, frozen_clock):
    for n in range(5):
        post(f"question {n}", email=ALICE, notify=True)
    send_outbox(app)
    assert len(smtp_server.to(ALICE)) == 3  # the hourly cap
    assert len(smtp_server.to("owner@blog.example")) == 5  # the site's own address is not capped
    frozen_clock.advance(hours=1, seconds=1)
    post("question 5", email=ALICE, notify=True)
    post("question 6", email=ALICE, notify=True)
    send_outbox(app)
    assert len(smtp_server.to(ALICE)) == 4  # one more this hour, then the daily cap
    frozen_clock.advance(days=1, seconds=1)
    post("question 7", email=ALICE, notify=True)
    send_outbox(app)
    assert len(smtp_server.to(ALICE)) == 5


def test_a_spam_verdict_mails_its_author_like_a_held_comment(client, app, smtp_server):
    """Audit finding 7: the confirmation mail of a notify opt-in is an answer too."""
    app.config["BLOCKED_WORDS"] = ["pills"]  # held for moderation
    bob = "bob@example.org"
    held = client.post("/api/v1/comments", json={"url": PAGE, "text": "cheap pills", "email": ALICE,
                                                 "notify": True})
    spam = client.post("/api/v1/comments", json={"url": PAGE + "?p=2", "text": "cheap pills", "email": bob,
                                                 "notify": True, "homepage": "x"})  # the honeypot: spam
    assert held.status_code == spam.status_code == 202
    send_outbox(app)
    assert [m["Subject"] for m in smtp_server.to(ALICE)] == [m["Subject"] for m in smtp_server.to(bob)] \
        == ["Confirm reply notifications"]
