"""Reader accounts and reply notifications in the widget, in Debian's Chromium (issue 7).

The comment server runs with accounts on and mail going to a local aiosmtpd
server; the outbox is sent by the test (``send_outbox``), as the worker would.
Links in mail are opened in the browser and their page's button pressed, the
way a reader does it. The host page is on a second origin, as on a real site.
"""
from __future__ import annotations

import re

import argon2
import pytest
from playwright.sync_api import Page, expect
from support.accounts import SMTPServer, free_port, link_with, send_outbox, text_of
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import _start, comment, loaded, run_axe, widget

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse"
POSTED = re.compile(r".*/api/v1/comments$")


@pytest.fixture(scope="module")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def accounts_site(tmp_path_factory, smtp):
    # Links in mail come from WIDGET_PUBLIC_URL (never the request's Host): here, the live server.
    port = free_port()
    yield from _start(tmp_path_factory, "accounts-site", port, PUBLIC_URL=f"http://127.0.0.1:{port}",
                      ACCOUNTS=True, SMTP_URL=smtp.url,
                      OUTBOX_THREAD=False, PASSWORD_HASH_PARAMETERS=argon2.profiles.CHEAPEST)


def top_form(page: Page):
    return widget(page).locator(":scope > div > form")


def panel(page: Page):
    return widget(page).locator("section.pn")


def post(form, page: Page, text: str, label: str = "Your comment") -> dict:
    form.get_by_label(label).fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and POSTED.match(r.url)) as answer:
        form.get_by_role("button", name="Post comment").click()
    assert answer.value.status == 201, answer.value.text()
    return answer.value.json()["comment"]


def mail_to(site, smtp: SMTPServer, address: str, count: int):
    """Send the outbox and return the address's ``count``-th mail (1-based)."""
    send_outbox(site.app)
    mails = smtp.to(address)
    assert len(mails) >= count, [m["Subject"] for m in mails]
    return mails[count - 1]


def press_link(page: Page, url: str, button: str, done: str) -> None:
    """Open a link from a mail in a new tab and press its page's one button."""
    tab = page.context.new_page()
    tab.goto(url)
    tab.get_by_role("button", name=button).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(done)
    tab.close()


def session(page: Page):
    return page.evaluate("JSON.parse(localStorage.getItem('widget-server:session'))")


def test_sign_up_confirm_sign_in_post_sign_out_and_reset(page: Page, accounts_site, hosts, smtp):
    url = hosts.article(accounts_site.url)
    page.goto(url)
    loaded(page)
    form = top_form(page)
    # Signed out: the name fields and a "Sign in" link; the account module is not loaded yet.
    expect(form.get_by_label("Name")).to_be_visible()
    expect(form.get_by_label("Post anonymously")).to_be_hidden()
    sign_in = form.get_by_role("button", name="Sign in")
    with page.expect_response(re.compile(r".*/widget-account\.js$")):
        sign_in.click()
    expect(sign_in).to_have_attribute("aria-expanded", "true")
    box = panel(page)
    expect(box.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(box.get_by_label("E-mail")).to_be_focused()

    # Sign up; the address typed so far goes along to the sign-up view.
    box.get_by_label("E-mail").fill("mary@example.org")
    box.get_by_role("button", name="Create an account").click()
    expect(box.get_by_role("heading", name="Create an account")).to_be_visible()
    expect(box.get_by_label("E-mail")).to_have_value("mary@example.org")
    # No password here: it is chosen on the confirmation link's page, by whoever holds the address.
    expect(box.get_by_label("Password")).to_have_count(0)
    expect(box).to_contain_text("You choose your password on the page the mail's link opens")
    box.get_by_label("Display name").fill("Mary <Smith>")
    box.get_by_role("button", name="Create account").click()
    expect(box.locator(".er")).to_have_text(re.compile(r"^Display name: .*<"))  # in words, next to the form
    expect(box.get_by_label("E-mail")).to_have_value("mary@example.org")  # nothing typed is lost
    box.get_by_label("Display name").fill("Mary Smith")
    box.get_by_role("button", name="Create account").click()
    expect(box.get_by_role("status")).to_contain_text("choose your password there")

    # The mail's link opens the server's page: the password is chosen there, and the account created.
    confirm = link_with(mail_to(accounts_site, smtp, "mary@example.org", 1), "/account/confirm")
    assert confirm.startswith(accounts_site.url)
    tab = page.context.new_page()
    tab.goto(confirm)
    tab.get_by_label("Choose a password").fill(PASSWORD)
    tab.get_by_label("The same password again").fill(PASSWORD + " typo")
    tab.get_by_role("button", name="Create my account").click()
    expect(tab.get_by_role("main")).to_contain_text("The two passwords differ")
    tab.get_by_label("Choose a password").fill(PASSWORD)
    tab.get_by_label("The same password again").fill(PASSWORD)
    tab.get_by_role("button", name="Create my account").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Your account is ready")
    expect(tab.get_by_role("link", name="Back to the page")).to_have_attribute("href", url)
    tab.close()

    # Sign in, in the widget.
    box.get_by_role("button", name="Back to sign in").click()
    expect(box.get_by_label("E-mail")).to_have_value("mary@example.org")
    box.get_by_label("Password").fill(PASSWORD)
    box.get_by_role("button", name="Sign in", exact=True).click()
    expect(box).to_have_count(0)
    expect(form.get_by_label("Your comment")).to_be_focused()
    expect(widget(page).locator("[aria-live]")).to_have_text("Signed in as Mary Smith.")
    expect(form.locator("[part=account]")).to_contain_text("Signed in as Mary Smith")
    expect(form.get_by_label("Name")).to_be_hidden()
    assert session(page)["user"]["display_name"] == "Mary Smith"

    # A post under the account carries the verified mark; its opt-in needs no mail (the account's
    # address is proven), so the widget promises none.
    form.get_by_label("Notify me of replies").check()
    mine = post(form, page, "Posted under my account.")
    form.get_by_label("Notify me of replies").uncheck()
    expect(comment(page, 1).locator(":scope > div .nt")).to_have_count(0)
    assert mine["author"] == {"name": "Mary Smith", "website": None, "avatar": mine["author"]["avatar"],
                              "verified": True}
    first = comment(page, 1).locator(":scope > div .mt")
    expect(first.locator(".au")).to_have_text("Mary Smith")
    expect(first.get_by_role("img", name="Verified")).to_be_visible()

    # "Post anonymously" while signed in: no name, no mark.
    form.get_by_label("Post anonymously").check()
    expect(form.get_by_label("Name")).to_be_visible()
    anonymous = post(form, page, "Posted anonymously while signed in.")
    assert "verified" not in anonymous["author"]
    second = comment(page, 2).locator(":scope > div .mt")
    expect(second.locator(".au")).to_have_text("Anonymous")
    expect(second.locator(".vf")).to_have_count(0)
    form.get_by_label("Post anonymously").uncheck()

    # A stale session token is renewed with the refresh token, by the account module.
    page.evaluate("""() => {
      const s = JSON.parse(localStorage.getItem('widget-server:session'));
      s.token = 'stale'; s.token_expires_at = '2000-01-01T00:00:00Z';
      localStorage.setItem('widget-server:session', JSON.stringify(s));
    }""")
    page.reload()
    loaded(page)
    page.wait_for_function("JSON.parse(localStorage.getItem('widget-server:session')).token !== 'stale'")
    form = top_form(page)
    expect(form.locator("[part=account]")).to_contain_text("Signed in as Mary Smith")
    post(form, page, "Posted after the session was renewed.")
    expect(comment(page, 3).locator(":scope > div .vf")).to_be_visible()

    # Sign out from the account panel: focus returns to "Sign in", the session is forgotten.
    form.get_by_role("button", name="Account").click()
    expect(box.get_by_role("heading", name="Your account")).to_be_focused()
    with page.expect_response(re.compile(r".*/auth/logout$")) as logout:
        box.get_by_role("button", name="Sign out").click()
    assert logout.value.status == 204
    expect(form.get_by_role("button", name="Sign in")).to_be_focused()
    assert session(page) is None
    expect(form.get_by_label("Name")).to_be_visible()

    # Forgot password: the same answer for any address; the mail's link opens the reset page.
    form.get_by_role("button", name="Sign in").click()
    box.get_by_role("button", name="Forgot password?").click()
    expect(box.get_by_role("heading", name="Reset your password")).to_be_visible()
    box.get_by_label("E-mail").fill("mary@example.org")
    box.get_by_role("button", name="Send the link").click()
    expect(box.get_by_role("status")).to_have_text(
        "If this address has an account, a mail with a link is on its way.")
    reset = link_with(mail_to(accounts_site, smtp, "mary@example.org", 2), "/account/reset")
    tab = page.context.new_page()
    tab.goto(reset)
    tab.get_by_label("New password").fill(NEW_PASSWORD)
    tab.get_by_label("The same password again").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Save the new password").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Password changed")
    tab.close()

    # The old password no longer works (said in words, the address kept); the new one does.
    box.get_by_role("button", name="Back to sign in").click()
    expect(box.get_by_label("E-mail")).to_have_value("mary@example.org")
    box.get_by_label("Password").fill(PASSWORD)
    box.get_by_role("button", name="Sign in", exact=True).click()
    expect(box.locator(".er")).to_have_text("Wrong e-mail address or password.")
    expect(box.get_by_label("E-mail")).to_have_value("mary@example.org")
    box.get_by_label("Password").fill(NEW_PASSWORD)
    box.get_by_role("button", name="Sign in", exact=True).click()
    expect(form.locator("[part=account]")).to_contain_text("Signed in as Mary Smith")


def test_reply_notifications_opt_in_and_unsubscribe(page: Page, accounts_site, hosts, smtp):
    url = hosts.article(accounts_site.url)
    page.goto(url)
    loaded(page)
    form = top_form(page)
    # Asking for notifications needs an address: the server says so next to the form.
    form.get_by_label("Notify me of replies").check()
    form.get_by_label("Your comment").fill("Does magnesium help anyone else?")
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".er")).to_contain_text("E-mail: is needed for reply notifications")
    expect(form.get_by_label("E-mail")).to_be_focused()
    form.get_by_label("E-mail").fill("tess@example.org")
    form.get_by_label("Name").fill("Tess")
    question = post(form, page, "Does magnesium help anyone else?")
    mailed = "A confirmation mail is on its way: open its link to get replies."
    expect(comment(page, question["number"]).locator(":scope > div .nt")).to_have_text(mailed)
    posted = f"Your comment #{question['number']} was posted."
    expect(widget(page).locator("[aria-live]")).to_have_text(f"{posted} {mailed}")
    confirm = link_with(mail_to(accounts_site, smtp, "tess@example.org", 1), "/mail/confirm")
    press_link(page, confirm, "Yes, send me replies", "Confirmed")

    # Someone replies, in the widget: Tess hears of it, with a working unsubscribe link.
    number = question["number"]
    comment(page, number).locator(":scope > div").get_by_role("button", name="Reply").click()
    reply_form = comment(page, number).locator("form")
    reply_form.get_by_label("Name").fill("Ben")
    ben = post(reply_form, page, "It helps me, in the evening.", f"Reply to #{number}")
    expect(comment(page, ben["number"]).locator(":scope > div .nt")).to_have_count(0)  # Ben asked for nothing
    notice = mail_to(accounts_site, smtp, "tess@example.org", 2)
    assert "Ben replied to your comment" in text_of(notice)
    unsubscribe = link_with(notice, "/mail/unsubscribe")
    press_link(page, unsubscribe, "Unsubscribe", "Unsubscribed")

    # No more mail about replies to that comment.
    comment(page, number).locator(":scope > div").get_by_role("button", name="Reply").click()
    post(reply_form, page, "Also in the morning.", f"Reply to #{number}")
    send_outbox(accounts_site.app)
    assert len(smtp.to("tess@example.org")) == 2


def test_sign_in_panel_keyboard_and_axe(page: Page, accounts_site, hosts):
    for theme in ("light", "dark"):
        page.goto(hosts.article(accounts_site.url, attrs=f"data-theme='{theme}'"))
        loaded(page)
        form = top_form(page)
        sign_in = form.get_by_role("button", name="Sign in")
        sign_in.focus()
        page.keyboard.press("Enter")
        box = panel(page)
        expect(box.get_by_label("E-mail")).to_be_focused()
        page.keyboard.press("Escape")  # closes, focus back on "Sign in"
        expect(box).to_have_count(0)
        expect(sign_in).to_be_focused()
        expect(sign_in).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        box.get_by_role("button", name="Sign in", exact=True).click()  # empty: an error state too
        expect(box.locator(".er")).not_to_be_empty()
        page.wait_for_timeout(300)
        assert run_axe(page) == [], theme
        box.get_by_role("button", name="Create an account").click()
        assert run_axe(page) == [], theme
        box.get_by_role("button", name="Close").click()
        expect(sign_in).to_be_focused()


def test_panels_speak_the_widget_language_and_fall_back_to_english(page: Page, accounts_site, hosts, smtp):
    events: list[tuple[str, str]] = []
    page.on("request", lambda r: events.append(("request", r.url)))
    page.on("response", lambda r: events.append(("response", r.url)))
    page.goto(hosts.article(accounts_site.url, attrs="data-lang='de'"))
    loaded(page)
    assert not [u for _, u in events if "/account/" in u or "widget-account.js" in u], "on demand only"
    top_form(page).get_by_role("button", name="Anmelden").click()
    box = panel(page)
    expect(box.get_by_role("heading")).to_have_text("Anmelden")
    expect(box.get_by_label("E-Mail")).to_be_focused()
    expect(box.get_by_label("Passwort", exact=True)).to_be_visible()
    expect(box.get_by_role("button", name="Passwort vergessen?")).to_be_visible()
    asked = [u for kind, u in events if kind == "request" and ("/account/" in u or "widget-account.js" in u)]
    wanted = ("/widget-account.js", "/widget-i18n/account/de.json")
    assert sorted(asked) == [accounts_site.url + path for path in wanted]
    module, strings = (accounts_site.url + path for path in wanted)
    assert events.index(("request", strings)) < events.index(("response", module)), "not after the module"

    # Refusals in German too: a wrong password, and a field error under the panel's own label.
    box.get_by_label("E-Mail").fill("niemand@example.org")
    box.get_by_label("Passwort", exact=True).fill("falsch-falsch")
    box.get_by_role("button", name="Anmelden", exact=True).click()
    expect(box.locator(".er")).to_have_text("E-Mail-Adresse oder Passwort ist falsch.")
    box.get_by_role("button", name="Konto erstellen").click()
    panel(page).get_by_label("E-Mail").fill("neu@example.org")
    panel(page).get_by_label("Anzeigename").fill("<b>Neu</b>")
    panel(page).get_by_role("button", name="Konto erstellen").click()
    expect(panel(page).locator(".er")).to_have_text(
        "Anzeigename: Enthält Zeichen, die hier nicht erlaubt sind, etwa < oder >.")
    # The mail it leads to is German as well: the widget sends its language (issue 19).
    panel(page).get_by_label("Anzeigename").fill("Neu")
    with page.expect_response(re.compile(r".*/auth/signup$")) as answer:
        panel(page).get_by_role("button", name="Konto erstellen").click()
    assert answer.value.status == 202 and answer.value.request.post_data_json["lang"] == "de"
    mailed = mail_to(accounts_site, smtp, "neu@example.org", 1)
    assert mailed["Subject"] == "Bestätigen Sie Ihr Kommentarkonto"

    # The account strings fail: the panels are in English, the rest of the widget stays German.
    page.route("**/widget-i18n/account/**", lambda route: route.fulfill(status=404, body="{}"))
    page.reload()
    loaded(page)
    top_form(page).get_by_role("button", name="Anmelden").click()
    expect(panel(page).get_by_role("heading")).to_have_text("Sign in")
    expect(panel(page).get_by_label("Password", exact=True)).to_be_visible()


def test_without_anonymous_posting_the_form_asks_to_sign_in(page: Page, accounts_site, hosts):
    accounts_site.app.config["ANONYMOUS_POSTING"] = False
    try:
        page.goto(hosts.article(accounts_site.url))
        loaded(page)
        form = top_form(page)
        expect(form.locator("[part=account]")).to_have_text(re.compile(r"^Sign in to comment\.\s*Sign in$"))
        expect(form.get_by_label("Name")).to_be_hidden()
        form.get_by_label("Your comment").fill("May I?")
        form.get_by_role("button", name="Post comment").click()
        expect(form.locator(".er")).to_contain_text("Sign in to comment")
        expect(form.get_by_label("Your comment")).to_have_value("May I?")
    finally:
        accounts_site.app.config["ANONYMOUS_POSTING"] = True
