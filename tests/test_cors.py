"""Allowed origins: pages and callers outside them get a 403 the widget can read, and no data."""
from __future__ import annotations

import logging

import pytest
from support.app import PAGE, SITE

from widget_server import config

API = "/api/v1"


def test_allowed_origin_gets_cors_headers(client):
    response = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Origin": SITE})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://blog.example",
                                    "https://blog.example.evil.example"])
def test_unknown_origin_gets_a_403_it_can_read_and_no_data(client, post, origin):
    post("already here")
    for method, kwargs in (("post", {"json": {"url": PAGE, "text": "x"}}),
                           ("get", {"query_string": {"url": PAGE}})):
        response = getattr(client, method)(f"{API}/comments", headers={"Origin": origin}, **kwargs)
        assert response.status_code == 403
        assert response.headers["Access-Control-Allow-Origin"] == origin  # the widget may read why
        assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]
        assert response.json == {"error": {
            "code": "origin_not_allowed", "origin": origin,
            "message": f"this page's origin {origin} is not allowed: add it to WIDGET_ALLOWED_ORIGINS on the "
                       "comment server"}}
        assert "already here" not in response.text and "X-Form-Token" not in response.headers
    thread = client.get(f"{API}/comments", query_string={"url": PAGE}).json
    assert [c["html"] for c in thread["comments"]] == ["<p>already here</p>"]


@pytest.mark.parametrize("origin", ["null", "not an origin", "*"])
def test_an_origin_no_browser_sends_gets_no_cors_headers(client, origin):
    response = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_refused_origin_is_logged_once_per_process(client, caplog):
    caplog.set_level(logging.WARNING, logger="widget_server")
    for origin in ("https://evil.example", "https://evil.example", "https://other.example", "https://evil.example"):
        client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Origin": origin})
    client.get(f"{API}/comments", query_string={"url": "https://other.example/page"})  # a page of that site
    refusals = [r.getMessage() for r in caplog.records if r.name == "widget_server.cors"]
    assert refusals == [
        "refused requests from https://evil.example: it is not in WIDGET_ALLOWED_ORIGINS (add it if it is "
        "your site)",
        "refused requests from https://other.example: it is not in WIDGET_ALLOWED_ORIGINS (add it if it is "
        "your site)"]


def test_page_on_an_unknown_site_is_refused_naming_its_origin(client):
    response = client.post(f"{API}/comments", json={"url": "https://evil.example/x", "text": "x"},
                           headers={"Origin": SITE})
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert response.json["error"]["origin"] == "https://evil.example"
    assert client.get(f"{API}/comments", query_string={"url": "https://evil.example/x"}).status_code == 403


def test_servers_own_origin_is_always_allowed(client):
    own = "http://localhost:8000"  # the default WIDGET_BIND's port; tests/test_hosts.py has the rest
    response = client.post(f"{API}/comments", json={"url": f"{own}/demo", "text": "x"},
                           headers={"Origin": own})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == own


def test_preflight_for_allowed_origin(client):
    response = client.options(f"{API}/comments/1", headers={
        "Origin": SITE, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "content-type, x-edit-token"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "X-Edit-Token" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_from_any_origin_is_answered_so_the_refusal_itself_can_be_read(client):
    """A failed preflight leaves fetch() a bare TypeError; a preflight carries no data, and the
    request it clears is still refused (the test above), now with an answer the widget reads."""
    response = client.options(f"{API}/comments", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "https://evil.example"
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("origins, warning", [
    ([], "WIDGET_ALLOWED_ORIGINS is empty: only pages on this server's own origin can have comments. Set "
         "it to your site's origin before you paste the snippet, e.g. WIDGET_ALLOWED_ORIGINS=https://blog.example"),
    (["https://blog.example", "*"], "WIDGET_ALLOWED_ORIGINS has *: any site may embed these comments and "
                                    "create threads here"),
])
def test_the_server_warns_at_start_about_origins(origins, warning):
    # Said once by the entry points that serve (serve, gunicorn's master): config.warnings.
    assert warning in config.warnings({"ALLOWED_ORIGINS": origins}, {})


def test_no_origin_warning_for_a_listed_site():
    assert not [w for w in config.warnings({"ALLOWED_ORIGINS": [SITE]}, {}) if "ALLOWED_ORIGINS" in w]


@pytest.mark.parametrize("config_overrides", [{"ALLOWED_ORIGINS": ["*"]}], indirect=True)
def test_wildcard_allows_any_site(client):
    response = client.post(f"{API}/comments", json={"url": "https://any.example/p", "text": "x"},
                           headers={"Origin": "https://any.example"})
    assert response.status_code == 201
