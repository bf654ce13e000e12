"""The moderation page at /admin in Debian's Chromium: sign in, approve, bulk-delete,
keyboard use, zero axe-core violations, and the page's strict CSP."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from support import factories
from widget_pages import *  # noqa: F403 - the fixtures (console_errors, base_url)
from widget_pages import assert_no_axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def base_url() -> None:
    """Pages are opened by full URL; this also replaces pytest-base-url's fixture,
    which pytest 9 deprecates (and warnings are errors here)."""
    return None


@pytest.fixture
def moderated(live_server):
    """The shared live server with WIDGET_MODERATION=all for one test."""
    config = live_server.app.config
    before = config["MODERATION"]
    config["MODERATION"] = "all"
    yield live_server
    config["MODERATION"] = before


@pytest.fixture
def token(live_server) -> str:
    with live_server.app.app_context():
        return factories.admin_token(f"browser-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def api(live_server):
    return live_server.app.test_client()


def page_url(live_server, name: str) -> str:
    return f"{live_server.url}/articles/{name}-{uuid.uuid4().hex[:8]}"


def post(api, url: str, text: str, **fields) -> dict:
    response = api.post("/api/v1/comments", json={"url": url, "text": text, **fields})
    assert response.status_code in (201, 202), response.json
    return response.json


def visible_texts(api, url: str) -> list[str]:
    thread = api.get("/api/v1/comments", query_string={"url": url}).json
    return [c["html"] for c in thread["comments"] if c["state"] == "published"]


def sign_in(page: Page, live_server, token: str) -> None:
    page.goto(f"{live_server.url}/admin")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Held for moderation")).to_be_visible()


def test_sign_in_approve_a_held_comment_and_readers_see_it(page, moderated, token, api, console_errors):
    url = page_url(moderated, "held")
    held = post(api, url, "Please approve me", author="Hopeful")
    assert held["comment"]["state"] == "pending" and visible_texts(api, url) == []

    sign_in(page, moderated, token)
    item = page.locator("#queue-list li.comment", has_text="Please approve me")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Hopeful")
    expect(item.get_by_role("link")).to_have_attribute("href", url)
    item.get_by_role("button", name="Approve comment #1 by Hopeful").click()
    expect(page.locator("#status")).to_have_text(f"Approved comment {held['comment']['id']}.")
    expect(page.locator("#queue-list li.comment", has_text="Please approve me")).to_have_count(0)
    assert visible_texts(api, url) == ["<p>Please approve me</p>"]
    expect(page.locator("#audit-body tr").first).to_contain_text("approve")
    assert console_errors == []


def test_approved_comment_appears_in_the_widget(page, browser, moderated, token, api):
    demo = f"{moderated.url}/demo"
    text = f"Held for the demo {uuid.uuid4().hex[:6]}"
    held = post(api, demo, text)
    page.goto(demo)
    expect(page.get_by_role("heading", name="Discussion")).to_be_visible()
    expect(page.get_by_text(text)).to_have_count(0)
    sign_in(admin := browser.new_page(), moderated, token)
    item = admin.locator("#queue-list li.comment", has_text=text)
    expect(item.locator(".reason")).to_have_text(
        "Why held: every new comment waits for approval (moderation: all)")
    item.get_by_role("button", name="Approve").click()
    expect(admin.locator("#status")).to_have_text(f"Approved comment {held['comment']['id']}.")
    reader = browser.new_page()  # another reader, with nothing cached
    reader.goto(demo)
    expect(reader.get_by_text(text)).to_be_visible()


def test_keyboard_only_moderation(page, moderated, token, api):
    url = page_url(moderated, "keys")
    ids = [post(api, url, f"keyboard {n}")["comment"]["id"] for n in range(3)]
    sign_in(page, moderated, token)
    queue = page.locator("#queue-list")
    expect(queue.locator("li.comment", has_text="keyboard 0")).to_be_visible()
    page.keyboard.press("j")                       # first item: the newest, "keyboard 2"
    expect(page.locator("li.comment.current")).to_contain_text("keyboard 2")
    page.keyboard.press("j")
    expect(page.locator("li.comment.current")).to_contain_text("keyboard 1")
    page.keyboard.press("s")                       # spam "keyboard 1"
    expect(page.locator("#status")).to_have_text(f"Marked as spam comment {ids[1]}.")
    expect(queue.locator("li.comment", has_text="keyboard 1")).to_have_count(0)
    expect(page.locator("li.comment.current")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator("li.comment.current")).to_contain_text("keyboard 2")
    page.keyboard.press("a")
    expect(page.locator("#status")).to_have_text(f"Approved comment {ids[2]}.")
    assert visible_texts(api, url) == ["<p>keyboard 2</p>"]
    # Typing in a field never triggers a shortcut.
    page.keyboard.press("/")
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.type("asd")
    expect(page.locator("#search-q")).to_have_value("asd")
    states = {c["id"]: c["state"] for c in api.get(
        "/api/v1/admin/comments", query_string={"url": url},
        headers={"Authorization": f"Bearer {token}"}).json["comments"]}
    assert states == {ids[0]: "pending", ids[1]: "spam", ids[2]: "published"}


def test_delete_spam_in_bulk(page, live_server, token, api):
    url = page_url(live_server, "spam")
    headers = {"Authorization": f"Bearer {token}"}
    spam = [post(api, url, f"buy pills {n}", homepage="https://bot.example/")["comment"]["id"]
            for n in range(3)]
    keep = post(api, url, "an honest comment")["comment"]["id"]
    sign_in(page, live_server, token)
    page.get_by_label("State").select_option("spam")
    page.get_by_label("Page URL").fill(url)
    page.get_by_role("button", name="Search").click()
    recent = page.locator("#recent-list li.comment")
    expect(recent).to_have_count(3)
    page.get_by_label("Select all shown").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#recent .bulk").get_by_role("button", name="Delete selected").click()
    expect(page.locator("#status")).to_have_text("Deleted: 3 of 3.")
    listed = api.get("/api/v1/admin/comments", query_string={"url": url}, headers=headers).json["comments"]
    assert {c["id"]: c["state"] for c in listed} == {**dict.fromkeys(spam, "deleted"), keep: "published"}
    assert visible_texts(api, url) == ["<p>an honest comment</p>"]


def test_a_bad_token_is_refused_and_the_token_lives_only_in_this_tab(page, live_server, token, context):
    page.goto(f"{live_server.url}/admin")
    page.get_by_label("Admin token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.locator("#app")).to_be_hidden()
    sign_in(page, live_server, token)
    page.reload()
    expect(page.get_by_role("heading", name="Held for moderation")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    other_tab = context.new_page()
    other_tab.goto(f"{live_server.url}/admin")
    expect(other_tab.get_by_label("Admin token")).to_be_visible()
    expect(other_tab.locator("#app")).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_ban_and_lock_from_the_page(page, live_server, token, api):
    url = page_url(live_server, "troll")
    cid = post(api, url, "troll comment", email="troll@example.org")["comment"]["id"]
    sign_in(page, live_server, token)
    item = page.locator("#recent-list li.comment", has_text="troll comment")
    item.get_by_role("button", name="Ban…").first.click()
    expect(page.get_by_label("Comment id")).to_have_value(str(cid))
    page.get_by_label("Ban the author's").select_option("email")
    page.get_by_label("Reason").fill("trolling")
    page.locator("#ban-form").get_by_role("button", name="Ban").click()
    expect(page.locator("#bans-body")).to_contain_text("troll@example.org")
    refused = api.post("/api/v1/comments", json={"url": url, "text": "again", "email": "troll@example.org"})
    assert refused.status_code == 403
    item = page.locator("#recent-list li.comment", has_text="troll comment")
    item.get_by_role("button", name="Lock thread").click()
    expect(page.locator("#status")).to_contain_text("Locked the thread")
    assert api.get("/api/v1/comments", query_string={"url": url}).json["thread"]["locked"] is True
    page.locator("#bans-body").get_by_role("button").first.click()
    expect(page.locator("#bans-body")).not_to_contain_text("troll@example.org")


def test_no_axe_violations_signed_out_and_in(page, moderated, token, api):
    url = page_url(moderated, "axe")
    parent = post(api, url, "a <b>held</b> parent with https://example.org/ link", author="Ann")
    post(api, url, "a held reply", parent_id=parent["comment"]["id"], email="r@example.org")
    page.goto(f"{moderated.url}/admin")
    assert_no_axe_violations(page)
    sign_in(page, moderated, token)
    expect(page.locator("#chart svg")).to_be_visible()
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 380, "height": 800})
    assert_no_axe_violations(page)


def test_the_page_has_a_strict_csp_and_uses_text_not_html(page, live_server, token, api, console_errors):
    url = page_url(live_server, "xss")
    post(api, url, "<img src=x onerror=alert(1)>", author="Evil &amp; \"Co\" onmouseover=alert(2)")
    response = page.goto(f"{live_server.url}/admin")
    csp = response.headers["content-security-policy"]
    directives = {d.strip() for d in csp.split(";")}
    assert directives == {"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                          "img-src 'self' data:", "base-uri 'none'", "form-action 'none'",
                          "frame-ancestors 'none'"}
    assert "unsafe-inline" not in csp
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    sign_in(page, live_server, token)
    item = page.locator("#recent-list li.comment", has_text="<img src=x onerror=alert(1)>")
    expect(item).to_be_visible()
    expect(item).to_contain_text('Evil &amp; "Co" onmouseover=alert(2)')
    assert page.locator("#recent-list img, #recent-list script").count() == 0
    assert console_errors == []  # no CSP violation: nothing inline anywhere


# Every text node of a table cell that is not meant to wrap (everything but the page, the
# ban's value and reason, the audit change) lies on one line: no "Pu/blis/hed", no "m/e".
CELLS_BROKEN_ACROSS_LINES = """() => [...document.querySelectorAll(
    '#threads table th, #threads-body td:not(.wide), #bans table th, #bans-body td:not(.wide),'
    + ' #audit table th, #audit-body td:not(.wide)')].filter((cell) => {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    if (!text.textContent.trim() || text.parentElement.closest('.visually-hidden')) continue;
    const range = document.createRange();
    range.selectNodeContents(text);
    const lines = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top));
    if (new Set(lines).size > 1) return true;
  }
  return false;
}).map((cell) => cell.textContent)"""


def test_tables_fit_a_phone_screen(page, live_server, token, api):
    url = page_url(live_server, "phone") + "?a-long-query-string-that-has-no-natural-break-points=1"
    cid = post(api, url, "a comment read on a phone", email="phone@example.org")["comment"]["id"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post(f"/api/v1/admin/comments/{cid}/spam", json={}, headers=headers).status_code == 200
    assert api.post("/api/v1/admin/bans", headers=headers, json={
        "kind": "email", "comment_id": cid, "reason": "testing the phone layout", "expires_in": 86400,
    }).status_code == 201
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, token)

    row = page.locator("#threads-body tr", has_text=url)
    cells = row.locator("td")
    expect(cells).to_have_count(5)
    for index in range(5):              # the Held column used to be display: none
        expect(cells.nth(index)).to_be_visible()
    expect(cells.nth(2)).to_have_text("0")
    assert cells.nth(2).evaluate("(td) => getComputedStyle(td, '::before').content").startswith('"Held: "')
    lock = row.get_by_role("button", name=f"Lock {url}")
    box = lock.bounding_box()
    assert box["width"] > box["height"], box        # not "L/o/c/k" stacked vertically
    expect(page.locator("#audit-body tr", has_text=f"comment {cid}").first).to_be_visible()
    expect(page.locator("#bans-body tr", has_text="phone@example.org")).to_be_visible()

    assert page.evaluate(CELLS_BROKEN_ACROSS_LINES) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.evaluate("[...document.querySelectorAll('#app button')].filter("
                         "(b) => b.offsetParent && b.getBoundingClientRect().right > 375).length") == 0
    assert_no_axe_violations(page)

    page.set_viewport_size({"width": 1280, "height": 800})     # back to an ordinary table
    expect(page.locator("#threads thead")).to_be_visible()
    assert page.evaluate(CELLS_BROKEN_ACROSS_LINES) == []


def test_reported_comments_are_listed_with_their_reasons(page, live_server, token, api):
    url = page_url(live_server, "reported")
    reported = post(api, url, "Counterfeit watches here")["comment"]["id"]
    post(api, url, "Nobody reports this one")
    for n, (reason, note) in enumerate([("spam", ""), ("illegal", "Sells counterfeit goods")]):
        answer = api.post(f"/api/v1/comments/{reported}/report", json={"reason": reason, "note": note},
                          environ_base={"REMOTE_ADDR": f"198.51.100.{60 + n}"})
        assert answer.status_code == 202
    sign_in(page, live_server, token)
    page.get_by_label("State").select_option("reported")
    page.get_by_label("Page URL").fill(url)
    page.get_by_role("button", name="Search").click()
    recent = page.locator("#recent-list li.comment")
    expect(recent).to_have_count(1)
    expect(recent.first).to_contain_text(
        "Reported by 2 readers: illegal (\u201cSells counterfeit goods\u201d); spam")
