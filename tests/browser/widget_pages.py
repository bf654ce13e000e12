"""Fixtures and helpers for the widget's browser tests.

Not a ``conftest.py`` on purpose: a second module named ``conftest`` would take
the place of ``tests/conftest.py`` in ``sys.modules`` and break every
``from conftest import ...`` in the suite. Test modules import from here.

- ``widget_site``: the comment server on 127.0.0.1 (its own SQLite database),
  with the anti-spam timing rules relaxed so a test may post at once.
- ``held_site``: the same with ``MODERATION=all``, for the 202 path.
- ``closed_site``: the same, but only ``https://blog.example`` may embed it: the host pages'
  origin is refused, as on a site owner's page before WIDGET_ALLOWED_ORIGINS lists it.
- ``hosts``: a second origin (``localhost`` on another port) serving host pages
  that embed the widget exactly as a site owner would, each with the CSP the
  test asks for.
"""
from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect
from support.app import LiveServer, base_config, migrate_database
from support.pow import solved
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# The fixtures, for `from widget_pages import *` in test modules; helpers are imported by name.
__all__ = ["base_url", "closed_site", "console_errors", "held_site", "hosts", "widget_site"]

AXE_JS = Path(__import__("axe_playwright_python").__file__).with_name("axe.min.js")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RELAXED_SPAM = {"SPAM_MIN_SECONDS": 0, "SPAM_DUPLICATE_WINDOW": 0, "SPAM_MAX_LINKS": 10_000}
# Every page opens an event stream (widget-live.js): the test server (a thread per request, not
# gunicorn) may hold 32 of them, and a closed page's stream ends at the next heartbeat.
LIVE_STREAMS = {"THREADS": 64, "STREAMS_HEARTBEAT": 1, "STREAMS_PER_CLIENT": 32}  # every page is 127.0.0.1


def _start(tmp_path_factory, name: str, port: int = 0, **overrides) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{instance / 'widget.db'}"
    migrate_database(url, instance)
    app = create_app_for(url, instance, **overrides)
    server = LiveServer(app, port).start()
    yield server
    server.stop()


def create_app_for(url: str, instance: Path, **overrides):
    from widget_server import create_app

    return create_app(base_config(url, instance, **{"ALLOWED_ORIGINS": ["*"], **RELAXED_SPAM, **LIVE_STREAMS,
                                                    **overrides}))


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright's fallback fixture, a method that pytest 9 warns about."""
    return None


@pytest.fixture(scope="session")
def widget_site(tmp_path_factory):
    yield from _start(tmp_path_factory, "widget-site")


@pytest.fixture(scope="session")
def held_site(tmp_path_factory):
    yield from _start(tmp_path_factory, "held-site", MODERATION="all")


@pytest.fixture(scope="session")
def closed_site(tmp_path_factory):
    yield from _start(tmp_path_factory, "closed-site", ALLOWED_ORIGINS=["https://blog.example"])


# --- host pages on a second origin ---------------------------------------------------------


@dataclass
class HostPages:
    """Pages served from ``http://localhost:PORT`` (the API is on 127.0.0.1: another origin)."""

    pages: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=itertools.count)
    origin: str = ""

    def add(self, body: str, *, csp: str | None = None, head: str = "", path: str | None = None,
            lang: str | None = "en") -> str:
        """``lang``: the page's <html lang> (None: none), which the widget follows unless data-lang."""
        path = path or f"/article-{next(self.counter)}"
        html = (f"<!doctype html><html{f' lang={lang!r}' if lang else ''}><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>Host page {path}</title>{head}</head><body>{body}</body></html>")
        self.pages[path] = (html, csp)
        return self.origin + path

    def article(self, api: str, *, attrs: str = "", csp: str | None = None, head: str = "",
                before: str = "", path: str | None = None, lang: str | None = "en", src: str = "") -> str:
        """An article page with the widget embedded as API.md's snippet says (``src``: the
        script's address when it is not the server's own /widget.js)."""
        src = src or api + "/widget.js"
        body = (f"<main><h1>An article</h1><p>Some text worth discussing.</p>{before}"
                f"<div id='comments'></div><script src='{src}' async {attrs}></script></main>")
        return self.add(body, csp=csp, head=head, path=path, lang=lang)

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/host.css":
            return Response(HOSTILE_CSS, mimetype="text/css")(environ, start_response)
        html, csp = self.pages.get(request.path, (None, None))
        if html is None:
            return Response("not found", status=404)(environ, start_response)
        response = Response(html, mimetype="text/html")
        if csp:
            response.headers["Content-Security-Policy"] = csp
        return response(environ, start_response)


@pytest.fixture(scope="session")
def hosts() -> Iterator[HostPages]:
    pages = HostPages()
    server = make_server("127.0.0.1", 0, pages, threaded=True)
    pages.origin = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages
    server.shutdown()


# A stylesheet written to break embedded widgets: inherited properties, universal
# selectors with !important, element selectors, custom-property name clashes.
HOSTILE_CSS = """
:root { font-size: 7px; --bg: red; --fg: lime; --ac: yellow; }
html, body { color: #f0f !important; font: italic 900 31px/4 "Comic Sans MS", cursive !important;
  letter-spacing: 6px !important; word-spacing: 20px !important; text-transform: uppercase !important;
  text-align: right !important; text-indent: 50px !important; text-shadow: 2px 2px red !important;
  visibility: visible; cursor: wait !important; white-space: pre !important; direction: rtl; }
* { box-sizing: content-box !important; }
div, p, ol, li, section, span, a, button, textarea, input, form, label, h2, time, svg {
  background: #0f0 !important; border: 9px dotted blue !important; margin: 40px !important;
  padding: 33px !important; display: inline !important; float: left !important;
  font-family: "Comic Sans MS" !important; color: orange !important; }
button { all: unset !important; background: black !important; }
#comments { color: #0ff; font-size: 40px; line-height: 9; }
"""


# --- page helpers --------------------------------------------------------------------------


def hook_dialogs(page: Page) -> None:
    """Record any alert/confirm/prompt/print call (an XSS would make one)."""
    page.add_init_script("""
      window.__xss = [];
      for (const name of ["alert", "confirm", "prompt", "print"]) {
        window[name] = (...args) => { window.__xss.push([name, String(args[0])]); };
      }
    """)


class Watch:
    """Page errors and console errors on a page (a failed fetch's own log line is expected)."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        self.requests: list = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request))

    def _console(self, msg) -> None:
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def api_calls(self, fragment: str) -> list:
        return [r for r in self.requests if "/api/v1/" + fragment in r.url]


def widget(page: Page) -> Locator:
    """The widget's root inside its shadow root (Playwright's CSS pierces open shadow roots)."""
    return page.locator("#comments section.ws")


def comment(page: Page, number: int) -> Locator:
    return page.locator(f"#comments li#comment-{number}")


def open_with_stream(page: Page, url: str) -> Locator:
    """Open ``url`` and wait until its widget's event stream is open (the server has answered
    it, so a change made now reaches the page), then until the thread has rendered."""
    with page.expect_response(lambda r: "/api/v1/events?" in r.url and r.status == 200, timeout=20_000):
        page.goto(url)
    return loaded(page)


def loaded(page: Page) -> Locator:
    """Wait until the thread has rendered (the form or the closed notice is there)."""
    root = widget(page)
    expect(root.locator("form, .nt").first).to_be_visible()
    return root


def run_axe(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def assert_no_axe_violations(page: Page) -> None:
    """axe through Playwright's evaluate, which a page's CSP does not stop (/admin allows no
    inline script: ``run_axe``'s script tag would be refused there)."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """What the page logs as an error or throws, from the moment the fixture is asked for."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def seed(site: LiveServer, url: str, text: str = "A comment", **fields) -> dict:
    """Post one comment through the real API (the test client of the served app)."""
    response = site.app.test_client().post("/api/v1/comments", json={"url": url, "text": text, **fields})
    assert response.status_code in (201, 202), response.get_json()
    return response.get_json()


def post_raw(site: LiveServer, body: dict) -> int:
    """Post the body as raw JSON bytes (with a solved proof of work, as the widget sends)."""
    client = site.app.test_client()
    body = {**body, "altcha": solved(client)}
    return client.post("/api/v1/comments", data=json.dumps(body), content_type="application/json").status_code
