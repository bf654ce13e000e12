"""Isolation between sites, endpoint by endpoint: every admin route (read from the app's url_map,
so a new route without a row in ``ISOLATION`` fails) is tried by alpha's owner with beta's ids:
404 (or, for a list, alpha's rows only), no word of beta in the answer, and nothing in the
database changed. The lists asked for beta by name are 404, as for a site that does not exist.

Nothing here may change anything, so the two sites are built once per database (module scope,
a database of its own that the per-test ``app`` never empties).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.app import PG_URL, base_config, migrate_database, scratch_postgres_database
from support.sites import ADMIN, bearer, build_world, filled

from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import AdminToken, AuditEntry, Ban, Comment, Site, Thread

ADMIN_PREFIX = "/api/v1/admin"


@pytest.fixture(scope="module")
def shared(database_url, tmp_path_factory):
    """(app, world) on a new database of the same kind as ``database_url``."""
    folder = tmp_path_factory.mktemp("isolation")

    def built(url: str):
        migrate_database(url, folder)
        app = create_app(base_config(url, folder))
        return app, build_world(app, app.test_client())

    if database_url.startswith("sqlite"):
        app, world = built(f"sqlite:///{folder / 'isolation.db'}")
        yield app, world
    else:
        with scratch_postgres_database(PG_URL) as url:
            app, world = built(url)
            yield app, world
            with app.app_context():
                db.engine.dispose()  # before the database is dropped
    app.extensions["widget_feed"].stop()


def snapshot(app) -> dict:
    """Everything an admin request could change (but a token's last use, which reading records)."""
    with app.app_context():
        rows = {
            "comments": db.session.execute(select(Comment.id, Comment.state, Comment.pinned, Comment.text,
                                                  Comment.thread_id).order_by(Comment.id)).all(),
            "threads": db.session.execute(select(Thread.id, Thread.locked, Thread.url, Thread.site_id)
                                          .order_by(Thread.id)).all(),
            "bans": db.session.execute(select(Ban.id, Ban.site_id, Ban.value).order_by(Ban.id)).all(),
            "tokens": db.session.execute(select(AdminToken.id, AdminToken.revoked_at, AdminToken.site_id,
                                                AdminToken.role).order_by(AdminToken.id)).all(),
            "audit": db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
            "sites": db.session.execute(select(Site.id, Site.settings, Site.origins, Site.version)
                                        .order_by(Site.id)).all(),
        }
        db.session.remove()
        return rows

# --- every admin route, tried by alpha's owner with beta's ids ---------------------------------------

# (method, rule) -> the request to make: path (with {comment}, {thread}, {ban}, {token} of beta),
# JSON body or None, and what must come back: "404", "403" (a global token's business, naming no
# site), "none affected" (bulk), or "list" (200 with alpha's rows only).
ISOLATION = {
    ("GET", "/api/v1/admin/me"): ("/me", None, "list"),
    ("GET", "/api/v1/admin/comments"): ("/comments", None, "list"),
    ("GET", "/api/v1/admin/comments/<int:comment_id>"): ("/comments/{comment}", None, "404"),
    ("DELETE", "/api/v1/admin/comments/<int:comment_id>"): ("/comments/{comment}", None, "404"),
    ("POST", "/api/v1/admin/comments/<int:comment_id>/approve"): ("/comments/{held}/approve", {}, "404"),
    ("POST", "/api/v1/admin/comments/<int:comment_id>/spam"): ("/comments/{comment}/spam", {}, "404"),
    ("POST", "/api/v1/admin/comments/<int:comment_id>/pin"): ("/comments/{comment}/pin", {}, "404"),
    ("POST", "/api/v1/admin/comments/<int:comment_id>/unpin"): ("/comments/{comment}/unpin", {}, "404"),
    ("POST", "/api/v1/admin/comments/bulk"): (
        "/comments/bulk", {"action": "delete", "ids": ["{comment}", "{held}"]}, "none affected"),
    ("GET", "/api/v1/admin/threads"): ("/threads", None, "list"),
    ("POST", "/api/v1/admin/threads/<int:thread_id>/lock"): ("/threads/{thread}/lock", {}, "404"),
    ("POST", "/api/v1/admin/threads/<int:thread_id>/unlock"): ("/threads/{thread}/unlock", {}, "404"),
    ("GET", "/api/v1/admin/bans"): ("/bans", None, "list"),
    ("POST", "/api/v1/admin/bans"): ("/bans", {"kind": "email", "comment_id": "{comment}"}, "404"),
    ("DELETE", "/api/v1/admin/bans/<int:ban_id>"): ("/bans/{ban}", None, "404"),
    ("GET", "/api/v1/admin/audit"): ("/audit", None, "list"),
    ("GET", "/api/v1/admin/stats"): ("/stats?days=2", None, "list"),
    ("GET", "/api/v1/admin/tokens"): ("/tokens", None, "list"),
    ("POST", "/api/v1/admin/tokens"): ("/tokens", {"name": "intruder", "site": "beta"}, "404"),
    ("DELETE", "/api/v1/admin/tokens/<int:token_id>"): ("/tokens/{token}", None, "404"),
    ("GET", "/api/v1/admin/sites"): ("/sites", None, "list"),
    # Adding a site is for global tokens (no id of another site in it: 403, not 404).
    ("POST", "/api/v1/admin/sites"): ("/sites", {"name": "gamma", "origins": ["https://g.example"]}, "403"),
    ("GET", "/api/v1/admin/sites/<name>"): ("/sites/beta", None, "404"),
    ("PATCH", "/api/v1/admin/sites/<name>"): ("/sites/beta", {"settings": {"moderation": "all"}}, "404"),
    ("DELETE", "/api/v1/admin/sites/<name>"): ("/sites/beta", None, "404"),
}
# The lists again, asking for beta by name (what the site switcher sends): 404, as for a site
# that does not exist.
NAMED = [key for key, (path, _body, expected) in ISOLATION.items()
         if expected == "list" and key[0] == "GET" and path not in ("/me",)]


def test_the_table_covers_every_admin_route(shared):
    app = shared[0]
    served = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(ADMIN_PREFIX)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served, "no admin routes found: the scan is broken"
    assert served == set(ISOLATION), "every admin route needs a row in ISOLATION"


@pytest.mark.parametrize("route", list(ISOLATION), ids=lambda r: f"{r[0]} {r[1].removeprefix(ADMIN_PREFIX)}")
def test_another_sites_ids_are_404_and_change_nothing(shared, route):
    app, world = shared
    client = app.test_client()
    method, _rule = route
    path, body, expected = ISOLATION[route]
    path = path.format(**world["beta"])
    before = snapshot(app)
    response = client.open(ADMIN + path, method=method, headers=bearer(world["alpha_owner"]),
                           json=filled(body, world["beta"]) if body is not None else None)
    text = response.get_data(as_text=True)
    assert "beta" not in text  # no name, page, text, reason or token of the other site
    if expected == "404":
        assert response.status_code == 404, text
        assert response.json["error"]["code"] == "not_found"
    elif expected == "403":
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden", text
    elif expected == "none affected":
        assert response.status_code == 200 and response.json == {"affected": 0}
    else:
        assert response.status_code == 200, text
        # The list is not empty by accident: alpha's own rows are there (stats: its two comments).
        assert "alpha" in text or sum(response.json.get("totals", {}).values()) == 2
    assert snapshot(app) == before


@pytest.mark.parametrize("route", NAMED, ids=lambda r: r[1].removeprefix(ADMIN_PREFIX))
def test_a_list_of_another_site_by_name_is_404(shared, route):
    app, world = shared
    client = app.test_client()
    path = ISOLATION[route][0]
    sep = "&" if "?" in path else "?"
    for name in ("beta", "no-such-site"):
        response = client.get(f"{ADMIN}{path}{sep}site={name}", headers=bearer(world["alpha_owner"]))
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
        assert response.json["error"]["message"] == "no such site"


def test_a_global_token_sees_every_site_or_the_one_it_names(shared):
    app, world = shared
    client = app.test_client()
    root = bearer(world["global"])
    everything = client.get(f"{ADMIN}/comments", headers=root).json["comments"]
    assert {c["site"] for c in everything} == {"alpha", "beta"}
    beta = client.get(f"{ADMIN}/comments", headers=root, query_string={"site": "beta"}).json["comments"]
    assert {c["site"] for c in beta} == {"beta"} and len(beta) == 2
    stats = client.get(f"{ADMIN}/stats", headers=root, query_string={"site": "beta", "days": 1}).json
    assert stats["totals"] == {"published": 1, "pending": 0, "spam": 1, "deleted": 0}
    server = client.get(f"{ADMIN}/stats", headers=root, query_string={"days": 1}).json
    assert sum(server["totals"].values()) == 4
    me = client.get(f"{ADMIN}/me", headers=root).json
    assert me["token"]["role"] == "global" and {"alpha", "beta"} <= set(me["sites"])
    assert client.get(f"{ADMIN}/me", headers=bearer(world["beta_moderator"])).json["sites"] == ["beta"]


