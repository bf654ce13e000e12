"""WIDGET_OIDC_PROVIDERS read and checked at start (issue 18): presets fill in what they can, and a
broken entry is one line naming it."""

from __future__ import annotations

import json

import pytest

from widget_server.config import ConfigError, check
from widget_server.providers import GITHUB, MASTODON, OIDC, parse

CLIENT = {"client_id": "id", "client_secret": "secret"}


def test_presets_fill_in_the_issuer_and_the_kind():
    found = {
        p.name: p
        for p in parse(
            json.dumps(
                [
                    {"name": "google", **CLIENT},
                    {"name": "microsoft", **CLIENT},
                    {"name": "gitlab", **CLIENT},
                    {"name": "github", **CLIENT},
                    {"name": "mastodon"},
                    {
                        "name": "corp",
                        "label": "Corp",
                        "issuer": "https://id.corp.example/",
                        "scopes": "openid email",
                        **CLIENT,
                    },
                ]
            )
        )
    }
    assert found["google"].issuer == "https://accounts.google.com" and found["google"].kind == OIDC
    assert found["microsoft"].issuer == "https://login.microsoftonline.com/common/v2.0"
    assert found["gitlab"].issuer == "https://gitlab.com" and found["gitlab"].label == "GitLab"
    assert found["github"].kind == GITHUB and found["github"].api_url == "https://api.github.com"
    assert found["mastodon"].kind == MASTODON and found["mastodon"].client_id == ""
    assert found["corp"].issuer == "https://id.corp.example" and found["corp"].scopes == ("openid", "email")
    assert found["google"].scopes == ("openid", "profile", "email")
    assert "secret" not in repr(found["google"])


BROKEN = {
    "not JSON": ("[{name: google}]", "is not JSON"),
    "not a list": ('{"name": "google"}', "must be a JSON list"),
    "not an object": ('["google"]', "entry 1 is not an object"),
    "no name": (json.dumps([CLIENT]), 'needs a "name"'),
    "sso is taken": (json.dumps([{"name": "sso", **CLIENT}]), 'needs a "name"'),
    "no client": (json.dumps([{"name": "google"}]), 'needs "client_id" and "client_secret"'),
    "no issuer": (json.dumps([{"name": "corp", **CLIENT}]), 'needs an "issuer"'),
    "http issuer": (
        json.dumps([{"name": "corp", "issuer": "http://id.example", **CLIENT}]),
        'needs an "issuer"',
    ),
    "mastodon with a client": (json.dumps([{"name": "mastodon", **CLIENT}]), "needs no client"),
    "a typo": (
        json.dumps([{"name": "google", "client_secert": "x", **CLIENT}]),
        "unknown fields: client_secert",
    ),
    "twice": (json.dumps([{"name": "google", **CLIENT}] * 2), "names 'google' twice"),
    "no openid scope": (json.dumps([{"name": "google", "scopes": ["email"], **CLIENT}]), '"scopes"'),
    "empty label": (json.dumps([{"name": "google", "label": " ", **CLIENT}]), 'empty or non-text "label"'),
}


@pytest.mark.parametrize("raw, message", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_entry_stops_the_server_with_one_line(raw, message):
    with pytest.raises(ConfigError) as stopped:
        check({"OIDC_PROVIDERS": raw})
    assert str(stopped.value).startswith("WIDGET_OIDC_PROVIDERS") and message in str(stopped.value)
    assert "\n" not in str(stopped.value)


def test_http_issuers_pass_only_with_the_test_switch():
    entry = json.dumps([{"name": "corp", "issuer": "http://127.0.0.1:5556", **CLIENT}])
    check({"OIDC_PROVIDERS": entry, "OIDC_ALLOW_PRIVATE": True})
    with pytest.raises(ConfigError):
        check({"OIDC_PROVIDERS": entry})


def test_a_short_sso_secret_stops_the_server():
    with pytest.raises(ConfigError, match="SSO_SECRET must be at least 32"):
        check({"SSO_SECRET": "short"})
    check({"SSO_SECRET": "x" * 32})


def test_providers_or_an_sso_secret_without_accounts_is_a_warning_at_start():
    from widget_server.config import warnings

    said = warnings(
        {"ALLOWED_ORIGINS": ["https://blog.example"], "ACCOUNTS": "false", "SSO_SECRET": "x" * 32}, environ={}
    )
    assert any("reader accounts are off" in line for line in said)
    assert not any(
        "reader accounts are off" in line
        for line in warnings(
            {"ALLOWED_ORIGINS": ["https://blog.example"], "ACCOUNTS": "true", "SSO_SECRET": "x" * 32},
            environ={},
        )
    )
