"""/api/v1/admin/sites: the sites over the admin API, for global admin tokens only."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support import factories
from support.factories import SHOP

from widget_server.extensions import db
from widget_server.models import AdminToken, AuditEntry, Site
from widget_server.security import token_hash

API = "/api/v1/admin/sites"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_add_change_list_remove(client, admin_token, app):
    auth = bearer(admin_token)
    added = client.post(API, json={"name": "shop", "origins": [SHOP], "settings": {"moderation": "all",
                                                                                 "pow": "off"}}, headers=auth)
    assert added.status_code == 201, added.json
    assert added.json | {"updated_at": None} == {"name": "shop", "origins": [SHOP], "version": 1,
                                                 "settings": {"moderation": "all", "pow": "off"},
                                                 "updated_at": None, "threads": 0}
    changed = client.patch(f"{API}/shop", json={"settings": {"default_theme": "dark"}, "reset": ["pow"]},
                           headers=auth)
    assert changed.status_code == 200, changed.json
    assert changed.json["settings"] == {"default_theme": "dark", "moderation": "all"}
    assert changed.json["version"] == 2
    listed = client.get(API, headers=auth).json
    assert "shop" in [s["name"] for s in listed["sites"]] and "moderation" in listed["keys"]
    assert client.get(f"{API}/shop", headers=auth).json["settings"]["default_theme"] == "dark"
    # In force at once: the shop's thread carries its settings.
    read = client.get("/api/v1/comments", query_string={"url": f"{SHOP}/a"}, headers={"Origin": SHOP})
    assert read.json["config"]["default_theme"] == "dark"
    assert client.delete(f"{API}/shop", headers=auth).status_code == 204
    assert client.get(f"{API}/shop", headers=auth).status_code == 404
    with app.app_context():
        audit = db.session.execute(select(AuditEntry.action, AuditEntry.target)).all()
    assert audit == [("site-add", "site shop"), ("site-set", "site shop"), ("site-remove", "site shop")]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("post", API, {"name": "shop"}, 400, "validation_error"),  # no origins
    ("post", API, {"name": "shop", "origins": "https://shop.example"}, 400, "validation_error"),
    ("post", API, {"name": "shop", "origins": [SHOP], "settings": {"pow": "maybe"}}, 400, "validation_error"),
    ("post", API, {"name": "shop", "origins": [SHOP], "settings": ["pow"]}, 400, "validation_error"),
    ("post", API, {"origins": [SHOP]}, 400, "validation_error"),
    ("post", API, {"name": "default", "origins": [SHOP]}, 409, "site_exists"),
    ("patch", f"{API}/nowhere", {"settings": {"pow": "off"}}, 404, "not_found"),
    ("patch", f"{API}/default", {"settings": {"secret_key": "x"}}, 400, "validation_error"),
    ("delete", f"{API}/default", None, 409, "default_site"),
])
def test_bad_requests_are_refused_and_change_nothing(client, admin_token, app, method, path, body, status,
                                                     code):
    with app.app_context():
        before = db.session.execute(select(Site.name, Site.settings)).all()
    kwargs = {"json": body} if body is not None else {}
    answer = getattr(client, method)(path, headers=bearer(admin_token), **kwargs)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.json
    with app.app_context():
        assert db.session.execute(select(Site.name, Site.settings)).all() == before


def test_a_site_with_threads_is_not_removed_over_the_api(client, admin_token, app):
    with app.app_context():
        factories.site("shop", pow="off")
    assert client.post("/api/v1/comments", json={"url": f"{SHOP}/a", "text": "Hi", "altcha": None}
                       ).status_code == 201
    refused = client.delete(f"{API}/shop", headers=bearer(admin_token))
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "site_has_threads")


def test_a_sites_token_sees_its_own_site_only_and_no_token_401(client, app):
    """Roles in full: tests/moderation/test_access.py and test_isolation.py."""
    with app.app_context():
        site = factories.site("shop")
        factories.site("other", ("https://other.example",))
        db.session.add(AdminToken(name="shop-owner", token_hash=token_hash("shop-owner-token"),
                                  site_id=site.id, role="owner"))
        db.session.commit()
    owner = bearer("shop-owner-token")
    assert [s["name"] for s in client.get(API, headers=owner).json["sites"]] == ["shop"]
    assert client.get(f"{API}/shop", headers=owner).json["name"] == "shop"
    for method, path, status in (("get", f"{API}/other", 404), ("delete", f"{API}/other", 404),
                                 ("delete", f"{API}/shop", 403)):
        answer = getattr(client, method)(path, headers=owner)
        assert answer.status_code == status, (method, path, answer.json)
        assert "other" not in json.dumps(answer.json)
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/shop").status_code == 401
