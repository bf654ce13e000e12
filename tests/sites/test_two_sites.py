"""Two sites with different settings served by one instance: each keeps its own moderation mode,
proof of work, blocked words, report threshold, webhooks and admin mail, and its settings reach
the widget through the thread's config."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support import factories
from support.app import PAGE, SITE
from support.factories import SHOP

from widget_server.extensions import db
from widget_server.models import OutboxMessage, WebhookDelivery
from widget_server.sites import service

SHOP_PAGE = f"{SHOP}/products/kettle"


@pytest.fixture
def shop(app):
    """The shop holds every comment and needs no proof of work; the blog (the default site) keeps
    the server's settings: no moderation, proof of work on."""
    with app.app_context():
        return factories.site("shop", moderation="all", pow="off", blocked_words="casino",
                              report_threshold="1", default_lang="de", default_theme="dark").id


def thread(client, url):
    return client.get("/api/v1/comments", query_string={"url": url}, headers={"Origin": SITE})


@pytest.mark.parametrize(("url", "fields", "status", "state"), [
    (PAGE, {}, 201, "published"),                              # the blog: moderation off
    (SHOP_PAGE, {}, 202, "pending"),                           # the shop: moderation all
    (SHOP_PAGE, {"altcha": None}, 202, "pending"),             # the shop needs no proof of work
    (PAGE, {"altcha": None}, 400, None),                       # the blog does
])
def test_each_site_keeps_its_moderation_mode_and_proof_of_work(client, shop, url, fields, status, state):
    posted = client.post("/api/v1/comments", json={"url": url, "text": "Hello", **fields})
    assert posted.status_code == status, posted.json
    if state:
        assert posted.json["comment"]["state"] == state
    else:
        assert posted.json["error"]["code"] == "challenge_required"


def test_blocked_words_are_the_sites_own(client, shop):
    with client.application.app_context():
        service.update_site("shop", {"moderation": "off"})
        db.session.commit()
        service.changed()
    held = client.post("/api/v1/comments", json={"url": SHOP_PAGE, "text": "Try the casino", "altcha": None})
    assert held.status_code == 202, held.json
    fine = client.post("/api/v1/comments", json={"url": PAGE, "text": "Try the casino"})
    assert fine.status_code == 201, fine.json


def test_the_threads_config_carries_its_sites_settings(client, shop):
    shop_config, blog_config = thread(client, SHOP_PAGE).json["config"], thread(client, PAGE).json["config"]
    assert (shop_config["moderation"], shop_config["pow"], shop_config["default_lang"],
            shop_config["default_theme"]) == ("all", False, "de", "dark")
    assert (blog_config["moderation"], blog_config["pow"], blog_config["default_lang"],
            blog_config["default_theme"]) == ("off", True, "", "")


def test_a_change_reaches_the_cached_thread_at_once(client, shop):
    before = thread(client, SHOP_PAGE)
    assert before.json["config"]["moderation"] == "all"
    with client.application.app_context():
        service.update_site("shop", {"moderation": "first"})
        db.session.commit()
        service.changed()
    after = thread(client, SHOP_PAGE)
    assert after.json["config"]["moderation"] == "first"
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_sites_origin_is_allowed_only_once_the_site_exists(client, app):
    def from_shop():
        return client.get("/api/v1/comments", query_string={"url": SHOP_PAGE}, headers={"Origin": SHOP})

    assert from_shop().json["error"]["code"] == "origin_not_allowed"
    with app.app_context():
        factories.site("shop")
    assert from_shop().status_code == 200
    with app.app_context():
        service.remove("shop")
        db.session.commit()
        service.changed()
    assert from_shop().status_code == 403


def test_the_report_threshold_is_the_sites(client, shop):
    with client.application.app_context():
        service.update_site("shop", {"moderation": "off"})
        db.session.commit()
        service.changed()
    on_shop = client.post("/api/v1/comments", json={"url": SHOP_PAGE, "text": "Hi", "altcha": None}).json
    on_blog = client.post("/api/v1/comments", json={"url": PAGE, "text": "Hi"}).json
    for posted in (on_shop, on_blog):
        reported = client.post(f"/api/v1/comments/{posted['comment']['id']}/report", json={"reason": "spam"})
        assert reported.status_code in (200, 201, 202, 204), reported.json
    states = {url: [c["state"] for c in thread(client, url).json["comments"]] for url in (SHOP_PAGE, PAGE)}
    assert states == {SHOP_PAGE: [], PAGE: ["published"]}  # one report holds on the shop only


@pytest.mark.parametrize("config_overrides", [{"SMTP_URL": "smtp://127.0.0.1:9?from=c@blog.example",
                                               "PUBLIC_URL": "https://comments.example",
                                               "ADMIN_EMAIL": "blog-owner@blog.example",
                                               "OUTBOX_THREAD": False}], indirect=True)
def test_webhooks_and_admin_mail_go_to_the_sites_own(client, app):
    with app.app_context():
        factories.site("shop", pow="off", admin_email="owner@shop.example",
                       webhook_urls="https://hooks.shop.example/in", webhook_secret="shop-hook-secret")
    on_shop = client.post("/api/v1/comments", json={"url": SHOP_PAGE, "text": "Hi", "altcha": None})
    assert on_shop.status_code == 201, on_shop.json
    assert client.post("/api/v1/comments", json={"url": PAGE, "text": "Hi"}).status_code == 201
    with app.app_context():
        mail = db.session.execute(select(OutboxMessage.recipient, OutboxMessage.kind)).all()
        hooks = db.session.execute(select(WebhookDelivery.url, WebhookDelivery.site_id,
                                          WebhookDelivery.body)).all()
        shop_id = service.get("shop").id
    assert sorted(mail) == [("blog-owner@blog.example", "admin-new"), ("owner@shop.example", "admin-new")]
    assert [(url, site_id) for url, site_id, _ in hooks] == [("https://hooks.shop.example/in", shop_id)]
    assert json.loads(hooks[0][2])["comment"]["url"] == SHOP_PAGE
