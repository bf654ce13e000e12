"""Threads rendered on the server: the HTML fragment an article includes, and the /t page.

Both are drawn from the JSON page the widget reads (``reading.thread_page``): the same
comments, order, counts and sanitized ``html``, so the fragment shows exactly what the widget
would, and the widget can take the fragment's first page over without asking for it again
(the JSON is carried along, inert, in a ``<script type="application/json">``). Jinja escapes
everything; the stored, sanitized ``html`` is the only markup put in as it is.

Cached like the JSON: a rendering is keyed by the JSON page's ETag (which moves with the
thread's version) and the variant asked for (language, theme, kind). Only the signed form
token differs per response (``reading.form_token``: signed once per page and second), so a
rendering is kept as the bytes before and after it, and its gzip once per token.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app, render_template
from markupsafe import Markup

from .. import sites
from ..cache import ByteLRU
from ..hosts import base_url
from . import locale, reading

THEMES = ("light", "dark", "auto")
FRAGMENT, PAGE = "fragment", "page"
# Where the per-response form token goes: unguessable, so no reader's text can hold it.
_TOKEN_SLOT = "form-token-" + secrets.token_hex(16)
_CACHE = "widget_html_cache"


@dataclass
class Rendered:
    parts: tuple[bytes, ...]  # the rendering cut where the form token goes (none: no form)
    etag: str  # weak: the form token inside differs from response to response
    _gzipped: tuple[str, bytes] | None = field(default=None, repr=False)

    def body(self, token: str) -> bytes:
        return token.encode().join(self.parts)

    def gzipped(self, token: str) -> bytes:
        found = self._gzipped
        if found is None or found[0] != token:
            found = self._gzipped = (token, gzip.compress(self.body(token), compresslevel=6, mtime=0))
        return found[1]


@dataclass(frozen=True)
class View:
    """What a rendering depends on besides the thread: all of it goes into the cache key."""

    kind: str
    url: str
    sort: str = "oldest"
    cursor: str | None = None
    lang: str = "en"
    theme: str = "light"
    reply_to: int | None = None  # the /t page's reply form: the comment replied to
    notice: str | None = None  # the /t page's message after a post ("held" or a number)


def thread_link(view: View, **changes) -> str:
    """A link to the /t page of the thread, with ``view``'s language and sort unless changed."""
    query = {"url": view.url, "sort": view.sort, "lang": view.lang} | changes
    query = {k: v for k, v in query.items() if v not in (None, "") and not (k == "sort" and v == "oldest")
             and not (k == "lang" and v == "en")}
    return base_url() + "/t?" + urlencode(query)


def _seed(body: bytes) -> Markup:
    """The JSON page, safe inside <script type="application/json">: ``<``, ``>`` and ``&`` occur
    only inside JSON strings, where their \\u escapes mean the same."""
    text = body.decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above; JSON in an inert script element


def _find(comments: list[dict], comment_id: int) -> dict | None:
    stack = list(comments)
    while stack:
        item = stack.pop()
        if item["id"] == comment_id:
            return item
        stack.extend(item["replies"])
    return None


def _page(view: View, entry: reading.Entry, token: str, **extra) -> str:
    data = json.loads(entry.body)
    words = locale.words(view.lang)
    reply_to = _find(data["comments"], view.reply_to) if view.reply_to else None
    if reply_to is not None and reply_to["state"] != "published":
        reply_to = None
    return render_template(
        "thread_page.html" if view.kind == PAGE else "thread_fragment.html",
        view=view, data=data, words=words, t=words.strings,
        identicon=locale.identicon, link=lambda **changes: thread_link(view, **changes),
        action=base_url() + "/t", token=token, reply_to=reply_to,
        seed=_seed(entry.body) if view.kind == FRAGMENT else None,
        noscript_posts=sites.for_url(view.url).config["NOSCRIPT_POSTS"] != "off", base=base_url(),
        values=extra.pop("values", {}), **extra)


def html_cache(max_bytes: int) -> ByteLRU:
    """Renderings by (JSON ETag, view), weighed by their bytes and a gzip copy (under a third)."""
    return ByteLRU("html", max_bytes, lambda found: sum(map(len, found.parts)) * 4 // 3 + 256)


def _render(view: View, entry: reading.Entry) -> Rendered:
    page = _page(view, entry, _TOKEN_SLOT)
    parts = tuple(page.encode().split(_TOKEN_SLOT.encode()))
    digest = hashlib.blake2b(b"".join(parts), digest_size=12).hexdigest()
    return Rendered(parts, f'W/"{digest}"')


def render(view: View) -> Rendered:
    """The fragment or the page for ``view`` (its URL normalized and allowed), from the cache
    while the JSON page it is drawn from stands."""
    entry = reading.thread_page(view.url, view.sort, current_app.config["PAGE_SIZE"], view.cursor)
    cache = current_app.extensions[_CACHE]
    key = (entry.etag, view)
    found = cache.get(key)
    if found is None:
        found = _render(view, entry)
        cache.put(key, found)
    return found


def failed_post(view: View, token: str, message: str, values: dict[str, str]) -> str:
    """The /t page again after a refused post: the reason, and the form as the reader filled it."""
    entry = reading.thread_page(view.url, view.sort, current_app.config["PAGE_SIZE"], None)
    return _page(view, entry, token, error=message, values=values)
