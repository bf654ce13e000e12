"""A site's webhooks: sent to its URLs, signed with its secret, on a server that has none."""
from __future__ import annotations

import time

import pytest
from support import accounts as account_support
from support import factories
from support.factories import SHOP

from widget_server.delivery.webhooks import SIGNATURE_HEADER, verify

SITE_SECRET = "the shop's webhook secret"
webhook_receiver = account_support.webhook_receiver
smtp_server = account_support.smtp_server


@pytest.fixture
def config_overrides(smtp_server):
    return account_support.account_config(smtp_server.url)  # no WIDGET_WEBHOOK_URLS, no secret


def test_a_sites_webhooks_are_signed_with_its_secret(client, app, webhook_receiver):
    with app.app_context():
        factories.site("shop", pow="off", webhook_urls=webhook_receiver.url, webhook_secret=SITE_SECRET)
    posted = client.post("/api/v1/comments", json={"url": f"{SHOP}/a", "text": "Hi", "altcha": None})
    assert posted.status_code == 201, posted.json
    assert account_support.send_outbox(app) >= 1
    (request,) = webhook_receiver.requests
    header = next(v for k, v in request["headers"].items() if k.lower() == SIGNATURE_HEADER.lower())
    assert verify(SITE_SECRET, header, request["body"], int(time.time()))
    assert not verify("any other secret", header, request["body"], int(time.time()))
