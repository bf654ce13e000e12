"""Where this server is: its public base URL, its own origins, the Host names it answers to.

None of them comes from the request. A client writes its own ``Host`` header
(and, through a trusted proxy, ``X-Forwarded-Host``): a password reset link
built from it would point to the client's server, and an own origin taken from
it would let any page claim to be this server. So:

- links (mail, feeds, the demo and index pages) start with ``WIDGET_PUBLIC_URL``,
  or, where it is unset (no mail and no accounts, e.g. ``make run``), with the
  address the server listens on (``WIDGET_BIND``);
- the server's own origin is the origin of ``WIDGET_PUBLIC_URL``, or where that
  is unset the listen address's and localhost's on the same port;
- a request for any Host but those, localhost and ``WIDGET_ALLOWED_HOSTS`` is
  refused with 400 (Flask's ``TRUSTED_HOSTS``) before any view runs.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import SecurityError

from .config import DEFAULT_BIND, parse_bind, parse_public_url
from .errors import APIError
from .urls import normalize_origin, origin_of

LOCAL_NAMES = ("localhost", "127.0.0.1")
_EVERY_INTERFACE = {"0.0.0.0", "::", ""}  # noqa: S104 - recognised, not bound


def _listen_host(host: str) -> str:
    # Listening on every interface says nothing about a name: the loopback one stands for it.
    return "127.0.0.1" if host in _EVERY_INTERFACE else host


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def base_url(config: Mapping[str, object] | None = None) -> str:
    """The server's public base URL, without a trailing slash: links start with it."""
    config = current_app.config if config is None else config
    public = config.get("PUBLIC_URL")
    if public:
        return parse_public_url(str(public))
    bind = parse_bind(str(config.get("BIND") or DEFAULT_BIND))
    if bind is None:
        return "http://localhost"
    host, port = bind
    return f"http://{_url_host(_listen_host(host))}:{port}"


def own_origins(config: Mapping[str, object] | None = None) -> frozenset[str]:
    """The origins that are this server's own (always allowed to have threads)."""
    config = current_app.config if config is None else config
    if config.get("PUBLIC_URL"):
        return frozenset({origin_of(base_url(config))})
    bind = parse_bind(str(config.get("BIND") or DEFAULT_BIND))
    if bind is None:
        return frozenset({"http://localhost"})
    host, port = bind
    names = {_listen_host(host), "localhost"}
    return frozenset(o for o in (normalize_origin(f"http://{_url_host(n)}:{port}") for n in names) if o)


def trusted_hosts(config: Mapping[str, object]) -> list[str] | None:
    """Flask's ``TRUSTED_HOSTS``: the names a request's Host may carry (None: any)."""
    extra = [str(h).strip().lower() for h in (config.get("ALLOWED_HOSTS") or ()) if str(h).strip()]
    if "*" in extra:
        return None
    names = [*LOCAL_NAMES, *extra]
    if config.get("PUBLIC_URL"):
        names.append(urlsplit(base_url(config)).hostname or "")
    bind = parse_bind(str(config.get("BIND") or DEFAULT_BIND))
    if bind is not None and bind[0] not in _EVERY_INTERFACE:
        names.append(bind[0])
    # werkzeug compares names without the port and cannot match a bracketed IPv6 literal.
    names = [n.partition(":")[0] if n.count(":") == 1 else n for n in names]
    return sorted({n for n in names if n and ":" not in n})


def init_app(app: Flask) -> None:
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.jinja_env.globals["public_base"] = base_url

    def _refuse_unknown_host():
        # Flask found the Host untrusted while matching the URL; say so before anything else runs.
        if isinstance(request.routing_exception, SecurityError):
            raise APIError(400, "unknown_host",
                           "this server does not answer to that Host name "
                           "(see WIDGET_PUBLIC_URL and WIDGET_ALLOWED_HOSTS)")

    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unknown_host)
