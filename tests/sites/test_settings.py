"""A site's settings: each key is checked as its WIDGET_* variable is, with the site's key named."""
from __future__ import annotations

import pytest

from widget_server.sites import settings


@pytest.mark.parametrize(("key", "raw", "value"), [
    ("moderation", "ALL", "all"),
    ("anonymous_posting", "false", False),
    ("anonymous_posting", True, True),  # the API sends JSON values
    ("accounts", "false", "false"),
    ("blocked_words", "buy now, casino", ["buy now", "casino"]),
    ("blocked_words", ["a", "b"], ["a", "b"]),
    ("spam_max_links", 0, 0),
    ("pow", "off", "off"),
    ("pow_cost", "5000", 5000),
    ("report_threshold", "2", 2),
    ("default_lang", "pt-br", "pt-br"),
    ("default_lang", "", ""),
    ("default_theme", "dark", "dark"),
    ("admin_email", "owner@shop.example", "owner@shop.example"),
    ("webhook_urls", "https://hooks.example/in?x=1", ["https://hooks.example/in?x=1"]),
    ("webhook_secret", "s3cret", "s3cret"),
    ("sso_secret", "x" * 32, "x" * 32),
    ("noscript_posts", "off", "off"),
    ("ratelimit_post_site", "10 per minute", "10 per minute"),
])
def test_good_values_parse_as_the_environment_would(key, raw, value):
    assert settings.parse(key, raw) == value


@pytest.mark.parametrize(("key", "raw", "says"), [
    ("moderation", "sometimes", "moderation must be one of off, all, first"),
    ("pow", "maybe", "pow must be one of on, off"),
    ("report_threshold", "0", "report_threshold must be at least 1"),
    ("spam_max_links", "many", "spam_max_links must be a whole number"),
    ("anonymous_posting", "perhaps", "anonymous_posting must be true or false"),
    ("sso_secret", "short", "at least 32 characters"),
    ("admin_email", "not-an-address", "admin_email must be an e-mail address"),
    ("default_lang", "German!", "default_lang must be a language tag"),
    ("default_theme", "pink", "default_theme must be one of"),
    ("webhook_urls", "ftp://hooks.example", "is not an http(s) URL"),
    ("ratelimit_post_site", "lots", "ratelimit_post_site must be rate limits"),
    ("secret_key", "x", "'secret_key' is not a site setting"),
    ("database_url", "sqlite://", "is not a site setting"),
])
def test_bad_values_and_keys_are_refused_naming_the_key(key, raw, says):
    with pytest.raises(settings.SettingError) as raised:
        settings.parse(key, raw)
    assert says in str(raised.value)
    assert f"WIDGET_{key.upper()}" not in str(raised.value)  # the site's key, not the variable


def test_webhook_urls_need_a_secret_on_the_site_or_the_server():
    with pytest.raises(settings.SettingError, match="webhook_urls needs webhook_secret"):
        settings.check_together({"webhook_urls": ["https://hooks.example"]}, {"WEBHOOK_SECRET": None})
    settings.check_together({"webhook_urls": ["https://hooks.example"]}, {"WEBHOOK_SECRET": "server's"})


def test_a_sites_config_reads_its_overrides_over_the_server_live():
    server = {"MODERATION": "off", "POW": "on"}
    config = settings.site_config({"moderation": "all"}, server)
    assert (config["MODERATION"], config["POW"]) == ("all", "on")
    server["POW"] = "off"  # what the site does not override follows the server
    assert config["POW"] == "off"


def test_secrets_are_shown_only_as_set():
    assert settings.shown({"sso_secret": "x" * 32, "webhook_secret": "", "pow": "off"}) == \
        {"sso_secret": "(set)", "webhook_secret": "", "pow": "off"}
