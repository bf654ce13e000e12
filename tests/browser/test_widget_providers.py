"""Provider sign-in in the widget, in Debian's Chromium (issue 18): a real OpenID provider
(oidc-provider on Node.js) and the Mastodon stand-in, through the popup and postMessage.
The comment server and the host page set no cookie (the provider's own pages keep theirs)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from support.accounts import free_port
from support.oidc_provider import OpenIDProvider, StandIn
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import _start, comment, loaded, run_axe, widget

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stand_in():
    found = StandIn().start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def provider_site(tmp_path_factory, hosts, stand_in):
    import json

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    provider = OpenIDProvider([f"{public}/auth/oidc/test/callback"])
    try:
        yield from _start(
            tmp_path_factory,
            "provider-site",
            port,
            PUBLIC_URL=public,
            ACCOUNTS=True,
            OUTBOX_THREAD=False,
            ALLOWED_ORIGINS=[hosts.origin],
            OIDC_ALLOW_PRIVATE=True,
            OIDC_PROVIDERS=json.dumps([provider.entry(), {"name": "mastodon"}]),
        )
    finally:
        provider.stop()


@pytest.fixture
def no_cookies(page: Page, provider_site, hosts):
    """Every answer of the comment server and of the host page, checked for Set-Cookie."""
    seen = []

    def record(response):
        if response.url.startswith((provider_site.url, hosts.origin)):
            seen.append((response.url, response.header_value("set-cookie")))

    page.context.on("response", record)
    yield
    assert seen and [url for url, cookie in seen if cookie] == []


def top_form(page: Page):
    return widget(page).locator(":scope > div > form")


def open_panel(page: Page):
    top_form(page).locator("[data-action=account]").click()  # "Sign in", or "Account" when signed in
    return widget(page).locator("section.pn")


def provider_login(window: Page, login: str = "ann") -> None:
    """oidc-provider's own development pages: the login form, then consent; our result page then
    posts the session to the opener and closes the window."""
    window.locator("input[name=login]").fill(login)
    window.locator("input[name=password]").fill("anything")
    window.get_by_role("button", name="Sign-in").click()
    with window.expect_event("close"):
        window.get_by_role("button", name="Continue").click()


def test_a_reader_signs_in_through_the_popup_posts_with_the_mark_and_signs_out(
    page: Page, provider_site, hosts, no_cookies
):
    page.goto(hosts.article(provider_site.url))
    loaded(page)
    box = open_panel(page)
    expect(box).to_contain_text("Or sign in with")
    expect(box.get_by_role("button", name="Test ID")).to_be_visible()
    assert run_axe(page) == []  # the panel with its provider buttons and the instance field
    with page.expect_popup() as opened:
        box.get_by_role("button", name="Test ID").click()
    window = opened.value
    provider_login(window)
    form = top_form(page)
    expect(form.locator("[part=account]")).to_contain_text("Ann Example")
    expect(box).to_be_hidden()
    form.get_by_label("Your comment").fill("Signed in with my provider")
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 1).locator("[part=verified]")).to_have_attribute(
        "title", "Verified via Test ID, @ann"
    )
    stored = page.evaluate("JSON.parse(localStorage.getItem('widget-server:session'))")
    assert stored["user"]["identities"][0]["provider"] == "test"

    box = open_panel(page)
    box.get_by_role("button", name="Sign out").click()
    expect(form.get_by_label("Name")).to_be_visible()
    assert page.evaluate("localStorage.getItem('widget-server:session')") == "null"


def test_a_blocked_popup_offers_a_link_that_reports_back_the_same_way(
    page: Page, provider_site, hosts, no_cookies
):
    page.add_init_script("window.open = () => null")  # as a popup blocker answers
    page.goto(hosts.article(provider_site.url))
    loaded(page)
    box = open_panel(page)
    box.get_by_role("button", name="Test ID").click()
    expect(box).to_contain_text("Your browser blocked the sign-in window.")
    link = box.get_by_role("link", name="Open the sign-in page")
    expect(link).to_have_attribute("target", "_blank")
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    provider_login(tab)
    expect(top_form(page).locator("[part=account]")).to_contain_text("Ann Example")


def test_a_page_of_another_origin_hears_nothing(page: Page, provider_site, hosts):
    """A page on another origin opens the sign-in for the allowed origin: the session is posted to
    the allowed origin only, so the browser never hands it to this page; asking for its own origin
    is refused by the server."""
    other = hosts.add("<p>elsewhere</p>").replace("//localhost:", "//127.0.0.1:")
    page.goto(other)
    page.evaluate("window.heard = []; addEventListener('message', (e) => window.heard.push(e.data))")
    start = f"{provider_site.url}/auth/oidc/test/start?origin={hosts.origin}"
    with page.expect_popup() as opened:
        page.evaluate("url => window.open(url, 'x', 'popup')", start)
    window = opened.value
    provider_login(window)
    assert page.evaluate("window.heard") == []

    mine = page.url.split("/article")[0]
    with page.expect_popup() as opened:
        page.evaluate(
            "url => window.open(url, 'y', 'popup')", f"{provider_site.url}/auth/oidc/test/start?origin={mine}"
        )
    expect(opened.value.get_by_role("heading", level=1)).to_have_text("Sign-in did not work")
    expect(opened.value.get_by_role("main")).to_contain_text("WIDGET_ALLOWED_ORIGINS")
    assert page.evaluate("window.heard") == []


def test_a_reader_signs_in_with_mastodon_then_links_the_openid_provider(
    page: Page, provider_site, hosts, stand_in, no_cookies
):
    page.goto(hosts.article(provider_site.url))
    loaded(page)
    box = open_panel(page)
    box.get_by_label("Your instance (e.g. mastodon.social)").fill(stand_in.url)
    with page.expect_popup() as opened:
        box.get_by_role("button", name="Mastodon").click()
    if not opened.value.is_closed():  # the stand-in approves at once: it may be closed already
        opened.value.wait_for_event("close")
    form = top_form(page)
    expect(form.locator("[part=account]")).to_contain_text("Ann on Mastodon")

    box = open_panel(page)
    box.get_by_text("Ways to sign in").click()
    ways = box.locator("details ul")
    expect(ways).to_contain_text("mastodon @ann@")
    with page.expect_popup() as opened:
        box.get_by_role("button", name="Test ID").click()
    provider_login(opened.value, "mary")  # (ann's Test ID account has an account of its own already)
    expect(box).to_be_hidden()  # linked: the session came back and the panel closed
    box = open_panel(page)
    box.get_by_text("Ways to sign in").click()
    ways = box.locator("details ul")
    expect(ways.locator("li")).to_have_count(2)
    ways.get_by_role("button", name="Remove").first.click()
    expect(ways.locator("li")).to_have_count(1)
    ways.get_by_role("button", name="Remove").click()  # the last way in
    expect(box.locator("details ul + .er")).to_contain_text("only way into the account")
    expect(ways.locator("li")).to_have_count(1)
