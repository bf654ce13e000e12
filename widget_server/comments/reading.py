"""The read path: a thread's JSON and comment counts, served from memory while nothing changed.

Serialized thread responses are cached in-process, keyed by the thread's
``version``. While the change feed (``delivery/feed.py``) is live, the version
comes from it: every instance hears of every committed change, so a cached
read (and a 304) asks the database nothing. While it is not, the version is
read from the database in one cheap query per request, as a change made
through any instance is seen at once that way too. A stale entry is simply
never asked for again and ages out of the LRU. Counts are cached the same way,
by the versions of the threads asked for.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, select

from .. import clock, fields, sites
from ..cache import ByteLRU
from ..cors import require_page_allowed
from ..delivery.feed import MISSING
from ..extensions import db, memo
from ..metrics import CACHE
from ..models import Thread
from . import reactions, screening, service, threads, trees


@dataclass
class Entry:
    body: bytes
    etag: str
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def make_entry(body: bytes) -> Entry:
    return Entry(body=body, etag='"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class ReadCache(ByteLRU):
    """Serialized thread pages, bounded by bytes (cache.py): the body, its gzip (compressed JSON
    is well under a third) and the key."""

    def __init__(self, max_bytes: int = 32 << 20):
        super().__init__("read", max_bytes, lambda entry: len(entry.body) * 4 // 3 + 256)


THREAD_CACHE_CONTROL = "public, max-age=0, s-maxage=5, stale-while-revalidate=30"


# --- a thread ---------------------------------------------------------------------------------

_THREADS = Thread.__table__
_VERSION_QUERY = select(_THREADS.c.id, _THREADS.c.version).where(_THREADS.c.url == bindparam("url"))
_VERSIONS_QUERY = select(_THREADS.c.url, _THREADS.c.id, _THREADS.c.version).where(
    _THREADS.c.url.in_(bindparam("urls", expanding=True)))


def public_config(site: sites.Site) -> dict:
    """What the widget needs to know of the settings of the page's site (sent with every thread)."""
    config = site.config
    return {"edit_window": config["EDIT_WINDOW"], "moderation": config["MODERATION"],
            "max_text_length": config["MAX_TEXT_LENGTH"], "page_size": config["PAGE_SIZE"],
            "accounts": site.accounts, "anonymous_posting": config["ANONYMOUS_POSTING"],
            "notifications": bool(config.get("SMTP_URL")),
            "pow": config["POW"] == "on",  # the widget solves a challenge for each anonymous post
            # The site's defaults where the script tag says nothing ("": the widget's own).
            "default_lang": config.get("DEFAULT_LANG") or "",
            "default_theme": config.get("DEFAULT_THEME") or "",
            # The form's limits, from the model columns: the widget keeps no copy of its own.
            "max_author_length": fields.MAX_AUTHOR, "max_email_length": fields.MAX_EMAIL,
            "max_website_length": fields.MAX_WEBSITE,
            "reactions": config["REACTIONS"]}  # issue 19: what readers may react with


def _thread_body(url: str, sort: str, limit: int, cursor: str | None) -> bytes:
    thread = threads.find(url)
    if thread is None:
        built, info = trees.EMPTY, {"url": url, "title": "", "comment_count": 0, "locked": False,
                                    "reactions": {}}
    else:
        # Built once per thread version (trees.py), a large thread's from the version before it;
        # every page and sort is cut from it. Plain rows, not ORM objects (a third of the cost).
        built = current_app.extensions["widget_tree_cache"].get(
            thread.id, thread.version, trees.ThreadRows(db.session, thread.id),
            lambda: (current_app.config["REACTIONS"], reactions.of_thread(thread.id)))
        info = {"url": thread.url, "title": thread.title,
                "comment_count": built.visible, "locked": thread.locked,
                "reactions": built.page_reactions}
    items, next_cursor = built.page(sort, limit, cursor)
    payload = {"thread": info, "comments": items, "next_cursor": next_cursor,
               "config": public_config(sites.for_url(url))}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _read_connection():
    """A pooled connection for one read statement: no ORM session (half the cost on the
    hot path) and autocommit (no BEGIN/ROLLBACK round trips on PostgreSQL)."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def thread_version(url: str) -> tuple | None:
    """(thread id, version) of ``url``'s thread, or None: from the change feed while it is live,
    else one cheap query (remembered by the feed, unless it moved on meanwhile)."""
    feed = current_app.extensions["widget_feed"]
    version = feed.version(url)
    if version is MISSING:
        generation = feed.generation
        with _read_connection() as connection:
            row = connection.execute(_VERSION_QUERY, {"url": url}).first()
        version = tuple(row) if row else None
        feed.remember(url, version, generation)
    return version


def thread_page(url: str, sort: str, limit: int, cursor: str | None) -> Entry:
    """One page of the thread of (normalized, allowed) ``url``: from the cache if its version stands."""
    # The page carries its site's settings (config): any site's change makes new pages.
    key = (url, thread_version(url), sort, limit, cursor, sites.generation())
    cache = current_app.extensions["widget_read_cache"]
    entry = cache.get(key)
    CACHE.labels("hit" if entry else "miss").inc()
    if entry is None:
        entry = make_entry(_thread_body(url, sort, limit, cursor))
        cache.put(key, entry)
    return entry


def counts(urls: list[str]) -> dict[str, int]:
    """Published comments per (normalized) page URL (``counts_at`` without the versions)."""
    return counts_at(urls)[0]


def counts_at(urls: list[str]) -> tuple[dict[str, int], tuple]:
    """Published comments per (normalized) page URL, keyed like threads by the versions of the
    threads asked for: one index lookup per page instead of counting comments, until one changes.
    Also the versions, in the order of ``urls``, that the counts are at least as new as."""
    feed = current_app.extensions["widget_feed"]
    known = [feed.version(url) for url in urls]
    if any(v is MISSING for v in known):
        generation = feed.generation
        with _read_connection() as connection:
            rows = connection.execute(_VERSIONS_QUERY, {"urls": urls})
            found = {url: (thread_id, v) for url, thread_id, v in rows}
        known = [found.get(url) for url in urls]
        for url, version in zip(urls, known, strict=True):
            feed.remember(url, version, generation)
    versions = tuple(sorted((url, v[1]) for url, v in zip(urls, known, strict=True) if v is not None))
    counted = memo("widget_counts")
    key = (tuple(urls), versions)
    found = counted.get(key)
    if found is None:
        found = counted[key] = service.counts(urls) if versions else {}
    return found, tuple(known)


# --- small memos for what every read repeats ----------------------------------------------------


def page_url(raw: str | None, errors: dict[str, str]) -> str | None:
    """``fields.page_url``, remembered for good URLs: the read path sees the same few often."""
    known = memo("widget_page_urls")
    url = known.get(raw)
    if url is None:
        url = fields.page_url(raw, errors)
        if not errors and raw is not None:
            known[raw] = url
    return url


def require_allowed(url: str) -> None:
    """``cors.require_page_allowed``, remembered for allowed pages."""
    allowed = memo("widget_allowed_pages")
    generation = sites.generation()  # a site removed or changed: asked again
    if allowed.get(url) != generation:
        require_page_allowed(url)
        allowed[url] = generation


def form_token(url: str) -> str:
    """``screening.form_token(url)``, signed once per page and second (it carries whole seconds)."""
    tokens = memo("widget_form_tokens", 4096)
    second = int(clock.now().timestamp())
    cached = tokens.get(url)
    if cached is not None and cached[0] == second:
        return cached[1]
    token = screening.form_token(url)
    if int(clock.now().timestamp()) == second:  # not across a second boundary: reusable
        tokens[url] = (second, token)
    return token
