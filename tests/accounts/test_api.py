"""Reader accounts through the API: sign-up, confirmation, sessions, reset, the account itself,
and posting as whom (issue 7)."""
from __future__ import annotations

import json

import pytest
from support import accounts as account_support
from support.accounts import PASSWORD, account_config, count, link_path, link_with, send_outbox, text_of
from support.app import PAGE
from support.sql import statements

from widget_server import names
from widget_server.accounts import identity
from widget_server.accounts import service as accounts_service
from widget_server.models import AccountSession, Comment, EmailToken, User

smtp_server = account_support.smtp_server  # fixtures shared by the account, mail and webhook tests
make_reader = account_support.make_reader


@pytest.fixture
def config_overrides(request, smtp_server):
    return account_config(smtp_server.url, **getattr(request, "param", {}))


def signup(client, email="mary@example.org", name="Mary Smith", password=None, **more):
    body = {"email": email, "display_name": name, **more} | ({"password": password} if password else {})
    return client.post("/api/v1/auth/signup", json=body)


CHOSEN = {"password": PASSWORD, "password_again": PASSWORD}  # the confirmation page's form


def thread(client):
    return client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"]


# --- sign-up and confirmation ----------------------------------------------------------------


def test_sign_up_confirm_sign_in(client, app, smtp_server):
    response = signup(client)
    assert response.status_code == 202
    assert response.json["status"] == "confirmation_sent"
    assert count(app, User) == 0  # nothing exists before the address is proven
    assert smtp_server.messages == []  # nothing is sent on the request path
    assert send_outbox(app) == 1
    (message,) = smtp_server.to("mary@example.org")
    assert message["Subject"] == "Confirm your comments account"
    url = link_with(message, "/account/confirm?token=")
    assert url.startswith("https://comments.example/account/confirm?token=")

    page = client.get(link_path(url))  # the link opens a page; only its button changes anything
    assert page.status_code == 200 and b"<form method=\"post\">" in page.data
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert count(app, User) == 0

    done = client.post(link_path(url), data=CHOSEN)
    assert done.status_code == 200 and b"Your account is ready" in done.data
    assert b"Back to the page" not in done.data  # the sign-up did not say where from
    assert count(app, User) == 1

    login = client.post("/api/v1/auth/login", json={"email": "Mary@Example.org", "password": PASSWORD})
    assert login.status_code == 200
    body = login.json
    assert set(body) == {"token", "token_expires_at", "refresh_token", "refresh_expires_at", "user"}
    assert body["user"]["display_name"] == "Mary Smith"
    assert "mary@example.org" not in login.get_data(as_text=True)  # no answer carries an address
    me = client.get("/api/v1/account", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["user"]["display_name"] == "Mary Smith"


def test_the_account_ready_page_links_back_to_the_page_of_the_sign_up(client, app, smtp_server):
    came_from = PAGE + "?p=2&utm_source=mail#comments"
    assert signup(client, return_url=came_from).status_code == 202
    send_outbox(app)
    url = link_with(smtp_server.to("mary@example.org")[0], "/account/confirm")
    done = client.post(link_path(url), data=CHOSEN)
    assert done.status_code == 200
    assert f'<a href="{PAGE}?p=2">Back to the page</a>'.encode() in done.data  # normalized, like page URLs
    assert count(app, EmailToken, EmailToken.payload != "{}") == 0  # used: nothing of it is kept


@pytest.mark.parametrize("return_url", ["https://evil.example/phish", "javascript:alert(1)", "/relative",
                                        42, "https://" + "a" * 2050 + ".example/"])
def test_a_return_url_off_the_allowed_sites_is_refused(client, app, return_url):
    response = signup(client, return_url=return_url)
    assert response.status_code == 400
    assert set(response.json["error"]["fields"]) == {"return_url"}
    assert count(app, EmailToken) == 0


def test_confirmation_link_is_single_use(client, app, smtp_server):
    signup(client)
    send_outbox(app)
    url = link_with(smtp_server.messages[0], "/account/confirm")
    token = url.split("token=")[1]
    short = client.post("/api/v1/auth/confirm", json={"token": token, "password": "short"})
    assert short.status_code == 400 and set(short.json["error"]["fields"]) == {"password"}
    assert client.post("/api/v1/auth/confirm", json={"token": token, "password": PASSWORD}).status_code == 201
    again = client.post("/api/v1/auth/confirm", json={"token": token, "password": PASSWORD})
    assert again.status_code == 400 and "token" in again.json["error"]["fields"]
    assert client.post(link_path(url), data=CHOSEN).status_code == 400
    assert count(app, User) == 1


def test_confirmation_link_expires(client, app, smtp_server, frozen_clock):
    signup(client)
    send_outbox(app)
    url = link_with(smtp_server.messages[0], "/account/confirm")
    frozen_clock.advance(seconds=app.config["CONFIRM_LINK_LIFETIME"] + 1)
    response = client.post(link_path(url), data=CHOSEN)
    assert response.status_code == 400 and b"expired" in response.data
    assert count(app, User) == 0


def test_sign_up_with_a_registered_address_answers_the_same(client, app, smtp_server, make_reader):
    make_reader(signed_in=False)
    first = signup(client, name="Someone Else")
    fresh = signup(client, email="new@example.org", name="New Reader")
    assert first.status_code == fresh.status_code == 202
    assert first.json == fresh.json
    send_outbox(app)
    notice = smtp_server.to("mary@example.org")[-1]
    assert "already has one" in text_of(notice)
    assert "/account/confirm" not in text_of(notice)
    assert count(app, User) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not an address", "display_name": "A"}, "email"),
    ({"email": "a@example.org", "display_name": ""}, "display_name"),
    ({"email": "a@example.org", "display_name": "<b>x</b>"}, "display_name"),
    ({"email": "a@example.org", "display_name": "\u200b\u200d"}, "display_name"),
])
def test_sign_up_validation(client, body, field):
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("password", ["short", 12345678, None])
def test_the_chosen_password_is_checked(client, app, smtp_server, password):
    signup(client)
    send_outbox(app)
    token = link_with(smtp_server.messages[0], "/account/confirm").split("token=")[1]
    response = client.post("/api/v1/auth/confirm", json={"token": token, "password": password})
    assert response.status_code == 400 and set(response.json["error"]["fields"]) == {"password"}
    assert count(app, User) == 0


def test_display_names_are_unique_whatever_their_case_and_spacing(client, make_reader):
    make_reader()
    response = signup(client, email="other@example.org", name="  mary   SMITH ")
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"display_name": "is already taken"}


def test_state_changing_calls_need_json(client):
    response = client.post("/api/v1/auth/login", data="email=a&password=b",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


# --- sign-in and sessions --------------------------------------------------------------------


def test_wrong_password_and_unknown_address_look_the_same(client, app, make_reader, monkeypatch):
    make_reader(signed_in=False)
    calls = []
    real = identity.verify_password
    monkeypatch.setattr(accounts_service, "verify_password",
                        lambda stored, pw: calls.append(stored) or real(stored, pw))
    wrong = client.post("/api/v1/auth/login",
                        json={"email": "mary@example.org", "password": "wrong password"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    # Both paths verified a password hash (a dummy one for the unknown address): similar timing.
    assert len(calls) == 2 and calls[1] is None


def test_session_expires_and_is_renewed_with_the_refresh_token(client, app, make_reader, frozen_clock):
    reader = make_reader()
    frozen_clock.advance(seconds=app.config["SESSION_LIFETIME"] + 1)
    assert client.get("/api/v1/account", headers=reader.auth).status_code == 401

    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": reader.refresh_token})
    assert renewed.status_code == 200
    assert renewed.json["token"] != reader.token
    headers = {"Authorization": f"Bearer {renewed.json['token']}"}
    assert client.get("/api/v1/account", headers=headers).status_code == 200
    # A refresh token works once: it was rotated.
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": reader.refresh_token})
    assert reused.status_code == 401

    frozen_clock.advance(seconds=app.config["REFRESH_LIFETIME"] + 1)
    stale = client.post("/api/v1/auth/refresh", json={"refresh_token": renewed.json["refresh_token"]})
    assert stale.status_code == 401


def test_sign_out_revokes_the_session(client, app, make_reader):
    reader = make_reader()
    assert client.post("/api/v1/auth/logout", headers=reader.auth).status_code == 204
    assert client.get("/api/v1/account", headers=reader.auth).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": reader.refresh_token})
    assert refreshed.status_code == 401
    with app.app_context():
        from widget_server.extensions import db

        (session,) = db.session.query(AccountSession).all()
        assert session.revoked_at is not None
        assert reader.token not in (session.token_hash, session.refresh_hash)  # stored only as hashes


def test_missing_or_garbage_token_is_401(client):
    assert client.get("/api/v1/account").status_code == 401
    response = client.get("/api/v1/account", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "invalid_token" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("config_overrides", [{"ACCOUNTS": False}], indirect=True)
def test_accounts_switched_off(client, post):
    login = client.post("/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD})
    assert login.status_code == 404
    # A bearer token is ignored on posts then; the post is an ordinary anonymous one.
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi"},
                           headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 201
    config = client.get("/api/v1/comments", query_string={"url": PAGE}).json["config"]
    assert config["accounts"] is False


def test_accounts_auto_follows_the_smtp_setting(app):
    with app.test_request_context():
        app.config["ACCOUNTS"] = "auto"
        assert identity.enabled()
        app.config["SMTP_URL"] = None
        assert not identity.enabled()


# --- forgotten passwords ---------------------------------------------------------------------


def test_password_reset_by_mail(client, app, smtp_server, make_reader):
    reader = make_reader()
    known = client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"})
    unknown = client.post("/api/v1/auth/forgot", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    send_outbox(app)
    assert smtp_server.to("nobody@example.org") == []
    message = smtp_server.to("mary@example.org")[-1]
    url = link_with(message, "/account/reset?token=")

    page = client.get(link_path(url))
    assert page.status_code == 200 and b'type="password"' in page.data
    mismatch = client.post(link_path(url), data={"password": "new password 1", "password_again": "other one"})
    assert mismatch.status_code == 400
    done = client.post(link_path(url),
                       data={"password": "new password 1", "password_again": "new password 1"})
    assert done.status_code == 200 and b"Password changed" in done.data

    assert client.get("/api/v1/account", headers=reader.auth).status_code == 401  # signed out everywhere
    old = client.post("/api/v1/auth/login", json={"email": reader.email, "password": PASSWORD})
    assert old.status_code == 401
    reader.sign_in("new password 1")
    token = url.split("token=")[1]
    again = client.post("/api/v1/auth/reset", json={"token": token, "password": "third password"})
    assert again.status_code == 400  # single use


def test_reset_link_expires(client, app, smtp_server, make_reader, frozen_clock):
    make_reader(signed_in=False)
    client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"})
    send_outbox(app)
    token = link_with(smtp_server.messages[-1], "/account/reset").split("token=")[1]
    frozen_clock.advance(seconds=app.config["RESET_LINK_LIFETIME"] + 1)
    response = client.post("/api/v1/auth/reset", json={"token": token, "password": "new password 1"})
    assert response.status_code == 400
    assert response.json["error"]["fields"]["token"].startswith("is invalid")


def test_reset_mails_are_throttled_per_account(client, app, make_reader):
    make_reader(signed_in=False)
    for _ in range(3):
        assert client.post("/api/v1/auth/forgot", json={"email": "mary@example.org"}).status_code == 202
    assert count(app, EmailToken, EmailToken.purpose == "reset") == 1


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True}], indirect=True)
@pytest.mark.parametrize(("path", "setting"), [("/api/v1/auth/login", "RATELIMIT_LOGIN"),
                                               ("/api/v1/auth/forgot", "RATELIMIT_RESET"),
                                               ("/api/v1/auth/signup", "RATELIMIT_SIGNUP")])
def test_auth_endpoints_are_rate_limited(app, client, path, setting):
    app.config[setting] = "2 per minute"
    body = {"email": "nobody@example.org", "password": "whatever pw", "display_name": "X"}
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert statuses[2] == 429
    response = client.post(path, json=body)
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


ACCOUNT_LIMIT = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "100 per minute",
                 "RATELIMIT_LOGIN_ACCOUNT": "3 per hour"}


def login_from(client, address, email, password):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("config_overrides", [ACCOUNT_LIMIT], indirect=True)
def test_failed_sign_ins_are_limited_per_account_whatever_the_client(client, make_reader):
    make_reader(signed_in=False)
    make_reader("bob@example.org", "Bob", signed_in=False)
    spellings = ("mary@example.org", "Mary@Example.org", " MARY@example.ORG ")
    guesses = [login_from(client, f"10.0.{n}.1", spellings[n], "a guess").status_code for n in range(3)]
    assert guesses == [401, 401, 401]
    # A fourth client, even with the right password: the account's budget is spent.
    limited = login_from(client, "10.0.9.1", "mary@example.org", PASSWORD)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    # Other accounts, from the same clients, are not affected.
    assert login_from(client, "10.0.0.1", "bob@example.org", PASSWORD).status_code == 200


@pytest.mark.parametrize("config_overrides", [ACCOUNT_LIMIT], indirect=True)
def test_the_account_limit_does_not_tell_whether_an_account_exists(client, make_reader):
    make_reader(signed_in=False)
    answers = {}
    for email in ("mary@example.org", "nobody@example.org"):
        statuses = [login_from(client, f"10.1.{n}.1", email, "a guess").status_code for n in range(4)]
        limited = login_from(client, "10.1.9.1", email, "a guess")
        answers[email] = (statuses, limited.status_code, limited.json["error"]["code"],
                          limited.json["error"]["message"].split(";")[0], "Retry-After" in limited.headers)
    assert answers["mary@example.org"] == answers["nobody@example.org"]
    assert answers["nobody@example.org"][:2] == ([401, 401, 401, 429], 429)


@pytest.mark.parametrize("config_overrides", [ACCOUNT_LIMIT], indirect=True)
def test_successful_sign_ins_do_not_spend_the_account_budget(client, make_reader):
    reader = make_reader(signed_in=False)
    for _ in range(5):
        reader.sign_in()
    assert login_from(client, "10.2.0.1", reader.email, "a guess").status_code == 401


# --- the account: name, password, data, deletion ---------------------------------------------


def test_change_display_name_renames_own_comments(client, app, make_reader, post):
    reader = make_reader()
    client.post("/api/v1/comments", json={"url": PAGE, "text": "mine"}, headers=reader.auth)
    post("someone else's", author="Bob")
    response = client.patch("/api/v1/account", json={"display_name": "Mary S."}, headers=reader.auth)
    assert response.status_code == 200 and response.json["user"]["display_name"] == "Mary S."
    names = [c["author"]["name"] for c in thread(client)]
    assert names == ["Mary S.", "Bob"]


def test_change_password_needs_the_current_one_and_ends_other_sessions(client, app, make_reader):
    reader = make_reader()
    other_session = reader.sign_in()["token"]
    reader.sign_in()
    wrong = client.patch("/api/v1/account", json={"password": "new password 1", "current_password": "nope"},
                         headers=reader.auth)
    assert wrong.status_code == 400 and wrong.json["error"]["fields"] == {"current_password": "is wrong"}
    ok = client.patch("/api/v1/account", json={"password": "new password 1", "current_password": PASSWORD},
                      headers=reader.auth)
    assert ok.status_code == 200
    assert client.get("/api/v1/account", headers=reader.auth).status_code == 200
    other = client.get("/api/v1/account", headers={"Authorization": f"Bearer {other_session}"})
    assert other.status_code == 401
    reader.sign_in("new password 1")


def test_download_my_data(client, make_reader):
    reader = make_reader()
    client.post("/api/v1/comments", json={"url": PAGE, "text": "my words", "notify": True},
                headers=reader.auth)
    response = client.get("/api/v1/account/data", headers=reader.auth)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.data)
    assert data["account"]["email"] == "mary@example.org"
    assert [c["text"] for c in data["comments"]] == ["my words"]
    assert data["comments"][0]["url"] == PAGE
    assert len(data["reply_notifications"]) == 1 and data["sessions"]
    assert "hash" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("mode", "expected"), [("anonymize", ("published", "")), ("remove", None)])
def test_delete_account(client, app, make_reader, mode, expected):
    reader = make_reader()
    client.post("/api/v1/comments", json={"url": PAGE, "text": "mine", "website": "https://mary.example/"},
                headers=reader.auth)
    wrong = client.post("/api/v1/account/delete", json={"password": "nope", "comments": mode},
                        headers=reader.auth)
    assert wrong.status_code == 400
    bad_mode = client.post("/api/v1/account/delete", json={"password": PASSWORD, "comments": "keep"},
                           headers=reader.auth)
    assert bad_mode.status_code == 400
    response = client.post("/api/v1/account/delete", json={"password": PASSWORD, "comments": mode},
                           headers=reader.auth)
    assert response.status_code == 204
    assert count(app, User) == 0 and count(app, AccountSession) == 0
    assert client.get("/api/v1/account", headers=reader.auth).status_code == 401
    shown = thread(client)
    if expected is None:
        assert shown == []
    else:
        (comment,) = shown
        assert (comment["state"], comment["author"]["name"]) == expected
        assert comment["author"]["website"] is None and "verified" not in comment["author"]
    assert count(app, Comment, Comment.user_id.isnot(None)) == 0
    # The name is free again.
    assert signup(client, email="other@example.org", name="Mary Smith").status_code == 202


# --- posting as whom -------------------------------------------------------------------------


def test_signed_in_post_is_under_the_account_and_verified(client, make_reader):
    reader = make_reader()
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "author": "Fake Name"},
                           headers=reader.auth)
    assert response.status_code == 201
    author = response.json["comment"]["author"]
    assert author["name"] == "Mary Smith" and author["verified"] is True
    assert thread(client)[0]["author"]["verified"] is True


def test_signed_in_reader_may_post_anonymously(client, app, make_reader):
    reader = make_reader()
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "anonymous": True},
                           headers=reader.auth)
    assert response.status_code == 201
    author = response.json["comment"]["author"]
    assert author["name"] == "" and "verified" not in author
    assert count(app, Comment, Comment.user_id.isnot(None)) == 0  # not linked to the account at all


@pytest.mark.parametrize("name", ["Mary Smith", "mary smith", "  MARY   SMITH ", "MarySmith",
                                  "Mary\u200bSmith",
                                  "\uff2d\uff41\uff52\uff59 Smith", "Mary\u00a0Smith"])
def test_anonymous_posters_cannot_take_a_registered_name(client, make_reader, name):
    make_reader(signed_in=False)
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "author": name})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"author": "is a registered name"}


def test_unregistered_names_are_fine(client, make_reader, post):
    make_reader(signed_in=False)
    assert "verified" not in post("hi", author="Mary Smithson")["comment"]["author"]


@pytest.mark.parametrize("config_overrides", [{"ANONYMOUS_POSTING": False}], indirect=True)
def test_anonymous_posting_switched_off(client, make_reader):
    anonymous = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "author": "Bob"})
    assert anonymous.status_code == 403 and anonymous.json["error"]["code"] == "forbidden"
    reader = make_reader()
    signed = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi"}, headers=reader.auth)
    assert signed.status_code == 201
    masked = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "anonymous": True},
                         headers=reader.auth)
    assert masked.status_code == 403
    config = client.get("/api/v1/comments", query_string={"url": PAGE}).json["config"]
    assert config["anonymous_posting"] is False


def test_a_stale_token_on_a_post_is_401_not_an_anonymous_post(client, app, make_reader, frozen_clock):
    reader = make_reader()
    frozen_clock.advance(seconds=app.config["SESSION_LIFETIME"] + 1)
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi"}, headers=reader.auth)
    assert response.status_code == 401
    assert count(app, Comment) == 0


@pytest.mark.parametrize("flag", ["anonymous", "notify"])
def test_flags_must_be_booleans(client, flag):
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", flag: "yes"})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {flag: "must be true or false"}


def test_name_key_folds_lookalikes():
    assert names.name_key(" Mary\u2060 \uff33mith\u200e ") == names.name_key("marysmith")
    assert names.name_key("Stra\u00dfe") == names.name_key("STRASSE")
    assert names.name_key("Marie") != names.name_key("Mary")


# --- audit finding 6: the password is chosen after the proof ----------------------------------


def test_the_password_is_chosen_by_whoever_proves_the_address(client, app, smtp_server):
    # A stranger signs up with Mary's address and a password of their own choosing.
    stranger = signup(client, password="the stranger's password")
    assert stranger.status_code == 202
    send_outbox(app)
    url = link_with(smtp_server.to("mary@example.org")[0], "/account/confirm")
    page = client.get(link_path(url))
    assert b'type="password"' in page.data  # the link's page asks Mary for a password
    assert client.post(link_path(url)).status_code == 400  # none given: nothing is created
    assert count(app, User) == 0
    done = client.post(link_path(url), data={"password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 200 and b"Your account is ready" in done.data
    login = client.post("/api/v1/auth/login",
                        json={"email": "mary@example.org", "password": "the stranger's password"})
    assert login.status_code == 401
    assert client.post("/api/v1/auth/login",
                       json={"email": "mary@example.org", "password": PASSWORD}).status_code == 200


def test_sign_up_needs_no_password(client, app):
    assert client.post("/api/v1/auth/signup",
                       json={"email": "mary@example.org", "display_name": "Mary Smith"}).status_code == 202
    with app.app_context():
        from widget_server.extensions import db

        (row,) = db.session.query(EmailToken).all()
        assert "password" not in row.payload  # nothing of a password is kept before the proof
        db.session.remove()


def test_a_reset_link_dies_when_the_password_changes(client, app, smtp_server, make_reader):
    reader = make_reader()
    client.post("/api/v1/auth/forgot", json={"email": reader.email})
    send_outbox(app)
    token = link_with(smtp_server.to(reader.email)[-1], "/account/reset").split("token=")[1]
    changed = client.patch("/api/v1/account", headers=reader.auth,
                           json={"password": "new password 1", "current_password": PASSWORD})
    assert changed.status_code == 200
    late = client.post("/api/v1/auth/reset", json={"token": token, "password": "someone else's choice"})
    assert late.status_code == 400 and "token" in late.json["error"]["fields"]
    reader.sign_in("new password 1")


def _statements(app, client, address: str) -> list[str]:
    with statements(app) as seen:
        assert client.post("/api/v1/auth/forgot", json={"email": address}).status_code == 202
    return seen


def test_forgot_does_the_same_work_for_known_and_unknown_addresses(client, app, smtp_server, make_reader):
    make_reader(signed_in=False)
    known = _statements(app, client, "mary@example.org")
    unknown = _statements(app, client, "nobody@example.org")
    assert known == unknown and any(s.startswith("INSERT") for s in known)
    # Within the per-address throttle too.
    assert _statements(app, client, "mary@example.org") == _statements(app, client, "nobody@example.org")
    send_outbox(app)
    assert len([m for m in smtp_server.to("mary@example.org") if "Reset" in m["Subject"]]) == 1
    assert smtp_server.to("nobody@example.org") == []
    with app.app_context():
        from sqlalchemy import select

        from widget_server.extensions import db
        from widget_server.models import OutboxMessage

        stored = " ".join(db.session.execute(select(OutboxMessage.recipient)).scalars())
        assert "nobody" not in stored  # an unsent mail keeps nothing of an address without an account
        db.session.remove()


def test_forgot_takes_as_long_for_known_and_unknown_addresses(client, app, make_reader, frozen_clock):
    import statistics
    import time

    make_reader(signed_in=False)
    times: dict[str, list[float]] = {"mary@example.org": [], "nobody@example.org": []}
    for _ in range(40):
        frozen_clock.advance(seconds=61)  # past the per-address throttle: every request does the full work
        for address, samples in times.items():
            started = time.perf_counter()
            assert client.post("/api/v1/auth/forgot", json={"email": address}).status_code == 202
            samples.append(time.perf_counter() - started)
    ratio = statistics.median(times["mary@example.org"]) / statistics.median(times["nobody@example.org"])
    assert 0.6 < ratio < 1.67, ratio


# --- audit finding 6: confusable names --------------------------------------------------------

LOOKALIKES = [
    "M\u0430ry Smith",  # CYRILLIC SMALL LETTER A
    "\u041c\u0430r\u0443 Smith",  # Cyrillic M, a and u (looks like y)
    "Mary\u3164Smith",  # HANGUL FILLER
    "\u3164Mary Smith",
    "Mary Smith\u115f",  # HANGUL CHOSEONG FILLER
    "Mary\u1160 Smith",  # HANGUL JUNGSEONG FILLER
    "Mary\uffa0Smith",  # HALFWIDTH HANGUL FILLER
    "Ma\u0301ry Smith",  # a combining acute accent
    "M\u00e0ry Smith\u0308",
    "rnary Smith",  # r n looks like m
    "Mary Srnith",
    "Mary \U0001d412mith",  # MATHEMATICAL BOLD CAPITAL S
]


@pytest.mark.parametrize("name", LOOKALIKES)
def test_anonymous_posters_cannot_take_a_lookalike_of_a_registered_name(client, make_reader, name):
    make_reader(signed_in=False)
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "author": name})
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"author": "is a registered name"}


@pytest.mark.parametrize("name", LOOKALIKES)
def test_new_accounts_cannot_take_a_lookalike_of_a_registered_name(client, make_reader, name):
    make_reader(signed_in=False)
    response = signup(client, email="other@example.org", name=name)
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"display_name": "is already taken"}


@pytest.mark.parametrize("name", ["\u3164", "\u115f\u1160", "\u200b \u3164", "\u0301"])
def test_names_need_something_visible(client, name):
    post = client.post("/api/v1/comments", json={"url": PAGE, "text": "hi", "author": name})
    assert post.status_code == 400 and set(post.json["error"]["fields"]) == {"author"}
    account = signup(client, name=name)
    assert account.status_code == 400 and set(account.json["error"]["fields"]) == {"display_name"}


def test_an_accounts_avatar_is_its_own(client, make_reader):
    reader = make_reader()
    mine = [client.post("/api/v1/comments", json={"url": PAGE, "text": text}, headers=reader.auth).json
            for text in ("one", "two")]
    assert mine[0]["comment"]["author"]["avatar"] == mine[1]["comment"]["author"]["avatar"]
    # A post that merely carries the account's address gets another picture.
    other = client.post("/api/v1/comments", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                        json={"url": PAGE, "text": "three", "author": "M.", "email": reader.email})
    assert other.json["comment"]["author"]["avatar"] != mine[0]["comment"]["author"]["avatar"]


# --- audit finding 8: imported names follow the posting rules ---------------------------------


def test_imported_names_are_cleaned_like_posted_ones(runner, client, app, make_reader, tmp_path):
    from support.imports import run

    make_reader(signed_in=False)  # "Mary Smith" is a registered name
    authors = ["<b>Bob</b>", "\u3164", "Mary Smith", "M\u0430ry Smith", "Eve"]
    comments = [{"id": n + 1, "author": name, "email": "", "website": "", "remote_addr": "192.0.2.1",
                 "created": f"2019-07-01 10:00:0{n}", "text": f"comment {n}"}
                for n, name in enumerate(authors)]
    path = tmp_path / "isso.json"
    path.write_text(json.dumps([{"id": "/2026/11/muscle-spasms", "title": "t", "comments": comments}]))
    result = run(runner, "import", "isso-json", path, "--site", "https://blog.example")
    assert "imported 5 comments" in result.output
    assert "note: 1 x author names cleaned" in result.output
    assert "note: 1 x author names left out: nothing visible in them" in result.output
    assert "note: 2 x author names left out: a registered account's name" in result.output
    shown = [c["author"]["name"] for c in thread(client)]
    assert shown == ["bBob/b", "", "", "", "Eve"]
