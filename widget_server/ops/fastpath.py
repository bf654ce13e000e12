"""Cached reads answered in front of Flask: a dictionary lookup and a send.

A hit on the read cache (a thread page, its 304, or counts) needs no view, no
request object and no hook: everything they decide is decided already. So this
thin WSGI layer sits between ProxyFix and Flask and answers a GET of
``/api/v1/comments`` or ``/api/v1/counts`` itself when, and only when:

- the exact query string was answered before by the Flask view, which parsed
  and checked it (a valid, normalized, allowed page: ``remember_thread``,
  ``remember_counts``): every error and every first request stays with Flask;
- the change feed is live and knows the thread versions (else reads must ask
  the database: Flask's path does), and the page (or counts body) for those
  versions is in the cache;
- the Host is one the server answers to and the ``Origin``, if any, is allowed
  (anything else goes to Flask, which refuses it with the one JSON error);
- the sites (which origins are allowed, each site's ``config`` in the thread) were
  checked within the last half second (``sites.Registry.fresh``), and what is
  answered was made under that generation of them: else Flask's path, which
  asks the database whether they changed.

It sends the very headers Flask's path sends (``tests/ops/test_fastpath.py``
compares the two byte for byte, header by header): ETag, Vary, Cache-Control,
the form token, gzip, CORS, ``X-Request-Id``; and it counts the request in
``/metrics`` and writes the access line as ``observability`` does. Anything
else, or anything unexpected, falls through to Flask.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.http import parse_accept_header, parse_etags
from werkzeug.sansio.utils import get_host

from .. import clock, cors, sites
from ..comments import reading
from ..delivery.feed import MISSING
from ..metrics import CACHE, LATENCY, REQUESTS
from ..security import ip_hash
from . import observability

THREADS = "/api/v1/comments"
COUNTS = "/api/v1/counts"
_LIMIT = 8192  # query strings, hosts, origins ... remembered per process (emptied past it)
_GZIP = b"gzip"


def _bounded(memo: dict, key, value):
    if len(memo) > _LIMIT:
        memo.clear()
    memo[key] = value
    return value


class FastReads:
    """The WSGI layer (``app.wsgi_app``); ``flask`` is Flask's own ``wsgi_app`` behind it."""

    def __init__(self, app: Flask, flask: Callable):
        self.app, self.flask = app, flask
        self.threads: dict[str, tuple] = {}  # query string -> the read cache's key without the version
        self.counts: dict[str, tuple] = {}  # query string -> its pages (normalized, sorted)
        self.count_bodies: dict[str, tuple] = {}  # query string -> (versions, the JSON body): the last
        self._hosts: dict[str, bool] = {}
        self._origins: dict[tuple[str, int], bool] = {}  # (origin, sites' generation) -> allowed
        self._gzip: dict[str, bool] = {}
        self._metrics: dict[tuple, object] = {}
        self._cache_hit = None

    # what the Flask views tell it

    def remember_thread(self, query: str, url: str, sort: str, limit: int, cursor: str | None) -> None:
        if query not in self.threads:
            _bounded(self.threads, query, (url, sort, limit, cursor))

    def remember_counts(self, query: str, urls: tuple, versions: tuple, body: bytes) -> None:
        """``body`` counts at least ``versions`` of ``urls`` (None where no thread): a version
        the feed does not know (MISSING) never matches, so such a body is never answered."""
        if query not in self.counts:
            _bounded(self.counts, query, urls)
        _bounded(self.count_bodies, query, (versions, body, sites.generation()))

    # the WSGI call

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path in (THREADS, COUNTS) and environ.get("REQUEST_METHOD") == "GET":
            try:
                fresh = self.app.extensions["widget_sites"].fresh()
                cors_headers = self._allowed(environ, fresh.generation) if fresh is not None else None
                answer = None
                if cors_headers is not None:
                    answer = (self._thread(environ, fresh.generation) if path == THREADS
                              else self._counts(environ, fresh.generation))
            except Exception:  # noqa: BLE001 - never fail here: Flask's path answers (or explains)
                answer = None
            if answer is not None:
                return self._send(environ, start_response, path, *answer, cors_headers)
        return self.flask(environ, start_response)

    def _allowed(self, environ: dict, generation: int) -> list | None:
        """The CORS headers of an answer here, or None: Flask's path decides (and refuses)."""
        host_ok = self._hosts.get(environ.get("HTTP_HOST", ""))
        if host_ok is None:
            host_ok = self._host_trusted(environ)
        if not host_ok:
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return []
        allowed = self._origins.get((origin, generation))
        if allowed is None:
            with self.app.app_context():
                allowed = _bounded(self._origins, (origin, generation), cors.origin_allowed(origin))
        if not allowed:
            return None
        return [("Access-Control-Allow-Origin", origin),
                ("Access-Control-Expose-Headers", cors.EXPOSE_HEADERS)]

    def _thread(self, environ: dict, generation: int):
        query = environ.get("QUERY_STRING", "")
        known = self.threads.get(query)
        if known is None:
            return None
        url, sort, limit, cursor = known
        version = self.app.extensions["widget_feed"].version(url)
        if version is MISSING:
            return None
        entry = self.app.extensions["widget_read_cache"].get((url, version, sort, limit, cursor, generation))
        if entry is None:
            return None
        token = self._form_token(url)
        headers = [("ETag", entry.etag), ("Vary", "Accept-Encoding, Origin"),
                   ("Cache-Control", reading.THREAD_CACHE_CONTROL), ("X-Form-Token", token)]
        if self._cache_hit is None:
            self._cache_hit = CACHE.labels("hit")
        self._cache_hit.inc()
        wanted = environ.get("HTTP_IF_NONE_MATCH")
        if wanted and (wanted == entry.etag or parse_etags(wanted).contains_weak(entry.etag[1:-1])):
            return 304, headers, b""
        if self._accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")):
            body = entry.gzipped()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                       *headers, ("Content-Encoding", "gzip")]
        else:
            body = entry.body
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers]
        return 200, headers, body

    def _counts(self, environ: dict, generation: int):
        query = environ.get("QUERY_STRING", "")
        known = self.counts.get(query)
        if known is None:
            return None
        version = self.app.extensions["widget_feed"].version
        versions = []
        for url in known:
            found = version(url)
            if found is MISSING:
                return None
            versions.append(found)
        found = self.count_bodies.get(query)
        if found is None or found[0] != tuple(versions) or found[2] != generation:
            return None
        body = found[1]
        return 200, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                     ("Cache-Control", reading.THREAD_CACHE_CONTROL), ("Vary", "Origin")], body

    # what every answer carries

    def _send(self, environ: dict, start_response, route: str, status: int, headers: list, body: bytes,
              cors_headers: list):
        started = time.perf_counter()
        headers += cors_headers
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        if not (incoming and observability.request_id_ok(incoming)):
            incoming = observability.new_request_id()
        rid = incoming
        headers.append((observability.REQUEST_ID_HEADER, rid))
        start_response("200 OK" if status == 200 else "304 NOT MODIFIED", headers)
        self._count(route, status, time.perf_counter() - started)
        if observability.access_log_on():
            observability.write_access_line({
                "ts": observability.log_time(), "level": "info", "logger": observability.access_log.name,
                "request_id": rid, "method": "GET", "path": route, "route": route, "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "bytes": len(body), "client": self._client_tag(environ.get("REMOTE_ADDR") or "unknown"),
            })
        return [body] if body else []

    def _count(self, route: str, status: int, elapsed: float) -> None:
        found = self._metrics.get((route, status))
        if found is None:  # children made in the worker (after the fork), then reused
            found = self._metrics[(route, status)] = (REQUESTS.labels(route, "GET", str(status)),
                                                      LATENCY.labels(route))
        found[0].inc()
        found[1].observe(elapsed)

    def _host_trusted(self, environ: dict) -> bool:
        """Flask's TRUSTED_HOSTS check (werkzeug's own function), remembered per Host header."""
        trusted = self.app.config.get("TRUSTED_HOSTS")
        try:
            get_host(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                     (environ.get("SERVER_NAME"), environ.get("SERVER_PORT")), trusted)
        except Exception:  # noqa: BLE001 - SecurityError: Flask refuses it (400 unknown_host)
            return False
        if "HTTP_HOST" not in environ:
            return True  # HTTP/1.0 without Host: nothing to remember it by
        return _bounded(self._hosts, environ["HTTP_HOST"], True)

    def _accepts_gzip(self, header: str | None) -> bool:
        if not header:
            return False
        found = self._gzip.get(header)
        if found is None:  # werkzeug's parser, as Flask's request.accept_encodings
            found = _bounded(self._gzip, header, "gzip" in parse_accept_header(header))
        return found

    def _form_token(self, url: str) -> str:
        """reading.form_token, from its memo while the second lasts (signed in an app context)."""
        cached = self.app.extensions.get("widget_form_tokens", {}).get(url)
        if cached is not None and cached[0] == int(clock.now().timestamp()):
            return cached[1]
        with self.app.app_context():
            return reading.form_token(url)

    def _client_tag(self, address: str) -> str:
        tags = self.app.extensions.setdefault("widget_client_tags", {})
        tag = tags.get(address)
        if tag is None:
            with self.app.app_context():
                tag = _bounded(tags, address, ip_hash(address)[:12])
        return tag


def init_app(app: Flask) -> FastReads:
    """Put the layer in front of Flask's own WSGI callable (and behind ProxyFix, added after)."""
    fast = FastReads(app, app.wsgi_app)
    app.wsgi_app = fast  # type: ignore[method-assign]
    app.extensions["widget_fast_reads"] = fast
    return fast
