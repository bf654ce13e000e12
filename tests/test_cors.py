"""Allowed origins: pages and callers outside them get 403 and no CORS headers."""
from __future__ import annotations

import pytest
from support.app import PAGE, SITE

API = "/api/v1"


def test_allowed_origin_gets_cors_headers(client):
    response = client.get(f"{API}/comments", query_string={"url": PAGE}, headers={"Origin": SITE})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://blog.example", "null",
                                    "https://blog.example.evil.example"])
def test_unknown_origin_is_refused_without_cors_headers(client, origin):
    response = client.post(f"{API}/comments", json={"url": PAGE, "text": "x"}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert client.get(f"{API}/comments", query_string={"url": PAGE}).json["thread"]["comment_count"] == 0


def test_page_on_an_unknown_site_is_refused(client):
    response = client.post(f"{API}/comments", json={"url": "https://evil.example/x", "text": "x"})
    assert response.status_code == 403
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


def test_preflight_for_unknown_origin_is_refused(client):
    response = client.options(f"{API}/comments", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("config_overrides", [{"ALLOWED_ORIGINS": ["*"]}], indirect=True)
def test_wildcard_allows_any_site(client):
    response = client.post(f"{API}/comments", json={"url": "https://any.example/p", "text": "x"},
                           headers={"Origin": "https://any.example"})
    assert response.status_code == 201
