"""Sign-in through providers (issue 18), over HTTP: a real OpenID provider (oidc-provider on
Node.js), and the stand-in for Mastodon and GitHub. Each attack is refused with nothing changed."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support import accounts as account_support
from support.accounts import PUBLIC_URL, account_config, count
from support.app import PAGE, SITE
from support.oidc_provider import OpenIDProvider, StandIn, path_of, sign_in

from widget_server.models import AccountSession, Identity, ProviderClient, SignInFlow, User

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader
CALLBACK = f"{PUBLIC_URL}/auth/oidc/"


@pytest.fixture(scope="module")
def provider():
    found = OpenIDProvider([f"{PUBLIC_URL}/auth/oidc/test/callback"])
    yield found
    found.stop()


@pytest.fixture(scope="module")
def stand_in():
    found = StandIn().start()
    yield found
    found.stop()


@pytest.fixture
def config_overrides(request, smtp_server, provider, stand_in):
    github = {
        "name": "github",
        "client_id": stand_in.github["client_id"],
        "client_secret": stand_in.github["secret"],
        "authorize_url": f"{stand_in.url}/login/oauth/authorize",
        "token_url": f"{stand_in.url}/login/oauth/access_token",
        "api_url": stand_in.url,
    }
    entries = [provider.entry(), {"name": "mastodon"}, github]
    return account_config(
        smtp_server.url,
        **(
            {"OIDC_PROVIDERS": json.dumps(entries), "OIDC_ALLOW_PRIVATE": True}
            | getattr(request, "param", {})
        ),
    )


def start(client, name="test", origin=SITE, **more):
    return client.get(f"/auth/oidc/{name}/start", query_string={"origin": origin, **more})


def popup_result(response) -> dict:
    """What the popup page posts to its opener: {"origin", "message"}."""
    found = re.search(
        r'<script type="application/json" id="result">(.*?)</script>', response.get_data(as_text=True)
    )
    assert found, response.get_data(as_text=True)
    return json.loads(found[1])


def through_provider(client, login="ann", **more):
    started = start(client, **more)
    assert started.status_code == 302, started.get_data(as_text=True)
    return client.get(path_of(sign_in(started.headers["Location"], login, CALLBACK)))


def through_stand_in(client, name, **more):
    started = start(client, name, **more)
    assert started.status_code == 302, started.get_data(as_text=True)
    back = requests.get(started.headers["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    return client.get(path_of(back.headers["Location"]))


def state_of(app) -> tuple[int, int, int, int]:
    return tuple(count(app, model) for model in (User, Identity, AccountSession, ProviderClient))


def test_a_reader_signs_in_with_the_openid_provider_and_posts_with_where_from(client, app, provider):
    started = start(client)
    assert started.status_code == 302
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert started.headers["Location"].startswith(provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["redirect_uri"] == [f"{CALLBACK}test/callback"]
    assert "Set-Cookie" not in started.headers

    done = client.get(path_of(sign_in(started.headers["Location"], "ann", CALLBACK)))
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Set-Cookie" not in done.headers and done.headers["Cache-Control"] == "no-store"
    assert "script-src 'sha256-" in done.headers["Content-Security-Policy"]
    result = popup_result(done)
    assert result["origin"] == SITE  # exactly the page's origin, never "*"
    assert result["message"]["type"] == "widget-server:session"
    session = result["message"]["session"]
    assert set(session) == {"token", "token_expires_at", "refresh_token", "refresh_expires_at", "user"}
    user = session["user"]
    assert user["display_name"] == "Ann Example" and user["password"] is False
    assert [i["provider"] for i in user["identities"]] == ["test"]

    auth = {"Authorization": f"Bearer {session['token']}"}
    assert client.post("/api/v1/comments", json={"url": PAGE, "text": "Hi"}, headers=auth).status_code == 201
    author = client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"][0]["author"]
    assert author["verified"] is True and author["verified_via"] == "via Test ID, @ann"
    data = client.get("/api/v1/account/data", headers=auth).json
    assert data["identities"][0]["provider"] == "test" and data["identities"][0]["email"] == "ann@example.org"

    again = through_provider(client)  # the same provider account is the same reader account
    assert popup_result(again)["message"]["session"]["user"]["id"] == user["id"]
    assert count(app, User) == 1 and count(app, Identity) == 1


def test_a_replayed_callback_and_a_wrong_state_are_refused_and_change_nothing(client, app):
    started = start(client)
    back = path_of(sign_in(started.headers["Location"], "ann", CALLBACK))
    assert client.get(back).status_code == 200
    before = state_of(app)
    replayed = client.get(back)  # the same state and code, a second time
    assert replayed.status_code == 400 and "already used" in replayed.get_data(as_text=True)
    assert "widget-server:session" not in replayed.get_data(as_text=True)
    code = parse_qs(urlsplit(back).query)["code"][0]
    for query in ({"state": "made-up", "code": code}, {"code": code}, {"state": "", "code": code}):
        wrong = client.get("/auth/oidc/test/callback", query_string=query)
        assert wrong.status_code == 400 and "widget-server:session" not in wrong.get_data(as_text=True)
    assert state_of(app) == before


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://blog.example.evil.example",
        "*",
        "",
        "https://blog.example/",
        "https://BLOG.example",
        "null",
    ],
)
def test_the_result_goes_only_to_an_allowed_origin_written_exactly(client, app, origin):
    refused = start(client, origin=origin)
    assert refused.status_code == 400 and "origin" in refused.get_data(as_text=True)
    assert count(app, SignInFlow) == 0


def test_an_unverified_address_cannot_link_into_an_existing_account(client, app, make_reader):
    make_reader("mary@example.org", "Mary Smith")
    before = state_of(app)
    refused = through_provider(client, "eve")  # the provider does not say mary@ is verified for eve
    assert refused.status_code == 409
    assert "does not say the address is verified" in refused.get_data(as_text=True)
    assert popup_result(refused)["message"]["type"] == "widget-server:error"
    assert state_of(app) == before


def test_a_verified_address_links_into_the_existing_account_only_when_the_reader_says_yes(
    client, app, make_reader
):
    reader = make_reader("mary@example.org", "Mary Smith")
    asked = through_provider(client, "mary")
    assert asked.status_code == 200 and "Link to your account?" in asked.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', asked.get_data(as_text=True))[1]
    no = client.post("/auth/oidc/test/confirm", data={"token": token, "decision": "cancel"})
    assert "Nothing was linked" in no.get_data(as_text=True) and count(app, Identity) == 0

    yes = client.post("/auth/oidc/test/confirm", data={"token": token, "decision": "link"})
    session = popup_result(yes)["message"]["session"]
    mine = client.get("/api/v1/account", headers=reader.auth).json["user"]
    assert session["user"]["id"] == mine["id"] and count(app, User) == 1
    assert [i["provider"] for i in mine["identities"]] == ["test"] and mine["password"] is True
    again = client.post("/auth/oidc/test/confirm", data={"token": token, "decision": "link"})
    assert again.status_code == 400  # a confirmation works once


def test_link_a_second_provider_unlink_one_and_never_the_last(client, app, stand_in):
    session = popup_result(through_provider(client))["message"]["session"]
    auth = {"Authorization": f"Bearer {session['token']}"}
    granted = client.post(
        "/api/v1/account/identities",
        headers=auth,
        json={"provider": "mastodon", "origin": SITE, "instance": stand_in.url},
    )
    assert granted.status_code == 201, granted.json
    linked = through_stand_in(client, "mastodon", **parse_qs(urlsplit(granted.json["url"]).query))
    assert linked.status_code == 200, linked.get_data(as_text=True)
    user = client.get("/api/v1/account", headers=auth).json["user"]
    assert [i["provider"] for i in user["identities"]] == ["test", "mastodon"]
    host = urlsplit(stand_in.url).netloc
    assert user["identities"][1]["handle"] == f"@ann@{host}"
    assert popup_result(linked)["message"]["session"]["user"]["id"] == user["id"]
    assert count(app, ProviderClient) == 1  # registered once with the instance, kept

    first, second = user["identities"]
    gone = client.delete(f"/api/v1/account/identities/{first['id']}", headers=auth)
    assert gone.status_code == 200 and [i["provider"] for i in gone.json["user"]["identities"]] == [
        "mastodon"
    ]
    last = client.delete(f"/api/v1/account/identities/{second['id']}", headers=auth)
    assert last.status_code == 409 and "only way into the account" in last.json["error"]["message"]
    assert count(app, Identity) == 1
    # signed in through Mastodon now, the comment says so
    again = popup_result(through_stand_in(client, "mastodon", instance=stand_in.url))["message"]["session"]
    posted = client.post(
        "/api/v1/comments",
        json={"url": PAGE, "text": "Toot"},
        headers={"Authorization": f"Bearer {again['token']}"},
    )
    assert posted.json["comment"]["author"]["verified_via"] == f"via Mastodon, @ann@{host}"


def test_a_link_grant_works_once_and_only_for_its_provider(client, app, stand_in):
    session = popup_result(through_provider(client))["message"]["session"]
    auth = {"Authorization": f"Bearer {session['token']}"}
    grant = parse_qs(
        urlsplit(
            client.post(
                "/api/v1/account/identities", headers=auth, json={"provider": "github", "origin": SITE}
            ).json["url"]
        ).query
    )["link"][0]
    assert start(client, "test", link=grant).status_code == 400  # another provider's grant
    linked = through_stand_in(client, "github", link=grant)
    assert popup_result(linked)["message"]["session"]["user"]["id"] == session["user"]["id"]
    assert start(client, "github", link=grant).status_code == 400  # used up
    assert count(app, User) == 1 and count(app, Identity) == 2


def test_github_signs_in_through_its_api(client, app):
    done = through_stand_in(client, "github")
    session = popup_result(done)["message"]["session"]
    assert session["user"]["display_name"] == "Ann on GitHub"
    posted = client.post(
        "/api/v1/comments",
        json={"url": PAGE, "text": "Hi"},
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    assert posted.json["comment"]["author"]["verified_via"] == "via GitHub, @ann-gh"


def test_the_providers_listing_and_an_unreachable_provider_is_disabled_not_a_crash(client, app, provider):
    listing = client.get("/api/v1/auth/providers").json
    assert listing["sso"] is False
    assert [(p["name"], p["label"], p["instance"], p["available"]) for p in listing["providers"]] == [
        ("test", "Test ID", False, True),
        ("mastodon", "Mastodon", True, True),
        ("github", "GitHub", False, True),
    ]


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "OIDC_PROVIDERS": json.dumps(
                [{"name": "gone", "issuer": "http://127.0.0.1:9", "client_id": "a", "client_secret": "b"}]
            )
        }
    ],
    indirect=True,
)
def test_a_provider_whose_discovery_fails_is_listed_disabled_and_its_start_says_why(client, app, caplog):
    listing = client.get("/api/v1/auth/providers").json["providers"]
    assert listing == [{"name": "gone", "label": "gone", "instance": False, "available": False}]
    assert any("sign-in provider gone is unavailable" in r.getMessage() for r in caplog.records)
    refused = start(client, "gone")
    assert refused.status_code == 502 and "unavailable" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "config_overrides",
    [{"OIDC_ALLOW_PRIVATE": False, "OIDC_PROVIDERS": json.dumps([{"name": "mastodon"}])}],
    indirect=True,
)
@pytest.mark.parametrize(
    "instance",
    [
        "127.0.0.1",
        "localhost",
        "10.0.0.8",
        "192.168.1.1",
        "[::1]",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address a reader might type, refused
        "100.64.0.1",
        "http://example.social",
        "@ann@127.0.0.1",
        "",
        "exa mple.social",
    ],
)
def test_a_mastodon_instance_on_a_private_address_is_refused_before_any_request(
    client, app, stand_in, instance
):
    seen = len(stand_in.requests)
    refused = start(client, "mastodon", instance=instance)
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert count(app, ProviderClient) == 0 and count(app, SignInFlow) == 0
    assert len(stand_in.requests) == seen


def test_the_stand_in_instance_itself_is_refused_without_the_test_switch(client, app, stand_in):
    """The same instance that signs in above (127.0.0.1) is refused once the switch is off."""
    assert client.get("/api/v1/auth/providers").status_code == 200  # the providers are read by now
    app.config["OIDC_ALLOW_PRIVATE"] = False
    refused = start(client, "mastodon", instance=stand_in.url.removeprefix("http://"))
    assert refused.status_code == 400 and count(app, ProviderClient) == 0


def test_deleting_an_account_of_providers_only_deletes_its_identities(client, app):
    session = popup_result(through_provider(client))["message"]["session"]
    auth = {"Authorization": f"Bearer {session['token']}"}
    # the provider's name is a registered name now: an anonymous poster cannot take it
    taken = client.post("/api/v1/comments", json={"url": PAGE, "text": "Me", "author": "Ann Example"})
    assert taken.status_code == 400 and "author" in taken.json["error"]["fields"]
    assert client.post("/api/v1/account/delete", headers=auth, json={}).status_code == 400  # "comments"
    gone = client.post("/api/v1/account/delete", headers=auth, json={"comments": "remove"})
    assert gone.status_code == 204  # no password to confirm with: the session is the proof
    assert count(app, User) == 0 and count(app, Identity) == 0 and count(app, AccountSession) == 0
    again = popup_result(through_provider(client))["message"]["session"]  # a new account, from scratch
    assert again["user"]["created_at"] >= session["user"]["created_at"]
    assert count(app, User) == 1 and count(app, Identity) == 1


def test_an_expired_flow_is_refused(client, app, frozen_clock):
    started = start(client)
    back = path_of(sign_in(started.headers["Location"], "ann", CALLBACK))
    frozen_clock.advance(minutes=11)
    late = client.get(back)
    assert late.status_code == 400 and "expired" in late.get_data(as_text=True)
    assert count(app, User) == 0


@pytest.mark.parametrize(
    "config_overrides",
    [{"OIDC_ALLOW_PRIVATE": False, "OIDC_PROVIDERS": json.dumps([{"name": "mastodon"}])}],
    indirect=True,
)
def test_a_name_that_turns_private_after_the_check_gets_no_connection(client, app, stand_in, monkeypatch):
    """DNS rebinding: the name looked public when it was checked, but the connection lands on a
    loopback address. Each connection's peer is checked, so nothing reaches it."""
    from widget_server.accounts import remote

    requests.get(stand_in.url + "/reachable", timeout=5)  # the stand-in does answer an unchecked request
    seen = len(stand_in.requests)
    assert stand_in.requests[-1] == "GET /reachable"
    monkeypatch.setattr(remote, "instance_url", lambda raw: stand_in.url)  # "passed" the name check
    refused = start(client, "mastodon", instance="rebinding.example")
    assert refused.status_code == 502, refused.get_data(as_text=True)
    assert len(stand_in.requests) == seen  # no registration reached it
    assert count(app, ProviderClient) == 0 and count(app, SignInFlow) == 0
