"""A site's settings: the keys a site may override, how each value is checked, and the
configuration a site's code reads (its overrides over the server's ``WIDGET_*`` values).

A key is the ``WIDGET_*`` name without the prefix, lower-case (``moderation``, ``pow``,
``default_lang``). Values are kept as written (``site list`` shows them so) and parsed by the
same parsers as the environment, so a site's ``moderation=sometimes`` fails as
``WIDGET_MODERATION=sometimes`` would, naming the site's key instead of the variable.
"""
from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from urllib.parse import urlsplit

from .. import config as config_module
from ..config_values import PREFIX, ConfigError

# The settings a site may have of its own (issue 17): everything else stays the server's.
KEYS = (
    "moderation", "anonymous_posting", "accounts", "noscript_posts",  # who may post, and how
    "blocked_words", "spam_max_links", "pow", "pow_cost", "report_threshold",  # rules
    "default_lang", "default_theme",  # the widget's defaults (data-lang / data-theme win)
    "admin_email", "webhook_urls", "webhook_secret",  # who hears of comments
    "sso_secret",  # the host site's sign-in key
    "ratelimit_post_site",  # every client of the site together (each client has RATELIMIT_POST)
)
_LANG = re.compile(r"^([a-z]{2,3}(-[a-z0-9]{2,8})*)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SECRET_KEYS = ("webhook_secret", "sso_secret")  # never shown back in full


class SettingError(ValueError):
    """A site setting that cannot be used: the message names the key and says what to write."""


def as_text(value: object) -> str:
    """A value as the command line writes it (the API may send JSON true, 3 or a list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def parse(key: str, raw: object) -> object:
    """The value of ``key`` as the code reads it, or ``SettingError``."""
    if key not in KEYS:
        raise SettingError(f"{key!r} is not a site setting; one of: {', '.join(KEYS)}")
    text = as_text(raw).strip()
    _default, parser, _meaning = config_module.SETTINGS[key.upper()]
    try:
        value = parser(key.upper(), text)  # type: ignore[operator]
    except ConfigError as exc:
        raise SettingError(str(exc).replace(PREFIX + key.upper(), key, 1)) from None
    _check(key, value)
    return value


def _check(key: str, value: object) -> None:
    if key == "sso_secret" and value and len(str(value)) < config_module.SSO_SECRET_MIN:
        raise SettingError(f"sso_secret must be at least {config_module.SSO_SECRET_MIN} characters "
                           "(a random key, e.g. from: openssl rand -hex 32)")
    if key == "admin_email" and value and not _EMAIL.match(str(value)):
        raise SettingError(f"admin_email must be an e-mail address, not {value!r}")
    if key == "default_lang" and not _LANG.match(str(value)):
        raise SettingError(f"default_lang must be a language tag such as de or pt-br, not {value!r}")
    if key == "webhook_urls":
        for url in value:  # type: ignore[union-attr]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SettingError(f"webhook_urls: {url!r} is not an http(s) URL")


def parse_all(raw: Mapping[str, object]) -> dict[str, object]:
    """Every override parsed (raises on the first bad one)."""
    return {key: parse(key, value) for key, value in raw.items()}


def check_together(overrides: Mapping[str, object], base: Mapping[str, object]) -> None:
    """Settings that are each fine but do not work together on one site."""
    merged = site_config(overrides, base)
    if merged.get("WEBHOOK_URLS") and not merged.get("WEBHOOK_SECRET"):
        raise SettingError("webhook_urls needs webhook_secret (the key the site checks signatures with)")


def site_config(overrides: Mapping[str, object], base: Mapping[str, object]) -> Mapping[str, object]:
    """The configuration the site's code reads: parsed overrides (upper-case keys) over ``base``
    (the app's config, read live: what a site does not override follows the server)."""
    return ChainMap({key.upper(): value for key, value in overrides.items()}, base)  # type: ignore[arg-type]


def shown(raw: Mapping[str, str]) -> dict[str, str]:
    """The overrides as ``site list`` and the API show them: secrets only as set or not."""
    return {key: ("(set)" if key in SECRET_KEYS and value else value) for key, value in raw.items()}
