"""Threads rendered on the server, in Debian's Chromium (docs/server-rendering.md): a reader without
JavaScript reads and posts on the demo; the widget takes the server's markup over without a request
for the first page, without a jump (Cumulative Layout Shift measured) and without an id twice; the
fragment and the page are valid HTML (the W3C Nu checker) and pass axe-core; the shared XSS payloads
execute nothing in the fragment, the page or the widget that took the fragment over."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from support import factories, vnu
from support.app import LiveServer, migrate_database
from support.processes import free_port
from support.xss import payloads
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import create_app_for, hook_dialogs, post_raw, run_axe, seed

TOP_LEVEL = 50  # the demo's first page: WIDGET_PAGE_SIZE's default
CLS_LIMIT = 0.05
# Every layout shift of the page, from its first paint (the observer is buffered). Scroll anchoring
# is off (as in Safari, which has none): it would hide a jump above the reader by scrolling along.
SHIFTS = """window.__shifts = [];
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.style.overflowAnchor = "none";
});
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts.push(entry.value);
}).observe({type: "layout-shift", buffered: true});"""
TAKE_OVER = """(lang) => { const script = document.createElement("script");
  script.src = "/widget.js"; script.dataset.theme = "auto"; script.dataset.lang = lang;
  document.querySelector("#comments").after(script); }"""


def _demo_site(tmp_path_factory, name: str, **settings):
    """A server with the demo's thread: 50 top-level comments, some with replies and links."""
    instance = tmp_path_factory.mktemp(name)
    url = f"sqlite:///{instance / 'widget.db'}"
    migrate_database(url, instance)
    port = free_port()
    if settings.get("SMTP_URL"):  # links in mail need the server's address
        settings["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    server = LiveServer(create_app_for(url, instance, **settings), port).start()
    demo = server.url + "/demo"
    for n in range(TOP_LEVEL):
        made = seed(server, demo, f"Comment {n}: **water** less, " * (1 + n % 3),
                    author=f"Reader {n}", website="https://reader.example/" if n % 4 == 0 else None)
        if n % 5 == 0:
            seed(server, demo, f"A reply to {n}, see https://plants.example/",
                 parent_id=made["comment"]["id"])
    return server


# Where the thread's parts are on the page, in the server's markup or, once taken over, in the
# widget's shadow root. Layout-shift entries cannot see these (the widget's nodes are new nodes,
# so the browser counts them as appearing, not moving): positions are compared one by one.
BOXES = """() => {
  const host = document.querySelector("#comments");
  const root = host.shadowRoot && host.shadowRoot.querySelector("section") ? host.shadowRoot : host;
  const boxes = {};
  const put = (name, el) => { if (el) { const r = el.getBoundingClientRect();
    boxes[name] = [Math.round(r.top), Math.round(r.left), Math.round(r.height), Math.round(r.width)]; } };
  put("header", root.querySelector(".hd")); put("text", root.querySelector("form textarea"));
  put("post", root.querySelector("form .bar .p")); put("list", root.querySelector("section > ol"));
  for (const item of root.querySelectorAll("li.c")) put(item.id, item.firstElementChild);
  return boxes;
}"""


@pytest.fixture(scope="module")
def ssr_site(tmp_path_factory):
    server = _demo_site(tmp_path_factory, "ssr-site")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def accounts_site(tmp_path_factory):
    """Reader accounts and reply notifications on: the widget's form has a sign-in row and a
    "Notify me" box, which the fragment must make room for (mail is only queued, never sent)."""
    server = _demo_site(tmp_path_factory, "ssr-accounts-site", ACCOUNTS="true", OUTBOX_THREAD=False,
                        SMTP_URL="smtp://127.0.0.1:9?from=comments@blog.example")
    yield server
    server.stop()


def shadow_ids(page: Page) -> list[str]:
    return page.evaluate("[...document.querySelector('#comments').shadowRoot.querySelectorAll('[id]')]"
                         ".map((el) => el.id)")


# --- readers without JavaScript ---------------------------------------------------------------


def test_without_javascript_the_demo_shows_the_first_page_and_a_held_post_then_shown(browser, ssr_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(ssr_site.url + "/demo")
    thread = page.locator("#comments section.ws")
    expect(thread.locator(":scope > ol > li.c")).to_have_count(TOP_LEVEL)
    expect(thread.locator("h2")).to_contain_text(re.compile(r"Discussion \d+ comments"))
    for number in (1, 2, 30, 60):
        expect(page.locator(f"#comment-{number} > div > .bd")).to_be_visible()

    page.locator("#comment-1 > div > .ac a", has_text="Reply").click()
    expect(page).to_have_url(re.compile(r"/t\?url=.*reply=1"))
    form = page.locator("form#post")
    expect(form.get_by_label("Reply to #1")).to_be_visible()
    form.get_by_label("Reply to #1").fill("Posted without any script at all")
    form.get_by_label("Name").fill("Nina No-Script")
    form.get_by_role("button", name="Post comment").click()
    expect(page.locator(".ws-notice")).to_have_text(
        "Thank you! Your comment will appear once it is approved.")
    assert "Posted without any script" not in page.content()

    with ssr_site.app.app_context():
        token = factories.admin_token()
    admin = ssr_site.app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    queue = admin.get("/api/v1/admin/comments", query_string={"state": "pending"}, headers=auth).json
    held = [c for c in queue["comments"] if c["author"]["name"] == "Nina No-Script"]
    assert len(held) == 1 and held[0]["text"] == "Posted without any script at all"
    approve = admin.post(f"/api/v1/admin/comments/{held[0]['id']}/approve", headers=auth, json={})
    assert approve.status_code == 200

    page.goto(ssr_site.url + "/demo")
    reply = page.locator("#comment-1 ol.r li.c", has_text="Posted without any script at all")
    expect(reply).to_be_visible()
    expect(reply.locator(".au")).to_have_text("Nina No-Script")
    context.close()


# --- the widget takes the server's markup over -----------------------------------------------


@pytest.mark.parametrize(("site", "where", "width"), [
    ("ssr_site", "head", 1280), ("ssr_site", "middle", 1280), ("ssr_site", "middle", 390),
    ("accounts_site", "head", 1280)])
def test_the_widget_takes_over_without_a_request_a_jump_or_an_id_twice(page: Page, request, site, where,
                                                                       width):
    """The page loads as a reader without scripts sees it, the discussion scrolled into view (its
    head with the form, or the middle of the list); then the widget arrives, as an async script
    would, and takes over. Every layout shift from the first paint on is counted.
    """
    ssr_site = request.getfixturevalue(site)
    page.set_viewport_size({"width": width, "height": 900})
    page.add_init_script(SHIFTS)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(ssr_site.url + "/demo?nojs&theme=auto")
    target = "#comments h2" if where == "head" else "#comment-30"
    page.locator(target).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -80)")
    page.wait_for_timeout(200)
    before = page.locator(target).bounding_box()
    boxes = page.evaluate(BOXES)

    page.evaluate(TAKE_OVER, "en")
    expect(page.locator("#comments .widget-server")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)

    cls = sum(page.evaluate("window.__shifts"))
    print(f"take-over, {site}, {where} of the discussion, {width} px wide: CLS {cls:.4f}")  # with -s
    assert cls < CLS_LIMIT, f"Cumulative Layout Shift {cls:.4f}"
    root = page.locator("#comments").locator("section.ws")
    expect(root.locator(":scope > ol > li.c")).to_have_count(TOP_LEVEL)  # pierces the shadow root
    after = page.locator(target).bounding_box()
    assert abs(after["y"] - before["y"]) < 1 and abs(after["height"] - before["height"]) < 1
    # Nothing moved: the header, the form, the list and every comment's box (top, left, height;
    # width too) are where the server's markup had them, to the pixel.
    now = page.evaluate(BOXES)
    assert len(boxes) > TOP_LEVEL and set(now) == set(boxes)
    moved = {name: (boxes[name], now[name]) for name in boxes
             if any(abs(a - b) > 1 for a, b in zip(boxes[name], now[name], strict=True))}
    assert moved == {}, f"{len(moved)} parts moved, e.g. {list(moved.items())[:3]}"

    if site == "accounts_site":  # the rows the fragment made room for are there now
        expect(page.locator("#comments form").first.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.locator("#comments form").first.get_by_label("Notify me of replies")).to_be_visible()
    assert not [url for url in requests if "/api/v1/comments?" in url], "the first page asked for again"
    # The light copy is gone: no comment twice, no id twice.
    assert page.evaluate("document.querySelector('#comments').childNodes.length") == 0
    ids = shadow_ids(page)
    assert len(ids) == len(set(ids)), "an id twice in the widget"
    assert page.evaluate("document.querySelectorAll('[id^=comment-]').length") == 0

    # The instrument works: a block pushed in above what the reader sees is counted.
    page.evaluate("""() => { const block = document.createElement("div"); block.style.height = "300px";
      document.querySelector("#comments").before(block); }""")
    page.wait_for_timeout(300)
    assert sum(page.evaluate("window.__shifts")) > cls + 0.05


def test_the_demo_as_served_takes_over_and_never_asks_for_its_first_page(page: Page, ssr_site):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(ssr_site.url + "/demo")
    page.locator("#comments").scroll_into_view_if_needed()  # the widget starts near the viewport
    expect(page.locator("#comments .widget-server")).to_have_count(0)
    expect(page.locator("#comments section.ws > ol > li.c")).to_have_count(TOP_LEVEL)
    page.wait_for_load_state("networkidle")
    api = [url.split("/api/v1/")[1].split("?")[0] for url in requests if "/api/v1/" in url]
    # No first page: counts (the take-over's "anything newer?" and the byline, one request for
    # both: they ask about the same page) and the live stream (/widget-live.js, issue 15) only.
    assert "comments" not in api and set(api) <= {"counts", "events"}, api
    assert api.count("counts") == 1, api
    expect(page.locator(".byline [data-comments-count]")).to_have_text(re.compile(r"^\d+ comments$"))


def test_a_newer_comment_than_the_fragment_is_brought_in(page: Page, ssr_site, hosts):
    """A fragment built earlier (a static site's build): the widget sees the count moved, reads again."""
    thread = ssr_site.url + "/built-yesterday"
    seed(ssr_site, thread, "Already there when the site was built")
    client = ssr_site.app.test_client()
    fragment = client.get("/api/v1/comments.html", query_string={"url": thread}).text
    seed(ssr_site, thread, "Posted after the build")
    url = hosts.add(f"<div id='comments'>{fragment}</div>"
                    f"<script src='{ssr_site.url}/widget.js' async data-url='{thread}'></script>")
    page.goto(url)
    root = page.locator("#comments section.ws")
    expect(root.locator("li.c .bd", has_text="Posted after the build")).to_be_visible()
    expect(root.locator("li.c")).to_have_count(2)


# --- valid, accessible, inert -----------------------------------------------------------------


def test_fragment_page_and_demo_are_valid_html(ssr_site):
    client = ssr_site.app.test_client()
    demo = ssr_site.url + "/demo"
    fragment = client.get("/api/v1/comments.html", query_string={"url": demo}).text
    documents = {
        "fragment": f"<!doctype html><html lang=en><head><meta charset=utf-8><title>t</title></head>"
                    f"<body>{fragment}</body></html>",
        "page": client.get("/t", query_string={"url": demo}).text,
        "reply": client.get("/t", query_string={"url": demo, "reply": 1, "lang": "ar"}).text,
        "demo": client.get("/demo").text,
    }
    assert vnu.errors(documents) == {name: [] for name in documents}


@pytest.mark.parametrize("path", ["/demo?nojs", "/demo?nojs&theme=dark", "/t?url={demo}"])
def test_axe_finds_no_violations_in_the_fragment_and_the_page(browser, ssr_site, path):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(ssr_site.url + path.format(demo=ssr_site.url + "/demo"))
    expect(page.locator("#comments, .widget-server").first).to_be_visible()
    assert run_axe(page) == []
    context.close()


# Anything that could run: script elements but the inert JSON, frames, event handlers, script URLs.
EXECUTABLE = """(root) => {
  const found = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.tagName;
    if (tag === "SCRIPT" && !(el.type === "application/json" && el.hasAttribute("data-ws-seed"))
        && !el.src.endsWith("/widget.js")) found.push("script");
    if (["IFRAME", "OBJECT", "EMBED", "BASE", "STYLE", "FRAME"].includes(tag)) found.push(tag);
    if ((tag === "LINK" || tag === "META") && !el.hasAttribute("itemprop")) found.push(tag);
    if (tag === "FORM" && !(el.id === "post" || el.getAttribute("part") === "form")) found.push("form");
    for (const a of el.attributes) {
      const value = a.value.replace(/[\\x00-\\x20]/g, "");
      if (/^on/i.test(a.name) || /^(javascript|vbscript|data):/i.test(value)) found.push(tag + " " + a.name);
    }
  }
  return found;
}"""


def test_xss_payloads_execute_nothing_in_fragment_page_or_widget(page: Page, ssr_site, hosts):
    thread = ssr_site.url + "/xss"
    table = payloads()
    anchors = [seed(ssr_site, thread, f"Anchor {n}")["comment"]["id"] for n in range(1 + len(table) // 40)]
    stored = len(anchors)
    for i, item in enumerate(table):
        for target in set(item.targets) - {"uri"}:
            body = {"url": thread, "text": f"payload {i} in {target}", "parent_id": anchors[i // 40]}
            body["text" if target == "body" else target] = item.payload
            status = post_raw(ssr_site, body)
            assert status in (201, 400, 403, 409, 413), (status, item)
            stored += status == 201
    assert stored > len(table), "a good share of the payloads must be stored and rendered"
    client = ssr_site.app.test_client()
    fragment = client.get("/api/v1/comments.html", query_string={"url": thread}).text
    whole_page = client.get("/t", query_string={"url": thread}).text
    pages = {  # served from another origin without any CSP: only the escaping stands between
        "fragment": hosts.add(f"<div id='comments'>{fragment}</div>"),
        "page": hosts.add(whole_page.split("<body class=\"ws-page\">")[1].split("</body>")[0]),
        "widget": hosts.add(f"<div id='comments'>{fragment}</div>"
                            f"<script src='{ssr_site.url}/widget.js' async data-url='{thread}'></script>"),
    }
    hook_dialogs(page)
    for name, url in pages.items():
        page.goto(url)
        if name == "widget":
            expect(page.locator("#comments .widget-server")).to_have_count(0)
            root = "document.querySelector('#comments').shadowRoot"
        else:
            root = "document.body"
        expect(page.locator("#comments li.c, .widget-server li.c")).to_have_count(stored)
        page.mouse.move(300, 300)
        page.wait_for_timeout(300)  # onload/onerror/ontoggle handlers would have fired by now
        assert page.evaluate("window.__xss") == [], name
        assert page.evaluate(f"() => ({EXECUTABLE})({root})") == [], name
