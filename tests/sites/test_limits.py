"""Posting limits per site as well as per client: one site's flood meets its own limit while the
other site still posts (in memory and on Redis)."""
from __future__ import annotations

import uuid

import pytest
from support import factories
from support.app import PAGE, REDIS_URL, require_service
from support.factories import SHOP


@pytest.fixture(params=["memory", "redis"])
def config_overrides(request):
    storage = {"REDIS_URL": require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")} \
        if request.param == "redis" else {}
    # Each client may post plenty; every client of one site together, three times a minute.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_POST": "100 per minute",
            "RATELIMIT_POST_SITE": "3 per minute", **storage}


def flood(client, url, n, first_address=1, **fields):
    """``n`` posts to ``url``, each from a different client address."""
    return [client.post("/api/v1/comments", json={"url": url, "text": f"flood {uuid.uuid4()}", **fields},
                        environ_base={"REMOTE_ADDR": f"10.0.1.{first_address + i}"}).status_code
            for i in range(n)]


def test_a_sites_flood_meets_its_own_limit_and_the_other_site_still_posts(client, app):
    with app.app_context():
        factories.site("shop")
    assert flood(client, f"{SHOP}/sale", 4) == [201, 201, 201, 429]
    assert flood(client, PAGE, 3, first_address=50) == [201, 201, 201]  # the blog's own budget
    refused = flood(client, f"{SHOP}/other-page", 1, first_address=90)[0]
    assert refused == 429  # one budget for the whole site, whichever page and client


def test_a_site_may_have_its_own_limit(client, app):
    with app.app_context():
        factories.site("shop", ratelimit_post_site="1 per minute")
    assert flood(client, f"{SHOP}/sale", 2) == [201, 429]
    assert flood(client, PAGE, 3, first_address=50) == [201, 201, 201]


def test_the_no_script_form_spends_the_same_site_budget(client, app):
    with app.app_context():
        factories.site("shop", noscript_posts="published")
    assert flood(client, f"{SHOP}/sale", 3) == [201, 201, 201]
    form = client.post("/t", data={"url": f"{SHOP}/sale", "text": "by form", "form_token": "x"},
                       environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert form.status_code == 429
