"""Site roles (moderation/access.py): what global tokens, a site's owners and its moderators may do,
bans on one site or on every site, the site in the audit log, and ``token create --site --role``.

Isolation itself (every admin route tried with another site's ids) is test_isolation.py.
"""
from __future__ import annotations

import json

import pytest
from support.app import PAGE
from support.sites import ADMIN, bearer, build_world, filled

from widget_server.extensions import db
from widget_server.models import AdminToken
from widget_server.ops.cli import main


@pytest.fixture
def world(app, client):
    return build_world(app, client)


@pytest.fixture
def alpha(app, client):
    """Alpha alone (the role table acts on one site's rows)."""
    return build_world(app, client, ("alpha",))


# --- roles ---------------------------------------------------------------------------------------------

# (who, method, path, body, expected status) on alpha's own rows, or on none.
ROLES = [
    ("alpha_moderator", "POST", "/comments/{held}/approve", {}, 200),
    ("alpha_moderator", "POST", "/threads/{thread}/lock", {}, 200),
    ("alpha_moderator", "POST", "/comments/{comment}/pin", {}, 200),
    ("alpha_moderator", "POST", "/bans", {"kind": "email", "comment_id": "{comment}"}, 201),
    ("alpha_moderator", "GET", "/tokens", None, 403),
    ("alpha_moderator", "POST", "/tokens", {"name": "helper"}, 403),
    ("alpha_moderator", "DELETE", "/tokens/{token}", None, 403),
    ("alpha_moderator", "POST", "/bans", {"kind": "email", "value": "x@example.org", "site": None}, 403),
    ("alpha_owner", "GET", "/tokens", None, 200),
    ("alpha_owner", "POST", "/tokens", {"name": "helper"}, 201),
    ("alpha_owner", "POST", "/tokens", {"name": "helper", "role": "moderator", "site": "alpha"}, 201),
    ("alpha_owner", "POST", "/tokens", {"name": "co-owner", "role": "owner"}, 403),
    ("alpha_owner", "DELETE", "/tokens/{token}", None, 204),
    ("alpha_owner", "DELETE", "/tokens/{owner}", None, 403),
    ("alpha_owner", "POST", "/bans", {"kind": "email", "value": "x@example.org", "site": None}, 403),
    ("alpha_owner", "POST", "/bans", {"kind": "email", "value": "x@example.org", "site": "alpha"}, 201),
    ("global", "POST", "/tokens", {"name": "new owner", "site": "alpha", "role": "owner"}, 201),
    ("global", "POST", "/tokens", {"name": "another root"}, 201),
    ("global", "POST", "/tokens", {"name": "odd", "role": "owner"}, 400),
    ("global", "DELETE", "/tokens/{owner}", None, 204),
    ("global", "POST", "/bans", {"kind": "email", "value": "x@example.org", "site": None}, 201),
    # The site's settings: its owner changes them (not its origins); its moderators do not.
    ("alpha_owner", "GET", "/sites/alpha", None, 200),
    ("alpha_owner", "GET", "/sites", None, 200),
    ("alpha_owner", "PATCH", "/sites/alpha", {"settings": {"moderation": "all"}}, 200),
    ("alpha_owner", "PATCH", "/sites/alpha", {"reset": ["moderation"]}, 200),
    ("alpha_owner", "PATCH", "/sites/alpha", {"origins": ["https://else.example"]}, 403),
    ("alpha_owner", "DELETE", "/sites/alpha", None, 403),
    ("alpha_owner", "POST", "/sites", {"name": "gamma", "origins": ["https://gamma.example"]}, 403),
    ("alpha_moderator", "GET", "/sites/alpha", None, 403),
    ("alpha_moderator", "GET", "/sites", None, 403),
    ("alpha_moderator", "PATCH", "/sites/alpha", {"settings": {"moderation": "all"}}, 403),
    ("global", "PATCH", "/sites/alpha", {"settings": {"moderation": "all"}}, 200),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "status"), ROLES,
                         ids=[f"{r[0]} {r[1]} {r[2]} {json.dumps(r[3])} {r[4]}" for r in ROLES])
def test_roles(client, alpha, who, method, path, body, status):
    world = alpha
    ids = {**world["alpha"], "owner": world["alpha_owner_id"]}
    response = client.open(ADMIN + path.format(**ids), method=method, headers=bearer(world[who]),
                           json=filled(body, ids) if body is not None else None)
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 403:
        assert response.json["error"]["code"] == "forbidden"


def test_a_token_made_over_the_api_works_once_shown_and_is_stored_as_a_hash(app, client, alpha):
    world = alpha
    owner = bearer(world["alpha_owner"])
    made = client.post(f"{ADMIN}/tokens", headers=owner, json={"name": "night shift"}).json
    assert made["token"] == {**made["token"], "site": "alpha", "role": "moderator", "revoked": False}
    with app.app_context():
        stored = db.session.get(AdminToken, made["token"]["id"])
        assert made["secret"] not in (stored.token_hash, stored.name)
    me = client.get(f"{ADMIN}/me", headers=bearer(made["secret"])).json
    assert me["token"]["name"] == "night shift" and me["sites"] == ["alpha"]
    listed = client.get(f"{ADMIN}/tokens", headers=owner).json
    assert "secret" not in json.dumps(listed) and {t["site"] for t in listed["tokens"]} == {"alpha"}
    assert client.delete(f"{ADMIN}/tokens/{made['token']['id']}", headers=owner).status_code == 204
    assert client.get(f"{ADMIN}/me", headers=bearer(made["secret"])).status_code == 401


# --- bans: per site and on every site ------------------------------------------------------------------


def _send(client, url, email):
    return client.post("/api/v1/comments", json={"url": url, "text": "hello", "email": email},
                       environ_base={"REMOTE_ADDR": "198.51.100.9"})


def test_a_sites_ban_holds_on_that_site_only_and_a_global_ban_everywhere(client, world):
    alpha_page, beta_page = world["alpha"]["url"], world["beta"]["url"]
    # Each site's fixture ban names an address on that site only.
    assert _send(client, alpha_page, "troll@alpha.example").status_code == 403
    assert _send(client, beta_page, "troll@alpha.example").status_code in (201, 202)
    assert _send(client, PAGE, "troll@alpha.example").status_code in (201, 202)
    ban = client.post(f"{ADMIN}/bans", headers=bearer(world["global"]),
                      json={"kind": "email", "value": "everywhere@example.org"}).json["ban"]
    assert ban["site"] is None
    for url in (alpha_page, beta_page, PAGE):
        assert _send(client, url, "everywhere@example.org").json["error"]["code"] == "banned"
    # A site's token does not see the global ban, and cannot lift it.
    alpha = bearer(world["alpha_owner"])
    assert [b["site"] for b in client.get(f"{ADMIN}/bans", headers=alpha).json["bans"]] == ["alpha"]
    assert client.delete(f"{ADMIN}/bans/{ban['id']}", headers=alpha).status_code == 404
    every = client.get(f"{ADMIN}/bans", headers=bearer(world["global"])).json["bans"]
    assert {b["site"] for b in every} == {"alpha", "beta", None}


def test_a_global_token_bans_on_one_site_when_it_names_it(client, world):
    made = client.post(f"{ADMIN}/bans", headers=bearer(world["global"]),
                       json={"kind": "email", "value": "only-beta@example.org", "site": "beta"}).json["ban"]
    assert made["site"] == "beta"
    assert _send(client, world["beta"]["url"], "only-beta@example.org").status_code == 403
    assert _send(client, world["alpha"]["url"], "only-beta@example.org").status_code in (201, 202)
    listed = client.get(f"{ADMIN}/bans", headers=bearer(world["beta_moderator"])).json["bans"]
    assert made["id"] in [b["id"] for b in listed]


# --- the audit log records the site -------------------------------------------------------------------


def test_the_audit_log_records_the_site(client, world):
    alpha, beta, root = (bearer(world[k]) for k in ("alpha_moderator", "beta_moderator", "global"))
    locked = client.post(f"{ADMIN}/threads/{world['alpha']['thread']}/lock", headers=alpha, json={})
    assert locked.status_code == 200
    entries = client.get(f"{ADMIN}/audit", headers=alpha).json["entries"]
    assert entries[0]["action"] == "lock" and entries[0]["actor"] == "alpha-moderator"
    assert {e["site"] for e in entries} == {"alpha"} and {e["action"] for e in entries} == {"lock", "ban"}
    assert "lock" not in {e["action"] for e in client.get(f"{ADMIN}/audit", headers=beta).json["entries"]}
    everything = client.get(f"{ADMIN}/audit", headers=root).json["entries"]
    assert {e["site"] for e in everything} == {"alpha", "beta"}
    made = client.post(f"{ADMIN}/bans", headers=root, json={"kind": "email", "value": "all@example.org"}).json
    assert client.get(f"{ADMIN}/audit", headers=root).json["entries"][0] == {
        **client.get(f"{ADMIN}/audit", headers=root).json["entries"][0], "action": "ban",
        "target": f"ban {made['ban']['id']}", "site": None}


# --- the command line ------------------------------------------------------------------------------------


def test_token_create_for_a_site_with_a_role(app, client, world):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["token", "create", "--name", "ops", "--site", "beta", "--role", "owner"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    me = client.get(f"{ADMIN}/me", headers=bearer(secret)).json["token"]
    assert (me["site"], me["role"], me["name"]) == ("beta", "owner", "ops")
    assert "beta owner" in runner.invoke(main, ["token", "list"]).output
    for args, message in ((["--site", "nowhere"], "no site called 'nowhere'"),
                          (["--role", "owner"], "--role needs --site")):
        failed = runner.invoke(main, ["token", "create", *args])
        assert failed.exit_code != 0 and message in failed.output
    plain = runner.invoke(main, ["token", "create", "--name", "root2"])
    me = client.get(f"{ADMIN}/me", headers=bearer(plain.output.strip().splitlines()[-1])).json
    assert me["token"]["role"] == "global"
