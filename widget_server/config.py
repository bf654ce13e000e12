"""The one place that reads the environment.

Every setting is a ``WIDGET_*`` variable with a default; ``load()`` turns the
environment into a plain mapping of Flask config keys, so tests can build the
same mapping from a dict and the app factory never touches ``os.environ``.
"""
from __future__ import annotations

import difflib
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from . import providers
from .config_values import (  # noqa: F401 - ConfigError, parse_bind, parse_public_url, check_database are used from here
    LOG_LEVELS,
    PREFIX,
    ConfigError,
    _bool,
    _bounded,
    _choice,
    _int,
    _list,
    _log_level,
    _networks,
    _rate_limit,
    _reactions,
    _str,
    check_database,
    parse_bind,
    parse_public_url,
    plain_http_url,
)

MODERATION_MODES = ("off", "all", "first")

def _probability(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise ConfigError(f"{PREFIX}{name} must be a number above 0 and at most 1, not {raw!r}")
    return value
DEFAULT_BIND = "127.0.0.1:8000"
METRICS_TOKEN_MIN = 16
SSO_SECRET_MIN = 32  # 256 bits of a random key, written out
PAGE_SIZE_MAX = 200  # the API's largest ?limit= (comments/api.py)


# name -> (default, parser, meaning). The README's configuration table mirrors this.
SETTINGS: dict[str, tuple[str | None, object, str]] = {
    "DATABASE_URL": (None, _str, "SQLAlchemy URL; default: an SQLite file in the instance folder"),
    "REDIS_URL": (None, _str, "Redis for shared rate limits and the change feed between instances; unset: "
                  "in-process memory, and the instances on one machine share changes through the database"),
    "ALLOWED_ORIGINS": ("", _list, "comma-separated site origins whose pages may have threads"),
    "SECRET_KEY": (None, _str, "keys IP hashes and signatures; default: generated into the instance folder"),
    "TRUSTED_PROXIES": ("0", _int, "reverse-proxy hops allowed to set X-Forwarded-For"),
    "MODERATION": ("off", _choice(MODERATION_MODES), "off, all, or first (hold a poster's first comment)"),
    "NOSCRIPT_POSTS": ("held", _choice(("held", "published", "off")),
                       "posts through the /t form (no JavaScript, so no proof of work): held for "
                       "moderation, published like any other (the moderation mode still applies), or off"),
    "DEFAULT_LANG": ("", _str, "the server-rendered thread's language where its link names none "
                     "(e.g. de; the widget follows data-lang, the page's <html lang>, then the browser)"),
    "DEFAULT_THEME": ("", _choice(("", "light", "dark", "auto")),
                      "the widget's theme where the script tag has no data-theme: light, dark or auto; "
                      "empty: light"),
    "EDIT_WINDOW": ("900", _int, "seconds during which an author may edit or delete"),
    "RATELIMIT_ENABLED": ("true", _bool, "false switches every rate limit off"),
    "RATELIMIT_POST": ("5 per minute;30 per hour", _rate_limit,
                       "posting: a burst and an hourly budget per client"),
    "RATELIMIT_POST_SITE": ("120 per minute;3000 per hour", _rate_limit,
                            "posting: every client of one site together (docs/sites.md), so one site's "
                            "flood cannot use up another's capacity"),
    "RATELIMIT_LIKE": ("30 per minute", _rate_limit,
                       "likes and reactions per client (one budget for both, added and taken back)"),
    "REACTIONS": ("👍,❤️,😂,😮,😢,🎉", _reactions,
                  "comma-separated emoji readers may react with, to a page or a comment (at most 8; "
                  "👍 on a comment is its like)"),
    "RATELIMIT_PREVIEW": ("60 per minute", _rate_limit, "previews per client"),
    "RATELIMIT_CHALLENGE": ("30 per minute;300 per hour", _rate_limit,
                            "proof-of-work challenges handed to one client"),
    "RATELIMIT_REPORT": ("5 per minute;20 per hour", _rate_limit, "reports of comments per client"),
    "RATELIMIT_EDIT": ("10 per minute;60 per hour", _rate_limit,
                       "edits and deletions of own comments per client (one budget for both)"),
    "RATELIMIT_ADMIN_AUTH": ("10 per minute", _rate_limit,
                             "failed admin authentications per client, across all admin endpoints"),
    "PAGE_SIZE": ("50", _bounded(1, PAGE_SIZE_MAX),
                  f"top-level comments per page by default (at most {PAGE_SIZE_MAX})"),
    "READ_CACHE_BYTES": ("33554432", _bounded(0),
                         "bytes of serialized thread pages kept per worker (their size is in /metrics)"),
    "TREE_CACHE_BYTES": ("33554432", _bounded(0),
                         "bytes of thread trees (one per thread version) kept per worker (in /metrics)"),
    "MAX_TEXT_LENGTH": ("10000", _bounded(1), "longest comment text, in characters"),
    "SPAM_MIN_SECONDS": ("3", _int, "a post sooner than this after its form token was issued is refused"),
    "FORM_TOKEN_MAX_AGE": ("86400", _bounded(1), "seconds a form token stays valid"),
    "REQUIRE_FORM_TOKEN": ("false", _bool, "true: a post without a form token is refused"),
    "SPAM_MAX_LINKS": ("3", _int, "a comment with more links than this is held for moderation"),
    "SPAM_DUPLICATE_WINDOW": ("600", _int, "seconds in which the same text in one thread is refused"),
    "BLOCKED_WORDS": ("", _list, "comma-separated words or phrases that hold a comment for moderation"),
    "BLOCKED_WORDS_FILE": (None, _str, "a file of blocked words, one per line (# starts a comment)"),
    "AKISMET_KEY": (None, _str, "Akismet API key; unset: no outside spam check, nothing leaves the machine"),
    "AKISMET_URL": ("https://rest.akismet.com", _str, "Akismet API base URL"),
    # Proof of work, reports and trust (docs/moderation.md, issue 14).
    "POW": ("on", _choice(("on", "off")), "on: a post through the JSON API needs a solved ALTCHA "
            "challenge (GET /api/v1/challenge; signed-in readers are exempt); off: none needed"),
    "POW_COST": ("2000000", _bounded(10), "the challenge's maxnumber for a newcomer's first comment "
                 "(the expected work is half of it); trusted posters pay an eighth, bursts and "
                 "recent failures up to 64 times as much"),
    "POW_TTL": ("1800", _bounded(30), "seconds a challenge can be solved and used (once)"),
    "REPORT_THRESHOLD": ("3", _bounded(1), "reports from distinct readers that hold a published comment "
                         "for review"),
    "FILTER": ("on", _choice(("on", "off")), "the learning filter: scores new comments by what the "
               "moderators marked as spam or published"),
    "FILTER_THRESHOLD": ("0.9", _probability, "a new comment the filter scores at least this spam-like is "
                         "held for moderation"),
    "FILTER_MIN_TRAINING": ("10", _bounded(1), "comments of each kind (spam, published) the filter must "
                            "have learned before it scores"),
    "TRUST_MIN_APPROVED": ("3", _bounded(1), "published comments (and no spam) that make a poster "
                           "trusted: least proof of work"),
    # Reader accounts, reply notifications, mail and webhooks (docs/accounts.md).
    "ACCOUNTS": ("auto", _choice(("auto", "true", "false")),
                 "reader accounts: true, false, or auto (on when WIDGET_SMTP_URL is set)"),
    "ANONYMOUS_POSTING": ("true", _bool, "false: only signed-in readers may post (anonymous posts get 403)"),
    "SESSION_LIFETIME": ("3600", _bounded(60), "seconds a sign-in (bearer) token is valid"),
    "REFRESH_LIFETIME": ("2592000", _bounded(60),
                         "seconds a session can be renewed with its refresh token without the password"),
    # Sign-in with providers and the host site's own login (docs/accounts.md, issue 18).
    "OIDC_PROVIDERS": ("", _str, "JSON list of sign-in providers: OpenID Connect issuers and the presets "
                       "google, microsoft, gitlab, github, mastodon (docs/accounts.md); empty: none"),
    "OIDC_ALLOW_PRIVATE": ("false", _bool, "true lets a Mastodon instance or provider be on a private or "
                           "loopback address, over http (tests only: it lets readers aim the server at its "
                           "own network)"),
    "SSO_SECRET": (None, _str, f"HS256 key (at least {SSO_SECRET_MIN} characters) the host site signs its "
                   "readers' sign-in tokens with; unset: no host-site sign-in"),
    "CONFIRM_LINK_LIFETIME": ("86400", _bounded(60),
                              "seconds a sign-up confirmation link works"),
    "RESET_LINK_LIFETIME": ("3600", _bounded(60), "seconds a password reset link works"),
    "RATELIMIT_LOGIN": ("10 per minute;60 per hour", _rate_limit,
                        "sign-in, refresh, account change and deletion requests per client"),
    "RATELIMIT_LOGIN_ACCOUNT": ("10 per hour", _rate_limit,
                                "failed sign-ins per account address, from any client "
                                "(an address without an account is counted alike)"),
    "RATELIMIT_SIGNUP": ("5 per minute;20 per hour", _rate_limit, "sign-ups per client"),
    "RATELIMIT_RESET": ("5 per minute;20 per hour", _rate_limit,
                        "password reset requests and resets per client"),
    "PUBLIC_URL": (None, _str, "the server's public base URL (https://comments.example.com): links in mail, "
                   "feeds and pages start with it and its origin is the server's own; required with mail "
                   "or accounts; unset: the listen address (never the request's Host)"),
    "SMTP_URL": (None, _str,
                 "smtp://user:pass@host:587 (STARTTLS) or smtps://...:465, ?from=addr; unset: no mail"),
    "ADMIN_EMAIL": (None, _str, "address that hears of new and held comments; unset: none"),
    "MAIL_PER_ADDRESS_HOUR": ("10", _int, "most mails queued to one reader's address in an hour "
                              "(more are dropped; not WIDGET_ADMIN_EMAIL); 0: no cap"),
    "MAIL_PER_ADDRESS_DAY": ("30", _int, "most mails queued to one reader's address in a day; 0: no cap"),
    "WEBHOOK_URLS": ("", _list, "comma-separated URLs that get signed comment.* events"),
    "WEBHOOK_SECRET": (None, _str,
                       "HMAC-SHA256 key for webhook signatures (required with WIDGET_WEBHOOK_URLS)"),
    "OUTBOX_THREAD": ("true", _bool, "send mail and webhooks from a thread in each app process; "
                      "false: only `widget-server worker` sends"),
    "INSTANCE_PATH": (None, _str, "folder for the SQLite file and the generated secret key (kept 0700)"),
    # Where the server is (hosts.py): never taken from a request.
    "BIND": (DEFAULT_BIND, _str, "address and port the server listens on (gunicorn; `serve --host/--port` "
             "set it); without WIDGET_PUBLIC_URL its origin and localhost's are the server's own"),
    "ALLOWED_HOSTS": ("", _list, "more Host names the server answers to besides WIDGET_PUBLIC_URL's, "
                      "WIDGET_BIND's and localhost (`.example.com`: every subdomain; `*`: any); "
                      "others get 400"),
    "FORWARDED_ALLOW_IPS": (None, _networks, "gunicorn: proxy addresses or networks whose X-Forwarded-Proto "
                            "it believes; unset: 127.0.0.1 and ::1 when WIDGET_TRUSTED_PROXIES > 0, "
                            "none when it is 0"),
    "METRICS_TOKEN": (None, _str, f"bearer token /metrics requires (at least {METRICS_TOKEN_MIN} "
                      "characters); unset: /metrics is off (404)"),
    "LOG_LEVEL": ("INFO", _log_level, f"logging level: {', '.join(LOG_LEVELS)}"),
    "LOG_FORMAT": ("auto", _choice(("auto", "json", "text")), "log lines on stderr: json (for a log "
                   "collector), text (for a person), or auto: text when stderr is a terminal, else json"),
    # gunicorn (ops/gunicorn_conf.py and `serve`).
    "WORKERS": (None, _bounded(1), "gunicorn worker processes; unset: 1, or with WIDGET_REDIS_URL the "
                "cores (at most 4): without Redis the rate limits live in process memory, one keeps them"),
    "THREADS": ("8", _bounded(1), "threads per gunicorn worker"),
    "WORKER_CLASS": ("gthread", _choice(("gthread", "gevent")), "gunicorn worker class: gthread, or gevent "
                     "for a process that holds many event streams (the compose file's `streams` service)"),
    # Live updates (GET /api/v1/events, docs/live.md).
    "STREAMS_MAX": ("1000", _bounded(0), "open event streams per process (with gthread workers at most "
                    "half of WIDGET_THREADS, so streams never take every thread); past it 503 and the "
                    "widget polls"),
    "STREAMS_PER_CLIENT": ("4", _bounded(1), "open event streams per client address and process"),
    "STREAMS_HEARTBEAT": ("15", _bounded(1), "seconds between heartbeats on an idle event stream"),
    "STREAMS_LIFETIME": ("600", _bounded(0), "seconds an event stream stays open before the client "
                         "reconnects (with Last-Event-ID, missing nothing); 0: sends what was missed, ends"),
    "MAX_REQUESTS": ("200000", _bounded(0), "requests before a worker is recycled (with jitter); 0: never"),
    "ENV_FILE": (None, _str, "a file of WIDGET_* settings (KEY=value lines) that the server and every "
                 "command read; the real environment wins; unset: .env in the instance folder, if any"),
}


def instance_folder(configured: object) -> Path:
    """WIDGET_INSTANCE_PATH, or Flask's default instance folder for this package."""
    if configured:
        return Path(str(configured)).resolve()
    from flask import Flask

    return Path(Flask("widget_server", static_folder=None).instance_path)


def env_file(environ: Mapping[str, str]) -> Path | None:
    """The env file the server and every command read: WIDGET_ENV_FILE (empty: none), else
    ``.env`` in the instance folder when there is one."""
    named = environ.get(PREFIX + "ENV_FILE")
    if named is not None:
        return Path(named) if named.strip() else None
    default = instance_folder(environ.get(PREFIX + "INSTANCE_PATH")) / ".env"
    return default if default.is_file() else None


def environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The environment (``os.environ`` by default) over the env file's values: a command run
    from another shell reads the same settings as the server, and the real environment wins."""
    environ = os.environ if environ is None else environ
    path = env_file(environ)
    if path is None:
        return environ
    try:
        with path.open(encoding="utf-8") as handle:
            values = dotenv_values(stream=handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{PREFIX}ENV_FILE: cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                          ) from None
    return {**{k: v for k, v in values.items() if v is not None}, **environ}


def load(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Read every ``WIDGET_*`` setting (the environment, then the env file), apply defaults, and
    return config keys."""
    environ = environment(environ)
    config: dict[str, object] = {}
    for name, (default, parse, _meaning) in SETTINGS.items():
        raw = environ.get(PREFIX + name, default)
        config[name] = None if raw is None else parse(name, raw)  # type: ignore[operator]
    return config


def database_url(configured: str | None, instance_path: Path) -> str:
    """The SQLAlchemy URL: the setting, or an SQLite file in the instance folder."""
    if not configured:
        return f"sqlite:///{instance_path / 'comments.db'}"
    # A bare postgres URL means psycopg 3, the driver this project ships with.
    for prefix in ("postgres://", "postgresql://"):
        if configured.startswith(prefix):
            return "postgresql+psycopg://" + configured[len(prefix):]
    return configured


def flask_config(settings: Mapping[str, object], instance_path: Path) -> dict[str, object]:
    """Translate the settings into the keys Flask, Flask-SQLAlchemy and Flask-Limiter read."""
    database = database_url(settings.get("DATABASE_URL"), instance_path)  # type: ignore[arg-type]
    return {
        "SECRET_KEY": settings.get("SECRET_KEY") or secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database,
        # Pre-ping finds connections a database restart broke; an SQLite file has none to break,
        # and the extra query per request was measurable (docs/performance.md).
        "SQLALCHEMY_ENGINE_OPTIONS": settings.get("SQLALCHEMY_ENGINE_OPTIONS")
        or {"pool_pre_ping": not database.startswith("sqlite")},
        "MAX_CONTENT_LENGTH": settings.get("MAX_CONTENT_LENGTH") or 64 * 1024,
        "RATELIMIT_ENABLED": settings["RATELIMIT_ENABLED"],
        "RATELIMIT_STORAGE_URI": settings.get("REDIS_URL") or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # A Redis that hangs must not hang requests: give up after a second, fall back to memory.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


def accounts_enabled(config: Mapping[str, object]) -> bool:
    """WIDGET_ACCOUNTS: true, false, or auto (on when mail can be sent)."""
    setting = config.get("ACCOUNTS", "auto")
    if setting in (True, "true"):
        return True
    if setting in (False, "false"):
        return False
    return bool(config.get("SMTP_URL"))


def sign_in_providers(config: Mapping[str, object]) -> list[providers.Provider]:
    """WIDGET_OIDC_PROVIDERS, checked (a list, as tests may give it, is taken as its JSON)."""
    raw = config.get("OIDC_PROVIDERS") or ""
    text = raw if isinstance(raw, str) else json.dumps(raw)
    return providers.parse(text, insecure_ok=bool(config.get("OIDC_ALLOW_PRIVATE")))


def check_origins(config: Mapping[str, object]) -> None:
    """Each WIDGET_ALLOWED_ORIGINS value is ``*`` or an origin: ``blog.example`` would match no
    browser's Origin, and the widget would fail on the owner's own page."""
    for value in config.get("ALLOWED_ORIGINS") or ():  # type: ignore[union-attr]
        value = str(value)
        if value == "*":
            continue
        if not plain_http_url(value, path=False):
            example = f"https://{value.strip('/')}" if "://" not in value and "/" not in value.strip("/") \
                else "https://blog.example"
            raise ConfigError(f"{PREFIX}ALLOWED_ORIGINS: {value!r} is not an origin: write each site as "
                              f"scheme://host[:port], e.g. {example}")


def check(config: Mapping[str, object]) -> None:
    """Refuse settings that are each fine but cannot work together, or that load() did not parse
    (tests pass plain mappings). Called by create_app and by gunicorn before it starts."""
    if config.get("PUBLIC_URL"):
        parse_public_url(str(config["PUBLIC_URL"]))
    elif config.get("SMTP_URL") or accounts_enabled(config):
        raise ConfigError(f"{PREFIX}PUBLIC_URL must be set when mail or reader accounts are on (links in "
                          "mail are built from it, never from a request's Host), "
                          f"e.g. {PREFIX}PUBLIC_URL=https://comments.example.com")
    parse_bind(str(config.get("BIND") or DEFAULT_BIND))
    check_origins(config)
    for name in config.get("ALLOWED_HOSTS") or ():  # type: ignore[union-attr]
        host = str(name).removeprefix(".")
        if name != "*" and (not host or any(ch in host for ch in "/?#@[] ") or host != host.strip(".:")):
            raise ConfigError(f"{PREFIX}ALLOWED_HOSTS: {name!r} is not a host name")
    sign_in_providers(config)
    secret = config.get("SSO_SECRET")
    if secret and len(str(secret)) < SSO_SECRET_MIN:
        raise ConfigError(f"{PREFIX}SSO_SECRET must be at least {SSO_SECRET_MIN} characters (a random key, "
                          "e.g. from: openssl rand -hex 32)")
    token = config.get("METRICS_TOKEN")
    if token and len(str(token)) < METRICS_TOKEN_MIN:
        raise ConfigError(f"{PREFIX}METRICS_TOKEN must be at least {METRICS_TOKEN_MIN} characters")


def warnings(settings: Mapping[str, object], environ: Mapping[str, str] | None = None) -> list[str]:
    """Settings that each parse but do not do what their owner wants together; said once at start
    by the entry points (the CLI, gunicorn's master), never per worker or per request."""
    environ = environment(environ)
    found = []
    origins = list(settings.get("ALLOWED_ORIGINS") or [])  # type: ignore[call-overload]
    if not origins:
        found.append(f"{PREFIX}ALLOWED_ORIGINS is empty: only pages on this server's own origin can have "
                     "comments. Set it to your site's origin before you paste the snippet, e.g. "
                     f"{PREFIX}ALLOWED_ORIGINS=https://blog.example")
    elif "*" in origins:
        found.append(f"{PREFIX}ALLOWED_ORIGINS has *: any site may embed these comments and create "
                     "threads here")
    if settings.get("ACCOUNTS") == "true" and not settings.get("SMTP_URL"):
        found.append(f"{PREFIX}ACCOUNTS=true without {PREFIX}SMTP_URL: readers can sign up but no "
                     "confirmation mail can be sent, so no account can be confirmed; set "
                     f"{PREFIX}SMTP_URL (or {PREFIX}ACCOUNTS=auto)")
    if (settings.get("OIDC_PROVIDERS") or settings.get("SSO_SECRET")) and not accounts_enabled(settings):
        found.append(f"{PREFIX}OIDC_PROVIDERS or {PREFIX}SSO_SECRET is set but reader accounts are off: "
                     f"nobody can sign in; set {PREFIX}ACCOUNTS=true")
    if settings.get("ADMIN_EMAIL") and not settings.get("SMTP_URL"):
        found.append(f"{PREFIX}ADMIN_EMAIL is set but {PREFIX}SMTP_URL is not: no mail is sent")
    known = {PREFIX + name for name in SETTINGS}
    for name in sorted(environ):
        # WIDGET_TEST_* belong to the test suite (README, "Development").
        if name.startswith(PREFIX) and name not in known and not name.startswith(PREFIX + "TEST_"):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(f"{name} is not a setting{hint}: it is ignored (the README lists them all)")
    return found


def secret_key(instance_path: Path) -> str:
    """Return the instance's secret, creating it (mode 0600) on first start."""
    path = instance_path / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race: use its key
            return secret_key(instance_path)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key
    except OSError as exc:  # unreadable file: say so instead of a traceback later
        raise ConfigError(f"{PREFIX}SECRET_KEY is unset and the generated one in {path} cannot be read: "
                          f"{exc.strerror or exc}") from None


def store_secret_key(current: str, new: str, instance_path: str | Path) -> bool:
    """Replace the generated secret in the instance folder by ``new`` (a restore carrying its
    secret over). False, changing nothing, when the secret in use is not that file's
    (WIDGET_SECRET_KEY is set): the operator sets the variable instead."""
    path = Path(instance_path) / "secret_key"
    try:
        if path.read_text().strip() != current:
            return False
    except OSError:
        return False
    fd, temporary = tempfile.mkstemp(prefix=".secret_key-", dir=path.parent)  # 0600
    with os.fdopen(fd, "w") as handle:
        handle.write(new)
    os.replace(temporary, path)
    return True
