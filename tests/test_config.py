"""Configuration: WIDGET_* variables, defaults, clear errors, the instance secret."""
from __future__ import annotations

import pytest

from widget_server import config, create_app


def test_defaults_match_api_md():
    settings = config.load({})
    assert settings["DATABASE_URL"] is None and settings["REDIS_URL"] is None
    assert settings["ALLOWED_ORIGINS"] == []
    assert settings["TRUSTED_PROXIES"] == 0
    assert settings["MODERATION"] == "off"
    assert settings["EDIT_WINDOW"] == 900
    assert settings["RATELIMIT_ENABLED"] is True


def test_values_are_parsed():
    settings = config.load({"WIDGET_ALLOWED_ORIGINS": "https://a.example, https://b.example",
                            "WIDGET_TRUSTED_PROXIES": "1", "WIDGET_MODERATION": "ALL",
                            "WIDGET_EDIT_WINDOW": "60", "WIDGET_RATELIMIT_ENABLED": "false"})
    assert settings["ALLOWED_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert settings["TRUSTED_PROXIES"] == 1 and settings["MODERATION"] == "all"
    assert settings["EDIT_WINDOW"] == 60 and settings["RATELIMIT_ENABLED"] is False


@pytest.mark.parametrize("name, value, message", [
    ("WIDGET_TRUSTED_PROXIES", "two", "WIDGET_TRUSTED_PROXIES must be a whole number"),
    ("WIDGET_EDIT_WINDOW", "-5", "WIDGET_EDIT_WINDOW must be at least 0"),
    ("WIDGET_MODERATION", "sometimes", "WIDGET_MODERATION must be one of off, all, first"),
    ("WIDGET_RATELIMIT_ENABLED", "maybe", "WIDGET_RATELIMIT_ENABLED must be true or false"),
])
def test_bad_values_are_clear_errors(name, value, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load({name: value})


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("WIDGET_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": None})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": None})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("WIDGET_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'comments.db'}"


@pytest.mark.parametrize("given, used", [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
])
def test_postgres_urls_use_psycopg3(tmp_path, given, used):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "DATABASE_URL": given})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
