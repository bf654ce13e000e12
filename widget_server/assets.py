"""Static assets: the widget script, its on-demand account module, the demo page and the
moderation page.

Each script is read once (again when the file changes), minified, then served
compressed with a content hash as its ETag and a short cache lifetime plus
revalidation, so readers get a new release within minutes while unchanged bytes
cost only a 304.

Minifying is not a build step: ``static/*.js`` is the readable source, passed once
per file and process through tdewolff/minify (the ``minify`` module of the
tdewolff-minify package: a long-maintained Go minifier shipped compiled inside
its wheel). It removes comments and whitespace and renames local names (strings,
template literals, object keys and top-level names stay as written), which is
what made room in the 12 KB budget for issue 19 (about 1.1 KB compressed). rjsmin
(comments and whitespace only) stays as the fallback for a script it cannot parse.
The gzip stream is made with zopfli: the same gzip format every browser reads,
about 5 % smaller than zlib's best, for a fraction of a second once per file and
process. Both exist for the widget's 12 KB download budget (issue 3).

The scripts carry English only. Every other language is one file, ``static/i18n/LANG.json``,
with the tables ``widget``, ``account``, ``live``, ``report`` and ``errors`` (docs/translating.md);
each table is served on its own, compact and compressed, at ``/widget-i18n/LANG.json`` (the
widget's, fetched alongside the thread) and ``/widget-i18n/TABLE/LANG.json`` (fetched by the
part that needs it). ``static/i18n/en.json`` holds only the English ``errors`` table, the
translators' reference (English readers see the server's own messages). The widget carries the
list of languages itself, so a copy served from elsewhere still knows them.

Compressing takes a fraction of a second per file, so an app that is not TESTING does it in a
background thread as soon as it is created: the first reader does not wait for it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import rjsmin
import zopfli.gzip
from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from .comments import html, locale, reading
from .errors import APIError
from .hosts import base_url
from .web import conditional

bp = Blueprint("assets", __name__, template_folder="templates")
log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
STRING_TABLES = ("widget", "account", "live", "report", "errors")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    mimetype: str


def compact_js(source: bytes) -> bytes:
    """The script as served: comments and whitespace out, local names shortened (tdewolff/minify;
    "js-version" 2022 lets it keep the modern syntax the widget is written in as it is)."""
    # Imported here, in the serving process: importing it starts a Go runtime, which does not
    # survive fork(); loaded in gunicorn's master (`widget-server serve` builds an app there to
    # migrate), it left the workers' minify calls hanging at random.
    import minify

    minify.config({"js-version": 2022})  # the module's settings are global: set before each use
    try:
        return minify.string("application/javascript", source.decode("utf-8")).encode("utf-8")
    except minify.MinifyError:
        # Its parser refuses a few rare forms (a one-letter shorthand in a destructured parameter,
        # 2.24): serve the script unrenamed rather than not at all; tests/test_widget_asset.py
        # checks that every script in static/ minifies, so this is for a hand edit in production.
        log.exception("could not minify a script; served with comments and whitespace removed only")
        return rjsmin.jsmin(source.decode("utf-8")).encode("utf-8")


_cache: dict[tuple, tuple[object, Asset]] = {}
_locks: dict[tuple, threading.Lock] = {}  # one per asset: a request waits only for its own file
_locks_lock = threading.Lock()


def _new_locks_after_fork() -> None:
    # gunicorn forks its workers from a master that may be warming the cache right
    # then: a child would inherit a lock held by a thread it does not have, and
    # every request for that asset would wait forever. Each child starts with free locks.
    global _locks_lock
    _locks_lock = threading.Lock()
    _locks.clear()


os.register_at_fork(after_in_child=_new_locks_after_fork)


def _cached(key: tuple, stamp: object, build) -> Asset:
    """The asset for key, built again when its stamp (mtimes, language list) changes. A request
    that arrives while the warm-up thread builds the same asset waits for it, not builds twice;
    one for another asset does not wait at all (one lock for all made a request wait behind the
    whole warm-up under load: the warm-up thread took the lock again before the waiter woke)."""
    hit = _cache.get(key)
    if hit and hit[0] == stamp:
        return hit[1]
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        hit = _cache.get(key)
        if not (hit and hit[0] == stamp):
            hit = _cache[key] = (stamp, build())
    return hit[1]


def _asset(body: bytes, mimetype: str) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body, zopfli.gzip.compress(body), f'"{digest}"', mimetype)


languages = locale.available


def _load(static_dir: Path, name: str, mimetype: str) -> Asset:
    path = static_dir / name

    def build() -> Asset:
        body = path.read_bytes()
        if mimetype == "text/javascript":
            body = compact_js(body)
        return _asset(body, mimetype)

    return _cached((path, mimetype), path.stat().st_mtime_ns, build)


def _load_strings(static_dir: Path, lang: str, table: str) -> Asset:
    """One table of static/i18n/LANG.json as compact JSON; 404 (the error shape) if there is none.
    ``lang`` exactly as the file is named (the widget asks by its own list)."""
    path = static_dir / "i18n" / f"{lang}.json"
    missing = APIError(404, "not_found", f"no {table} strings for the language {lang!r}",
                       headers={"Access-Control-Allow-Origin": "*"})
    if table not in STRING_TABLES or not locale.TAG.fullmatch(lang) or not path.is_file():
        raise missing

    def build() -> Asset:
        data = json.loads(path.read_bytes())
        strings = data.get(table) if isinstance(data, dict) else None
        if not isinstance(strings, dict):
            raise missing
        body = json.dumps(strings, ensure_ascii=False, separators=(",", ":")).encode()
        return _asset(body, "application/json")

    return _cached((path, table), path.stat().st_mtime_ns, build)


def _static_dir() -> Path:
    return Path(current_app.config.get("STATIC_DIR") or STATIC_DIR)


def respond(asset: Asset) -> Response:
    headers = {"Cache-Control": WIDGET_CACHE_CONTROL, "Access-Control-Allow-Origin": "*",
               "Cross-Origin-Resource-Policy": "cross-origin", "X-Content-Type-Options": "nosniff"}
    return conditional(asset.body, asset.etag, asset.mimetype, headers, lambda: asset.gzipped)


def serve(name: str, mimetype: str) -> Response:
    return respond(_load(_static_dir(), name, mimetype))


def warm(static_dir: Path) -> None:
    """Build and compress what a reader downloads first: the widget, then the language tables.
    Run by each gunicorn worker after it starts (ops/gunicorn_conf.py ``post_worker_init``), in a
    thread of its own: never in a process that forks later, nor in a CLI command."""
    try:
        _load(static_dir, "widget.js", "text/javascript")
        for lang in languages(static_dir):
            for table in STRING_TABLES if lang != "en" else ("errors",):
                _load_strings(static_dir, lang, table)
        _load(static_dir, "widget-account.js", "text/javascript")
    except Exception:  # a broken file is reported when it is asked for; warming is a nicety
        log.warning("could not prepare the widget's files ahead of the first request", exc_info=True)


# The widget and the ES modules it imports on demand, each served minified (compact_js):
# file name -> what it is.
SCRIPTS = {
    "widget.js": "The widget: the one script a site owner's page includes.",
    "widget-account.js": "Sign-in, sign-up and account panels: imported on demand.",
    "widget-pow.js": "The proof-of-work solver: imported when a reader starts writing.",
    "widget-report.js": "The form of a reader's report: imported on the first \"Report\".",
    "widget-errors.js": "Errors worded from their codes in the reader's language: imported on the first "
                        "error of a reader whose language is not English.",
    "widget-live.js": "Live updates of an open thread (docs/live.md): imported once the thread shows.",
    "widget-react.js": "The reaction picker (issue 19): imported on the first \"Add a reaction\".",
    "widget-edit.js": "Editing and deleting one's own comment: imported on the first press.",
}


def _script_view(name: str, meaning: str):
    def view():
        return serve(name, "text/javascript")

    view.__name__ = view.__qualname__ = name.replace("-", "_").replace(".", "_")  # widget_edit_js
    view.__doc__ = meaning
    return view


for _name, _meaning in SCRIPTS.items():
    bp.add_url_rule(f"/{_name}", view_func=_script_view(_name, _meaning), methods=["GET"])


@bp.get("/widget-i18n/<lang>.json")
def widget_strings(lang: str):
    """The widget's strings in one language other than English, fetched alongside the thread."""
    return respond(_load_strings(_static_dir(), lang, "widget"))


@bp.get("/widget-i18n/<table>/<lang>.json")
def widget_table_strings(table: str, lang: str):
    """One more table of a language (account, live, report, errors), fetched by the part that
    shows it: the account panels, live updates, the report form, the first error."""
    # The widget's own table has its own address, /widget-i18n/LANG.json.
    return respond(_load_strings(_static_dir(), lang, table if table != "widget" else "-"))


# Our own pages (the demo, the moderation page): no inline script or style anywhere.
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# /comments.css: the widget's own stylesheet (the CSS inside widget.js, one copy), nested under
# .widget-server so it styles the server's markup of a thread (comments/html.py) and nothing else
# on the page, plus the few rules for what only the server's markup has: links where the widget
# has buttons (sort, reply, more), the like count, the /t page itself.
_CSS = re.compile(r"const CSS = `(.*?)`;", re.S)
_DARK = re.compile(r"const DARK = (.*?);\n", re.S)
_JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
SERVER_MARKUP_CSS = """
.so a{display:inline-flex;align-items:center;border-radius:99px;padding:3px 12px;min-height:30px;
color:var(--mu);font-size:.875em;text-decoration:none}
.so [aria-current=true]{background:var(--sf);color:var(--fg);font-weight:600}
.ac .lk,.ac a{border-radius:99px;padding:2px 10px;min-height:32px;font-weight:600;display:inline-flex;
align-items:center;gap:5px;color:inherit;text-decoration:none}
.ac a:hover{background:var(--sf);color:var(--fg)}
a.b{display:block;width:fit-content;text-align:center;text-decoration:none;color:var(--fg)}
input[type=hidden]{display:none}
.ws-gap{min-height:32px}
"""
PAGE_CSS = """
.ws-page{margin:0 auto;max-width:48rem;padding:16px;font:16px/1.6 system-ui,sans-serif}
.ws-notice,.ws-error{padding:10px 14px;border-radius:10px;background:#f3f5f7;
border-inline-start:4px solid #116329}
.ws-error{border-color:#b42318;color:#b42318;font-weight:600}
"""


def server_markup_css(widget_source: str) -> str:
    dark = "".join(_JS_STRING.findall(_DARK.search(widget_source).group(1)))
    css = _CSS.search(widget_source).group(1).replace("${DARK}", dark)
    return ".widget-server{" + css + SERVER_MARKUP_CSS + "}" + PAGE_CSS


def _comments_css(static_dir: Path) -> Asset:
    path = static_dir / "widget.js"
    return _cached((path, "comments.css"), path.stat().st_mtime_ns,
                   lambda: _asset(server_markup_css(path.read_text("utf-8")).encode(), "text/css"))


@bp.get("/comments.css")
def comments_css():
    """The widget's look for the server's markup: the fragment in an article, the /t page."""
    return respond(_comments_css(_static_dir()))


DEMO_CSP = STRICT_CSP.replace("form-action 'none'", "form-action 'self'")  # the thread's plain form


@bp.get("/demo")
def demo():
    """The article with its thread included on the server (as an SSI or a template would include
    /api/v1/comments.html) and taken over by the widget; ``?nojs``: the same without the script."""
    theme = request.args.get("theme") if request.args.get("theme") in html.THEMES else "auto"
    lang = locale.language(request.args.get("lang"))
    url = base_url() + "/demo"
    view = html.View(html.FRAGMENT, url, lang=lang, theme=theme)
    fragment = Markup(html.render(view).body(reading.form_token(url)).decode())  # noqa: S704 - our own render
    # The byline's count is drawn here too (the widget keeps it current), so a reader without
    # scripts sees a number as well.
    count = locale.words(lang).count(reading.counts([url]).get(url, 0))
    page = render_template("demo.html", theme=theme, lang=lang, fragment=fragment, count=count,
                           nojs="nojs" in request.args, noscript_link=html.thread_link(view))
    response = Response(page, mimetype="text/html")
    # The demo is held to the same strict policy we promise site owners works.
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


@bp.get("/demo.css")
def demo_css():
    return serve("demo.css", "text/css")


@bp.get("/")
def index():
    return Response(render_template("index.html"), mimetype="text/html")
