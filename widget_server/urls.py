"""Page URL normalization and the allowed-origin rule.

One page must never split into two threads, so every URL that names a thread
goes through ``normalize_page_url`` first: scheme and host lower-cased, the
default port, user info and fragment dropped, tracking parameters removed,
the remaining query sorted, and unsafe characters percent-encoded.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid",
                   "_ga", "_gl", "igshid", "ref_src", "twclid", "ttclid"}
_PATH_SAFE = "/%:@!$&()*+,;=-._~"
_QUERY_SAFE = "/?:@!$()*+,;-._~"


class BadURL(ValueError):
    """Why a URL is refused; ``code`` and ``params`` are its field code (errors.FIELD_CODES)."""

    def __init__(self, message: str, code: str = "invalid", **params: int):
        super().__init__(message)
        self.code, self.params = code, params


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def _split(raw: str):
    if not isinstance(raw, str) or not raw.strip():
        raise BadURL("must be an absolute http(s) URL")
    raw = raw.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise BadURL(f"must be at most {MAX_URL_LENGTH} characters", "too_long", max=MAX_URL_LENGTH)
    if any(ord(ch) < 0x20 or ch == "\x7f" or 0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
        raise BadURL("must not contain control characters")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise BadURL("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadURL("must be an absolute http(s) URL")
    host = (parts.hostname or "").lower()
    if not host or any(ch in host for ch in "<>\"'` \\{}|^"):
        raise BadURL("must have a valid host")
    return parts, scheme, host, port


def _netloc(scheme: str, host: str, port: int | None) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return host
    return f"{host}:{port}"


def normalize_page_url(raw: str) -> str:
    parts, scheme, host, port = _split(raw)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query_string = urlencode(sorted(query), quote_via=quote, safe=_QUERY_SAFE)
    return urlunsplit((scheme, _netloc(scheme, host, port), path, query_string, ""))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, normalized the same way as page URLs."""
    if not isinstance(url, str):
        _split(url)  # raises BadURL
    return _origin(url)


@lru_cache(maxsize=4096)  # asked several times per request for the same few pages (sites, CORS)
def _origin(url: str) -> str:
    _parts, scheme, host, port = _split(url)
    return f"{scheme}://{_netloc(scheme, host, port)}"


def normalize_origin(raw: str) -> str | None:
    """Normalize an ``Origin`` header or configured origin; None if it is not one."""
    if raw == "*":
        return raw
    try:
        return origin_of(raw)
    except BadURL:
        return None


def normalize_website(raw: str) -> str:
    """An author's website: an http(s) URL, returned with its host lower-cased."""
    parts, scheme, host, port = _split(raw)
    if any(ch in raw for ch in " <>\"'`\\"):
        raise BadURL("must be an http(s) URL without spaces or quotes")
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE + "=&%")
    return urlunsplit((scheme, _netloc(scheme, host, port), path, query, ""))


def permalink(thread_url: str, number: int) -> str:
    """Where comment ``number`` of a thread is on its page (the widget scrolls to the anchor)."""
    return f"{thread_url}#comment-{number}"
