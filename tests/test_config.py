"""Configuration: WIDGET_* variables, defaults, clear errors, the instance secret."""
from __future__ import annotations

import re

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


def test_an_origin_without_a_scheme_is_one_clear_error(tmp_path):
    with pytest.raises(config.ConfigError) as refused:
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "ALLOWED_ORIGINS": ["blog.example"]})
    assert str(refused.value) == ("WIDGET_ALLOWED_ORIGINS: 'blog.example' is not an origin: write each site "
                                  "as scheme://host[:port], e.g. https://blog.example")


@pytest.mark.parametrize("value", ["https://blog.example/blog", "ftp://blog.example", "https://",
                                   "https://blog.example?x=1", "https://me@blog.example", "https://blog.example:x"])
def test_other_values_that_are_no_origin_are_refused(value):
    message = f"WIDGET_ALLOWED_ORIGINS: {value!r} is not an origin"
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.check_origins({"ALLOWED_ORIGINS": [value]})


def test_origins_with_a_port_a_trailing_slash_or_a_star_are_fine():
    config.check_origins({"ALLOWED_ORIGINS": ["https://blog.example/", "http://localhost:4000", "*",
                                              "https://[::1]:8443"]})


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


# --- at rest: the instance folder and the SQLite file are the service user's alone --------------


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_first_start_makes_the_instance_folder_0700_and_the_database_0600(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIDGET_")}
    env["WIDGET_INSTANCE_PATH"] = str(instance)
    # The usual umask, under which SQLite would create its file 0644 and mkdir a folder 0755.
    subprocess.run([str(Path(sys.executable).parent / "widget-server"), "db", "upgrade"], env=env,
                   check=True, capture_output=True, timeout=120, umask=0o022)
    assert _mode(instance) == 0o700
    assert _mode(instance / "comments.db") == 0o600
    assert _mode(instance / "secret_key") == 0o600


def test_the_write_ahead_log_is_0600_too(tmp_path):
    import os

    from support.app import Poster, base_config, migrate_database

    from widget_server.extensions import db

    url = f"sqlite:///{tmp_path / 'comments.db'}"
    old = os.umask(0o022)
    try:
        migrate_database(url, tmp_path)
        app = create_app(base_config(url, tmp_path))
        Poster(app.test_client())("kept while the app runs")
        assert _mode(tmp_path / "comments.db-wal") == 0o600
        assert _mode(tmp_path / "comments.db-shm") == 0o600
        with app.app_context():
            db.engine.dispose()
    finally:
        os.umask(old)


def test_a_looser_existing_instance_is_made_private(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    database = instance / "comments.db"
    database.touch()
    database.chmod(0o644)
    create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "x"})
    assert _mode(instance) == 0o700
    assert _mode(database) == 0o600


def test_a_shared_folder_is_left_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: never ours to close
    create_app({"INSTANCE_PATH": str(shared), "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"})
    assert shared.stat().st_mode & 0o7777 == 0o1777
    assert _mode(tmp_path / "elsewhere.db") == 0o600


# --- every setting checked at start (issue 12, item 2) -------------------------------------------


@pytest.mark.parametrize("name, value, message", [
    ("WIDGET_RATELIMIT_POST", "lots", "WIDGET_RATELIMIT_POST must be rate limits such as"),
    ("WIDGET_RATELIMIT_LOGIN", "5 per fortnight", "WIDGET_RATELIMIT_LOGIN must be rate limits"),
    ("WIDGET_RATELIMIT_LIKE", "", "WIDGET_RATELIMIT_LIKE must be rate limits"),
    ("WIDGET_PAGE_SIZE", "500", "WIDGET_PAGE_SIZE must be at most 200, not 500"),
    ("WIDGET_PAGE_SIZE", "0", "WIDGET_PAGE_SIZE must be at least 1"),
    ("WIDGET_LOG_LEVEL", "chatty", "WIDGET_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("WIDGET_WORKERS", "many", "WIDGET_WORKERS must be a whole number"),
    ("WIDGET_THREADS", "0", "WIDGET_THREADS must be at least 1"),
    ("WIDGET_MAX_REQUESTS", "-1", "WIDGET_MAX_REQUESTS must be at least 0"),
])
def test_every_setting_is_parsed_at_load(name, value, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load({name: value})


def test_good_values_of_the_new_checks_load():
    settings = config.load({"WIDGET_RATELIMIT_POST": "5/minute; 30 per hour", "WIDGET_PAGE_SIZE": "200",
                            "WIDGET_LOG_LEVEL": "debug", "WIDGET_WORKERS": "3"})
    assert settings["RATELIMIT_POST"] == "5/minute; 30 per hour" and settings["PAGE_SIZE"] == 200
    assert settings["LOG_LEVEL"] == "DEBUG" and settings["WORKERS"] == 3


@pytest.mark.parametrize("url, message", [
    ("mysql://u:secret@db.example/comments", "WIDGET_DATABASE_URL: mysql:// needs the Python package "
                                             "mysqlclient"),
    ("postgresql+psycopg2://u:secret@db.example/c", "WIDGET_DATABASE_URL: postgresql\\+psycopg2:// needs "
                                                    "the Python package psycopg2-binary"),
    ("oracle9://u:secret@h/c", "WIDGET_DATABASE_URL: unknown kind of database 'oracle9'"),
    ("not a url", "WIDGET_DATABASE_URL must be a database URL"),
])
def test_a_database_url_without_its_driver_is_one_clear_error(tmp_path, url, message):
    with pytest.raises(config.ConfigError, match=message) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "DATABASE_URL": url})
    assert "secret" not in str(caught.value)


def test_an_instance_folder_that_cannot_be_made_is_one_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(config.ConfigError, match="WIDGET_INSTANCE_PATH: cannot use .*a-file/instance"):
        create_app({"INSTANCE_PATH": str(blocker / "instance"), "SECRET_KEY": "x"})


@pytest.mark.parametrize("environ, expected", [
    ({"WIDGET_ACCOUNTS": "true", "WIDGET_PUBLIC_URL": "https://c.example"},
     ["WIDGET_ACCOUNTS=true without WIDGET_SMTP_URL"]),
    ({"WIDGET_ADMIN_EMAIL": "me@example.com"}, ["WIDGET_ADMIN_EMAIL is set but WIDGET_SMTP_URL is not"]),
    ({"WIDGET_ALLOWED_ORIGIN": "https://blog.example"},
     ["WIDGET_ALLOWED_ORIGIN is not a setting (did you mean WIDGET_ALLOWED_ORIGINS?)"]),
    ({"WIDGET_ACCOUNTS": "auto", "WIDGET_TEST_DATABASE_URL": "postgresql://x"}, []),
])
def test_settings_that_cannot_work_together_are_warned_about(environ, expected):
    environ = {"WIDGET_ALLOWED_ORIGINS": "https://blog.example", **environ}  # the origins have their own test
    found = config.warnings(config.load(environ), environ)
    assert len(found) == len(expected)
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line


def test_the_env_file_fills_what_the_environment_leaves_unset(tmp_path):
    env_file = tmp_path / "widget.env"
    env_file.write_text("# the server's settings\nWIDGET_MODERATION=all\nWIDGET_EDIT_WINDOW=60\n")
    settings = config.load({"WIDGET_ENV_FILE": str(env_file), "WIDGET_EDIT_WINDOW": "120"})
    assert settings["MODERATION"] == "all" and settings["EDIT_WINDOW"] == 120  # the real environment wins


def test_the_env_file_defaults_to_dot_env_in_the_instance_folder(tmp_path):
    (tmp_path / ".env").write_text("WIDGET_MODERATION=first\n")
    assert config.load({"WIDGET_INSTANCE_PATH": str(tmp_path)})["MODERATION"] == "first"
    assert config.load({"WIDGET_INSTANCE_PATH": str(tmp_path), "WIDGET_ENV_FILE": ""})["MODERATION"] == "off"


def test_a_missing_env_file_is_one_clear_error(tmp_path):
    with pytest.raises(config.ConfigError, match="WIDGET_ENV_FILE: cannot read .*nothing.env"):
        config.load({"WIDGET_ENV_FILE": str(tmp_path / "nothing.env")})
