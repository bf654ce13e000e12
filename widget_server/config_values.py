"""How each ``WIDGET_*`` value is read: one parser per kind of value, each raising ``ConfigError``
with a message that names the variable and says what to write (config.py's table uses them)."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PREFIX = "WIDGET_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{PREFIX}{name} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{PREFIX}{name} must be at most {maximum}, not {value}")
    return value


def _bounded(minimum: int, maximum: int | None = None):
    return lambda name, raw: _int(name, raw, minimum, maximum)


def _rate_limit(name: str, raw: str) -> str:
    """Flask-Limiter's string, checked now: a typo must not switch the limit off at the first request."""
    value = raw.strip()
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be rate limits such as '5 per minute;30 per hour', not "
                          f"{raw!r} (to switch every limit off: {PREFIX}RATELIMIT_ENABLED=false)") from None
    return value


def _log_level(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ConfigError(f"{PREFIX}{name} must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return value


def _list(_name: str, raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


MAX_REACTIONS = 8


def _reactions(name: str, raw: str) -> list[str]:
    """Emoji only (no letters, digits or markup), each at most 16 characters, no repeats."""
    found = _list(name, raw)
    for emoji in found:
        if len(emoji) > 16 or any(ch.isascii() for ch in emoji):
            raise ConfigError(f"{PREFIX}{name}: {emoji!r} is not an emoji (write them comma-separated)")
    if not found or len(found) > MAX_REACTIONS or len(set(found)) < len(found):
        raise ConfigError(f"{PREFIX}{name} must list 1 to {MAX_REACTIONS} different emoji, not {raw!r}")
    return found


def _choice(choices: tuple[str, ...]):
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ConfigError(f"{PREFIX}{name} must be one of {', '.join(choices)}, not {raw!r}")
        return value

    return parse


def _str(_name: str, raw: str) -> str:
    return raw.strip()


def _networks(name: str, raw: str) -> list[str]:
    values = _list(name, raw)
    for value in values:
        try:
            ipaddress.ip_network(value)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name}: {value!r} is not an IP address or network") from None
    return values


def plain_http_url(raw: str, *, path: bool = True) -> bool:
    """An http(s) URL with a host and a valid port, and no user, query or fragment (nor a path,
    with ``path`` False): what WIDGET_PUBLIC_URL and each allowed origin must be."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query
            and not parts.fragment and "?" not in raw and parts.username is None
            and (path or parts.path in ("", "/")))


def parse_public_url(raw: str) -> str:
    """``WIDGET_PUBLIC_URL`` checked, without its trailing slash."""
    if not plain_http_url(raw):
        raise ConfigError(f"{PREFIX}PUBLIC_URL must be the server's public http(s) address, such as "
                          f"https://comments.example.com, without user, query or fragment; not {raw!r}")
    return raw.rstrip("/")


def parse_bind(raw: str) -> tuple[str, int] | None:
    """``WIDGET_BIND`` as (host, port); None for a Unix socket or an inherited descriptor."""
    if raw.startswith(("unix:", "fd://")):
        return None
    host, colon, port = raw.rpartition(":")
    if not colon:
        host, port = raw, "8000"  # gunicorn's port when none is named
    if raw.isdigit() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{PREFIX}BIND must be HOST:PORT (or unix:PATH), not {raw!r}")
    return host.strip("[]").lower(), int(port)


# The Python package that provides a database driver's module, for the one-line error.
DRIVER_PACKAGES = {"MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "psycopg2": "psycopg2-binary",
                   "psycopg": "psycopg[binary]", "pg8000": "pg8000", "mariadb": "mariadb"}


def check_database(url: str) -> None:
    """Refuse a database URL SQLAlchemy cannot use here (its driver missing, say), before anything
    connects. The message never repeats the URL: it may hold a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{PREFIX}DATABASE_URL must be a database URL such as "
                          "postgresql://user:password@host/name or sqlite:////path/comments.db") from None
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(f"{PREFIX}DATABASE_URL: unknown kind of database {parsed.drivername!r}; "
                          "use postgresql://... or sqlite:///...") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        package = DRIVER_PACKAGES.get(str(exc.name).split(".")[0], exc.name)
        raise ConfigError(f"{PREFIX}DATABASE_URL: {parsed.drivername}:// needs the Python package "
                          f"{package}, which is not installed: pip install '{package}' into the server's "
                          "environment (or use postgresql://, whose driver comes with widget-server)"
                          ) from None
