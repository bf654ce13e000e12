"""Signing in with what readers already have, in Debian's Chromium (issue 18): the host site's
own login (data-sso and widgetServer.sso), and the providers' popup (test_widget_providers.py).
No cookie is set anywhere: the session lives in the widget's localStorage."""
from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from playwright.sync_api import Page, expect
from support.accounts import free_port
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import _start, comment, loaded, widget

pytestmark = pytest.mark.browser

SECRET = "the host site's sso secret, 32+ chars"


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory):
    port = free_port()
    yield from _start(tmp_path_factory, "sso-site", port, PUBLIC_URL=f"http://127.0.0.1:{port}",
                      ACCOUNTS=True, SSO_SECRET=SECRET, OUTBOX_THREAD=False)


def sso_token(sub="member-7", name="Ann Member", secret=SECRET, minutes=10) -> str:
    claims = {"sub": sub, "name": name, "exp": int(time.time()) + minutes * 60}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret))


def top_form(page: Page):
    return widget(page).locator(":scope > div > form")


def test_data_sso_signs_the_reader_in_and_the_comment_says_where_from(page: Page, sso_site, hosts):
    url = hosts.article(sso_site.url, attrs=f'data-sso="{sso_token()}"')
    page.goto(url)
    loaded(page)
    form = top_form(page)
    expect(form.locator("[part=account]")).to_contain_text("Ann Member")
    expect(form.get_by_label("Name")).to_be_hidden()  # posting as the account
    form.get_by_label("Your comment").fill("Signed in by the site itself")
    form.get_by_role("button", name="Post comment").click()
    mark = comment(page, 1).locator("[part=verified]")
    expect(mark).to_have_attribute("title", "Verified via the site's own sign-in")
    assert page.context.cookies() == []  # neither the page's origin nor the server's set one

    # The site signs the reader out: the widget forgets its session.
    page.evaluate("widgetServer.sso(null)")
    expect(form.get_by_label("Name")).to_be_visible()


def test_a_page_signs_in_without_a_reload_and_a_bad_token_changes_nothing(page: Page, sso_site, hosts):
    url = hosts.article(sso_site.url)
    page.goto(url)
    loaded(page)
    form = top_form(page)
    expect(form.get_by_label("Name")).to_be_visible()
    with page.expect_console_message(lambda m: "bad signature" in m.text):
        page.evaluate("token => widgetServer.sso(token)",
                      sso_token(secret="another site's secret, 32+ chars"))
    expect(form.get_by_label("Name")).to_be_visible()  # still signed out
    page.evaluate("token => widgetServer.sso(token)", sso_token(sub="member-8", name="Bob Member"))
    expect(form.locator("[part=account]")).to_contain_text("Bob Member")
    expect(form.get_by_label("Name")).to_be_hidden()
