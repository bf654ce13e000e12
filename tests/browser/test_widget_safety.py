"""The widget on hostile ground: strict CSP, hostile CSS, the XSS corpus, axe-core.

The XSS payloads are posted in bulk through the API (most are refused, which is
fine), then rendered once; the test fails if any script ran (dialogs are hooked
before the page loads), if the page logged an error, or if anything executable
reached the widget's DOM.
"""
from __future__ import annotations

import html
import re

import pytest
from playwright.sync_api import Page, expect
from support.xss import TABLE, payloads
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, hook_dialogs, loaded, post_raw, run_axe, seed

pytestmark = pytest.mark.browser

CSP_LISTENER = """
  window.__csp = [];
  document.addEventListener("securitypolicyviolation",
    e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def strict_csp(api: str) -> str:
    return (f"default-src 'none'; script-src 'self' {api}; style-src 'self'; connect-src {api}; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'")


def test_cross_origin_page_with_strict_csp(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, csp=strict_csp(widget_site.url),
                        before="<p><span data-comments-count=''>…</span></p>")
    seed(widget_site, url, "Hello under a strict policy", author="Ann", website="https://ann.example/")
    page.add_init_script(CSP_LISTENER)
    watch = Watch(page)
    page.goto(url)
    root = loaded(page)
    expect(comment(page, 1).locator(".bd")).to_have_text("Hello under a strict policy")
    expect(root).to_have_css("font-family", re.compile("system-ui"))  # the stylesheet applied
    form = root.locator(":scope > div > form")
    form.get_by_label("Your comment").fill("Posted under a strict policy")
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 2).locator(".bd")).to_have_text("Posted under a strict policy")
    expect(page.locator("[data-comments-count]")).to_have_text("2 comments")  # follows its thread
    assert page.evaluate("window.__csp") == []
    assert watch.errors == []


def test_demo_page(page: Page, widget_site):
    page.add_init_script(CSP_LISTENER)
    watch = Watch(page)
    page.goto(widget_site.url + "/demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Houseplants")
    root = loaded(page)
    expect(root.locator("h2")).to_contain_text("Discussion")
    expect(page.locator(".byline [data-comments-count]")).to_have_text(re.compile(r"^\d+ comments?$"))
    assert page.evaluate("window.__csp") == []
    assert watch.errors == []


TYPOGRAPHY = ["font-family", "font-size", "font-style", "font-weight", "color", "background-color",
              "letter-spacing", "word-spacing", "line-height", "text-transform", "text-align", "text-indent",
              "text-shadow", "white-space", "direction", "cursor", "visibility", "border-top-width",
              "margin-top", "padding-top", "display", "box-sizing"]
PROBES = ["section.ws", "h2", ".so button", "form textarea", "form input[name=author]", "form button.p",
          "li.c .au", "li.c .bd p", "li.c time", "li.c .ac button"]


def _styles(page: Page) -> dict:
    return page.evaluate("""([probes, props]) => {
      const root = document.querySelector("#comments").shadowRoot;
      return Object.fromEntries(probes.map(sel => {
        const el = root.querySelector(sel), cs = getComputedStyle(el);
        return [sel, Object.fromEntries(props.map(p => [p, cs.getPropertyValue(p)]))];
      }));
    }""", [PROBES, TYPOGRAPHY])


def test_hostile_page_css_does_not_reach_the_widget_and_the_widget_leaves_the_page_alone(
        page: Page, widget_site, hosts):
    probe = "<p id='probe'>Page text <button id='probe-button'>Page button</button></p>"
    clean = hosts.article(widget_site.url, before=probe)
    hostile = hosts.article(widget_site.url, before=probe, head="<link rel='stylesheet' href='/host.css'>")
    for url in (clean, hostile):
        seed(widget_site, url, "Styled by the widget alone", author="Ann")

    page_style = "el => { const s = getComputedStyle(el); return [s.font, s.color, s.margin, s.padding]; }"
    bare = hosts.add(probe)  # the same page without the widget
    page.goto(bare)
    without_widget = [page.locator(sel).evaluate(page_style) for sel in ("#probe", "#probe-button")]

    page.goto(clean)
    loaded(page)
    expected = _styles(page)
    with_widget = [page.locator(sel).evaluate(page_style) for sel in ("#probe", "#probe-button")]
    assert with_widget == without_widget, "the widget's CSS must not touch the page"

    page.goto(hostile)
    root = loaded(page)
    assert page.locator("#probe").evaluate("el => getComputedStyle(el).textTransform") == "uppercase"
    differences = {sel: {p: (v, expected[sel][p]) for p, v in props.items() if v != expected[sel][p]}
                   for sel, props in _styles(page).items()}
    assert {sel: d for sel, d in differences.items() if d} == {}
    form = root.locator(":scope > div > form")
    form.get_by_label("Your comment").fill("Still usable")
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 2).locator(".bd")).to_have_text("Still usable")


def test_loaded_twice_mounts_once_and_adds_one_documented_global(page: Page, widget_site, hosts):
    script = f"<script src='{widget_site.url}/widget.js' async></script>"
    url = hosts.article(widget_site.url, before=script)
    page.add_init_script("window.__before = Object.getOwnPropertyNames(window);")
    watch = Watch(page)
    page.goto(url)
    loaded(page)
    page.wait_for_load_state("networkidle")
    assert len(watch.api_calls("comments?")) == 1
    expect(page.locator("#comments section.ws")).to_have_count(1)
    added = page.evaluate("Object.getOwnPropertyNames(window).filter(k => !window.__before.includes(k))")
    # One documented global, for pages that sign readers in without a reload (docs/accounts.md).
    assert added == ["__before", "widgetServer"]
    assert page.evaluate("Object.keys(window.widgetServer)") == ["sso"]


# --- XSS -------------------------------------------------------------------------------------

EXECUTABLE = """() => {
  const root = document.querySelector("#comments").shadowRoot, found = [];
  for (const el of root.querySelectorAll("*")) {
    if (["SCRIPT", "IFRAME", "OBJECT", "EMBED", "BASE", "META", "LINK", "STYLE", "FORM"].includes(el.tagName)
        && !(el.tagName === "FORM" && el.getAttribute("part") === "form")) found.push(el.tagName);
    for (const a of el.attributes) {
      const value = a.value.replace(/[\\x00-\\x20]/g, "");
      if (/^on/i.test(a.name) || /^(javascript|vbscript|data):/i.test(value))
        found.push(el.tagName + " " + a.name + "=" + a.value);
    }
  }
  return found;
}"""


def test_xss_payloads_render_inert(page: Page, widget_site, hosts):
    table = payloads()
    thread = hosts.article(widget_site.url)
    anchors = [seed(widget_site, thread, f"Anchor {n}")["comment"]["id"] for n in range(1 + len(table) // 40)]
    accepted = len(anchors)
    names = []
    for i, item in enumerate(table):
        parent = anchors[i // 40]
        for target in item.targets:
            body = {"url": thread, "text": f"payload {i} in {target}", "parent_id": parent}
            if target == "body":
                body["text"] = item.payload
            elif target == "author":
                body["author"] = item.payload
            elif target == "website":
                body["website"] = item.payload
            else:
                body["url"] = item.payload
                body.pop("parent_id")
            status = post_raw(widget_site, body)
            assert status in (201, 400, 403, 409, 413), (status, item)
            if status == 201 and target != "uri":
                accepted += 1
                if target == "author":
                    names.append(" ".join(item.payload.split()))
    assert accepted > len(table), "a good share of the payloads must actually be stored and rendered"

    hook_dialogs(page)
    watch = Watch(page)
    page.goto(thread)
    loaded(page)
    expect(page.locator("#comments li.c")).to_have_count(accepted)
    page.mouse.move(300, 300)
    page.wait_for_timeout(300)  # give onload/onerror/ontoggle handlers a moment to fire
    assert page.evaluate("window.__xss") == []
    assert watch.errors == []
    assert page.evaluate(EXECUTABLE) == []
    rendered = set(page.locator("#comments li.c .au").all_text_contents())
    assert set(names) <= rendered, "names are shown as the literal text the reader typed"

    # Page URLs: as data-comments-count targets on a listing page (one request, no script).
    counts_page = hosts.add("".join(
        f"<p><span data-comments-count=\"{html.escape(item.payload, quote=True)}\">n</span></p>"
        for item in table if "uri" in item.targets) + f"<script src='{widget_site.url}/widget.js'></script>")
    page.goto(counts_page)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") == []
    assert watch.errors == []


def test_own_table_is_varied():
    """The project's table stands on its own when the shared corpus is absent."""
    assert len(TABLE) >= 40
    assert {t for item in TABLE for t in item.targets} == {"body", "author", "website", "uri"}
    assert len({item.payload for item in TABLE}) == len(TABLE)


# --- accessibility -----------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_wcag_violations(page: Page, widget_site, hosts, theme):
    url = hosts.article(widget_site.url, attrs=f"data-theme='{theme}'")
    first = seed(widget_site, url, "A **first** comment with a [link](https://example.org/).",
                 author="Mary", website="https://mary.example/")
    gone = seed(widget_site, url, "Gone soon", author="Temp")
    seed(widget_site, url, "A reply", author="Ben", parent_id=first["comment"]["id"])
    seed(widget_site, url, "A reply to a deleted comment", parent_id=gone["comment"]["id"])
    widget_site.app.test_client().delete(f"/api/v1/comments/{gone['comment']['id']}",
                                         headers={"X-Edit-Token": gone["edit_token"]})
    page.goto(url)
    root = loaded(page)
    form = root.locator(":scope > div > form")
    form.get_by_label("Your comment").fill("My own comment")
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 5)).to_be_visible()  # our own: edit and delete buttons show
    reactions = comment(page, 1).locator(":scope > div").get_by_role("group", name="Reactions")
    reactions.get_by_role("button", name="Add a reaction").click()
    reactions.get_by_role("button", name="👍").click()
    expect(reactions.get_by_role("button", name="👍 1")).to_have_attribute("aria-pressed", "true")
    comment(page, 3).get_by_role("button", name="Add a reaction").click()  # a picker open, too
    comment(page, 1).locator(":scope > div").get_by_role("button", name="Reply").click()
    form.get_by_label("Your comment").fill("Draft to preview")
    form.get_by_role("button", name="Preview").click()
    expect(form.locator(".pv")).to_be_visible()
    form.get_by_label("E-mail").fill("nope")
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".er")).not_to_be_empty()  # an error state is checked too
    page.wait_for_timeout(700)  # the highlight and hover transitions settle
    assert run_axe(page) == []
