"""The widget in Debian's Chromium: reading, writing, languages, themes, keyboard use.

Every page here is served from a second origin (``hosts``) and embeds the
widget with API.md's snippet; the comments live on ``widget_site``.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, loaded, seed, widget

pytestmark = pytest.mark.browser

POSTED = re.compile(r".*/api/v1/comments$")


def submit(form, page: Page):
    """Click the form's post button and wait for the POST's answer."""
    with page.expect_response(lambda r: r.request.method == "POST" and POSTED.match(r.url)) as answer:
        form.get_by_role("button", name="Post comment").click()
    return answer.value


def top_form(page: Page):
    return widget(page).locator(":scope > div > form")


def test_reads_a_nested_numbered_thread(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    first = seed(widget_site, url, "Magnesium **helps** me.", author="Mary", website="https://mary.example/")
    seed(widget_site, url, "Thanks for your experiences.", author="Mr Confused",
         parent_id=first["comment"]["id"])
    gone = seed(widget_site, url, "Soon deleted", author="Temp")
    seed(widget_site, url, "A reply that stays", parent_id=gone["comment"]["id"])
    client = widget_site.app.test_client()
    assert client.delete(f"/api/v1/comments/{gone['comment']['id']}",
                         headers={"X-Edit-Token": gone["edit_token"]}).status_code == 204

    page.goto(url)
    root = loaded(page)
    expect(root.locator("h2")).to_have_text("Discussion 3 comments")
    mary = comment(page, 1)
    author = mary.locator(":scope > div .au")
    expect(author).to_have_text("Mary")
    expect(author).to_have_attribute("href", "https://mary.example/")
    expect(author).to_have_attribute("rel", "nofollow ugc noopener")
    expect(mary.locator(":scope > div .bd strong")).to_have_text("helps")
    expect(mary.locator(":scope > div a[href$='#comment-1']")).to_have_text("#1")
    when = mary.locator(":scope > div time")
    expect(when).to_have_attribute("datetime", first["comment"]["created_at"])
    expect(when).to_have_attribute("title", re.compile(r"\d"))
    expect(mary.locator(":scope > div svg.av path")).to_have_attribute("d", re.compile("h1v1"))
    # The reply is nested under its parent, and anonymous comments say so.
    expect(page.locator("#comments li#comment-1 > ol > li#comment-2 .au").first).to_have_text("Mr Confused")
    expect(comment(page, 4).locator(".au").first).to_have_text("Anonymous")
    # A deleted comment with a visible reply stays as a tombstone.
    tomb = comment(page, 3)
    expect(tomb.locator(":scope > div .bd")).to_have_text("This comment was deleted.")
    expect(tomb.locator(":scope > div .au")).to_have_count(0)
    expect(tomb.locator(":scope > ol > li#comment-4")).to_be_visible()
    # Only the tombstone's own words are grey italics: its reply looks like any other comment.
    expect(tomb.locator(":scope > div .bd")).to_have_css("font-style", "italic")
    reply = comment(page, 4).locator(":scope > div .bd")
    expect(reply).to_have_css("font-style", "normal")
    plain = mary.locator(":scope > div .bd").evaluate("e => getComputedStyle(e).color")
    expect(reply).to_have_css("color", plain)


def test_empty_thread_invites_the_first_comment(page: Page, widget_site, hosts):
    page.goto(hosts.article(widget_site.url))
    root = loaded(page)
    expect(root.locator(".em")).to_have_text("No comments yet. Start the discussion!")
    expect(root.locator("h2")).to_contain_text("0 comments")


def test_post_then_reply_to_a_reply(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    page.goto(url)
    loaded(page)
    form = top_form(page)
    form.get_by_label("Your comment").fill("Cold compresses help with back spasms.")
    form.get_by_label("Name").fill("Tess")
    answer = submit(form, page)
    assert answer.status == 201
    sent = answer.request.post_data_json
    assert sent["homepage"] == "" and sent["form_token"], "the anti-spam fields are sent"
    assert sent["url"] == url and sent["author"] == "Tess"
    assert sent["lang"] == "en"  # the widget's language: any mail the post leads to is in it
    first = comment(page, 1)
    expect(first).to_be_focused()
    expect(widget(page).locator("[aria-live]")).to_have_text("Your comment #1 was posted.")
    expect(form.get_by_label("Your comment")).to_have_value("")
    expect(widget(page).locator("h2")).to_contain_text("1 comment")

    # Reply to the comment, then reply to that reply: each form opens in place.
    for parent, text in ((1, "Warm ones too."), (2, "Only for twenty minutes.")):
        box = comment(page, parent)
        box.locator(":scope > div").get_by_role("button", name="Reply").click()
        reply = box.locator(":scope > form")
        expect(reply.get_by_label(f"Reply to #{parent}")).to_be_focused()
        reply.get_by_label(f"Reply to #{parent}").fill(text)
        assert submit(reply, page).status == 201
        expect(reply).to_have_count(0)
        expect(comment(page, parent + 1)).to_be_focused()
    expect(page.locator("#comments li#comment-1 > ol > li#comment-2 > ol > li#comment-3 .bd")).to_have_text(
        "Only for twenty minutes.")

    # Reload: the thread comes from the server and the name is remembered on this device.
    page.reload()
    loaded(page)
    expect(comment(page, 3).locator(".bd")).to_have_text("Only for twenty minutes.")
    expect(top_form(page).get_by_label("Name")).to_have_value("Tess")


def test_preview_shows_the_rendered_text(page: Page, widget_site, hosts):
    page.goto(hosts.article(widget_site.url))
    form = top_form(page)
    form.get_by_label("Your comment").fill("Some *emphasis* and `code`")
    form.get_by_role("button", name="Preview").click()
    preview = form.locator(".pv")
    expect(preview.locator("em")).to_have_text("emphasis")
    expect(preview.locator("code")).to_have_text("code")
    form.get_by_label("Your comment").fill("changed")
    expect(preview).to_be_hidden()


def test_edit_and_delete_own_comments(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    other = seed(widget_site, url, "Someone else's comment")
    page.goto(url)
    loaded(page)
    expect(comment(page, 1).get_by_role("button", name="Edit")).to_have_count(0)  # not ours

    form = top_form(page)
    form.get_by_label("Your comment").fill("Frist post")
    submit(form, page)
    mine = comment(page, 2)
    mine.get_by_role("button", name="Edit").click()
    editor = mine.get_by_label("Edit #2")
    expect(editor).to_have_value("Frist post")  # the source text, fetched with the edit token
    editor.fill("First post")
    mine.get_by_role("button", name="Save").click()
    expect(comment(page, 2).locator(".bd")).to_have_text("First post")
    expect(comment(page, 2).locator(".mt")).to_contain_text("edited")
    expect(comment(page, 2)).to_be_focused()

    # Deleting asks first; a comment with a reply stays as a tombstone.
    comment(page, 2).locator(":scope > div").get_by_role("button", name="Reply").click()
    comment(page, 2).get_by_label("Reply to #2").fill("A reply to keep")
    submit(comment(page, 2).locator(":scope > form"), page)
    comment(page, 2).locator(":scope > div").get_by_role("button", name="Delete").click()
    comment(page, 2).get_by_role("button", name="Cancel").click()
    expect(comment(page, 2).locator(":scope > div").get_by_role("button", name="Delete")).to_be_focused()
    comment(page, 2).locator(":scope > div").get_by_role("button", name="Delete").click()
    comment(page, 2).get_by_role("button", name="Yes, delete").click()
    expect(comment(page, 2).locator(":scope > div .bd")).to_have_text("This comment was deleted.")
    expect(comment(page, 3).locator(".bd")).to_have_text("A reply to keep")

    # A comment without replies disappears, and focus moves on.
    comment(page, 3).get_by_role("button", name="Delete").click()
    comment(page, 3).get_by_role("button", name="Yes, delete").click()
    expect(comment(page, 3)).to_have_count(0)
    expect(widget(page).locator("[aria-live]")).to_have_text("This comment was deleted.")
    expect(widget(page).locator("h2")).to_contain_text("1 comment")
    assert other["comment"]["id"]


def test_sort_switch(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    ids = [seed(widget_site, url, f"Comment {n}")["comment"]["id"] for n in (1, 2, 3)]
    widget_site.app.test_client().post(f"/api/v1/comments/{ids[1]}/like", json={})
    page.goto(url)
    loaded(page)
    numbers = page.locator("#comments section.ws > ol > li")

    def order():
        return [el.get_attribute("id") for el in numbers.all()]

    assert order() == ["comment-1", "comment-2", "comment-3"]
    sort = widget(page).get_by_role("group", name="Sort comments")
    # The current order is marked from the first render, not only after a click.
    expect(sort.get_by_role("button", name="Oldest")).to_have_attribute("aria-pressed", "true")
    expect(sort.get_by_role("button", name="Newest")).to_have_attribute("aria-pressed", "false")
    for name, expected in (("Newest", [3, 2, 1]), ("Top", [2, 1, 3]), ("Oldest", [1, 2, 3])):
        sort.get_by_role("button", name=name).click()
        expect(sort.get_by_role("button", name=name)).to_have_attribute("aria-pressed", "true")
        expect(numbers.first).to_have_id(f"comment-{expected[0]}")
        assert order() == [f"comment-{n}" for n in expected]


def test_load_more_and_permalinks(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    for n in range(1, 56):
        seed(widget_site, url, f"Comment number {n}")
    page.goto(url)
    loaded(page)
    top_level = page.locator("#comments section.ws > ol > li")
    expect(top_level).to_have_count(50)
    more = widget(page).get_by_role("button", name="Show more comments")
    more.click()
    expect(top_level).to_have_count(55)
    expect(more).to_be_hidden()
    expect(comment(page, 51)).to_be_focused()

    # A permalink to a comment beyond the first page loads on until it finds it.
    page.goto(url + "#comment-54")
    target = comment(page, 54)
    expect(target).to_have_class(re.compile(r"\bhl\b"))
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    # The number link of another comment is its permalink.
    comment(page, 3).get_by_role("link", name="#3").click()
    assert page.url.endswith("#comment-3")
    expect(comment(page, 3)).to_have_class(re.compile(r"\bhl\b"))
    expect(target).not_to_have_class(re.compile(r"\bhl\b"))


def test_counts_on_a_listing_page_in_one_request(page: Page, widget_site, hosts):
    busy = hosts.article(widget_site.url)
    quiet = hosts.article(widget_site.url)
    for text in ("one", "two"):
        seed(widget_site, busy, text)
    seed(widget_site, quiet, "only one")
    listing = hosts.add(
        f"<h1>Posts</h1><ul><li><a href='{busy}'>Busy</a> <span data-comments-count='{busy}'>…</span></li>"
        f"<li><a href='{quiet}'>Quiet</a> <span data-comments-count='{quiet}'>…</span></li>"
        "<li>New <span data-comments-count='/never-commented'>…</span></li>"
        f"<li>Busy again <em data-comments-count='{busy}'>…</em></li></ul>"
        f"<script src='{widget_site.url}/widget.js' async></script>")
    watch = Watch(page)
    page.goto(listing)
    counts = page.locator("[data-comments-count]")
    expect(counts).to_have_text(["2 comments", "1 comment", "0 comments", "2 comments"])
    assert len(watch.api_calls("counts")) == 1
    assert watch.api_calls("comments") == [], "a listing page gets no thread of its own"
    expect(page.locator("#comments")).to_have_count(0)


def test_right_to_left_language(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, attrs="data-lang='ar'")
    parent = seed(widget_site, url, "مرحبا", author="سارة")
    seed(widget_site, url, "رد", parent_id=parent["comment"]["id"])
    page.goto(url)
    root = loaded(page)
    expect(root).to_have_attribute("dir", "rtl")
    expect(root).to_have_attribute("lang", "ar")
    expect(root.locator("h2")).to_have_text("النقاش تعليقان")
    expect(root.get_by_role("button", name="انشر التعليق")).to_be_visible()
    first = comment(page, 1).locator(":scope > div")
    avatar, name = first.locator("svg.av").bounding_box(), first.locator(".au").bounding_box()
    assert avatar["x"] > name["x"], "the avatar starts the line on the right"
    outer, inner = comment(page, 1).bounding_box(), comment(page, 2).bounding_box()
    assert inner["x"] + inner["width"] < outer["x"] + outer["width"] - 10, "replies indent from the right"


def test_language_follows_the_browser(browser, widget_site, hosts):
    """On a page that does not say its language (<html> without lang); more in test_widget_languages.py."""
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(hosts.article(widget_site.url, lang=None))
    root = loaded(page)
    expect(root).to_have_attribute("lang", "de")
    expect(root.get_by_role("button", name="Kommentar senden")).to_be_visible()
    context.close()


def test_a_language_file_is_fetched_once_alongside_the_thread(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, attrs="data-lang='de'")
    seed(widget_site, url, "Hallo")
    events: list[tuple[str, str]] = []
    page.on("request", lambda r: events.append(("request", r.url)))
    page.on("response", lambda r: events.append(("response", r.url)))
    watch = Watch(page)
    page.goto(url)
    root = loaded(page)
    expect(root).to_have_attribute("lang", "de")
    expect(root.locator("h2")).to_have_text("Diskussion 1 Kommentar")
    expect(root.get_by_role("button", name="Kommentar senden")).to_be_visible()
    expect(root.get_by_label("Kommentar", exact=True)).to_be_visible()
    expect(comment(page, 1).get_by_role("button", name="Antworten")).to_be_visible()
    # the widget's own table (the live module asks for its own later: /widget-i18n/live/de.json)
    strings = [u for kind, u in events if kind == "request" and re.search(r"/widget-i18n/[^/]+\.json$", u)]
    assert strings == [widget_site.url + "/widget-i18n/de.json"]
    # In parallel: both requests are made before either answer has come back.
    thread = next(i for i, (kind, u) in enumerate(events) if kind == "request" and "/api/v1/comments?" in u)
    asked = events.index(("request", strings[0]))
    first_answer = min(i for i, (kind, u) in enumerate(events)
                       if kind == "response" and ("/api/v1/comments?" in u or "/widget-i18n/" in u))
    assert max(thread, asked) < first_answer, events
    assert watch.errors == []


@pytest.mark.parametrize("fault", ["404", "500", "abort", "not json"])
def test_a_failing_language_file_leaves_the_widget_in_english(page: Page, widget_site, hosts, fault):
    url = hosts.article(widget_site.url, attrs="data-lang='ar'")  # right to left, if it had loaded
    seed(widget_site, url, "Hello")

    def fail(route):
        if fault == "abort":
            return route.abort()
        status = 200 if fault == "not json" else int(fault)
        return route.fulfill(status=status, body="<html>oops</html>",
                             headers={"Access-Control-Allow-Origin": "*"})

    page.route("**/widget-i18n/**", fail)
    watch = Watch(page)
    page.goto(url)
    root = loaded(page)
    expect(root).to_have_attribute("lang", "en")
    expect(root).to_have_attribute("dir", "ltr")
    expect(root.locator("h2")).to_have_text("Discussion 1 comment")
    expect(root.get_by_role("button", name="Post comment")).to_be_visible()
    expect(comment(page, 1).locator(".bd")).to_have_text("Hello")
    assert len([r for r in watch.requests if "/widget-i18n/" in r.url]) == 1
    assert watch.errors == []


def test_plural_forms_follow_the_language(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, attrs="data-lang='ru'")
    for n in range(2):
        seed(widget_site, url, f"Комментарий {n}")
    page.goto(url)
    root = loaded(page)
    expect(root.locator("h2")).to_have_text("Обсуждение 2 комментария")  # "few"
    for n in range(3):
        seed(widget_site, url, f"Ещё {n}")
    page.reload()
    expect(loaded(page).locator("h2")).to_have_text("Обсуждение 5 комментариев")  # "many" -> other


@pytest.mark.parametrize(("theme", "scheme", "background"), [
    ("dark", "light", "rgb(21, 24, 28)"),
    ("auto", "dark", "rgb(21, 24, 28)"),
    ("auto", "light", "rgb(255, 255, 255)"),
    ("light", "dark", "rgb(255, 255, 255)"),
])
def test_themes(page: Page, widget_site, hosts, theme, scheme, background):
    page.emulate_media(color_scheme=scheme)
    page.goto(hosts.article(widget_site.url, attrs=f"data-theme='{theme}'"))
    root = loaded(page)
    expect(root).to_have_css("background-color", background)


def test_the_sites_default_theme_where_the_script_tag_names_none(page: Page, widget_site, hosts):
    """A site's default_theme (docs/sites.md) reaches the widget in the thread's config."""
    widget_site.app.config["DEFAULT_THEME"] = "dark"  # the default site's, as `site set` would make it
    try:
        page.goto(hosts.article(widget_site.url, path="/dark-by-default"))
        expect(loaded(page)).to_have_css("background-color", "rgb(21, 24, 28)")
    finally:
        widget_site.app.config["DEFAULT_THEME"] = ""


def test_server_errors_are_shown_in_words_and_nothing_is_lost(page: Page, widget_site, hosts):
    page.goto(hosts.article(widget_site.url))
    form = top_form(page)
    text = form.get_by_label("Your comment")
    text.fill("Keep me safe")
    form.get_by_label("E-mail").fill("not-an-address")
    assert submit(form, page).status == 400
    expect(form.locator(".er")).to_have_text("Not sent: E-mail: must be an e-mail address.")
    expect(form.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("E-mail")).to_be_focused()
    expect(text).to_have_value("Keep me safe")

    # Rate limited: the reader is told when to try again (from Retry-After).
    form.get_by_label("E-mail").fill("")
    page.route(POSTED, lambda route: route.fulfill(
        status=429, headers={"Retry-After": "42", "Access-Control-Allow-Origin": "*",
                             "Access-Control-Expose-Headers": "Retry-After"},
        json={"error": {"code": "rate_limited", "message": "too many requests"}}))
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".er")).to_have_text("Not sent: Too many attempts. Please try again in 42 seconds.")
    expect(text).to_have_value("Keep me safe")

    # The server cannot be reached at all.
    page.unroute(POSTED)
    page.route(POSTED, lambda route: route.abort())
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".er")).to_have_text("Not sent: The comment server could not be reached.")
    expect(text).to_have_value("Keep me safe")

    page.unroute(POSTED)
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 1).locator(".bd")).to_have_text("Keep me safe")
    expect(form.locator(".er")).to_be_empty()


def test_held_comment_is_shown_to_its_author_only(browser, held_site, hosts):
    url = hosts.article(held_site.url)
    author = browser.new_context()
    page = author.new_page()
    page.goto(url)
    form = top_form(page)
    form.get_by_label("Your comment").fill("Waiting for a moderator")
    assert submit(form, page).status == 202
    expect(form.locator(".nt")).to_have_text(
        "Thank you! Your comment will appear once it is approved.")
    expect(comment(page, 1).locator(".pd")).to_have_text(
        "Awaiting moderation: only you can see this comment.")
    expect(widget(page).locator("h2")).to_contain_text("0 comments")
    page.reload()  # later visits fetch it with the edit token kept on this device
    expect(comment(page, 1).locator(".bd")).to_have_text("Waiting for a moderator")
    expect(comment(page, 1).locator(".pd")).to_be_visible()
    author.close()

    stranger = browser.new_context()
    other = stranger.new_page()
    other.goto(url)
    expect(loaded(other).locator(".em")).to_be_visible()
    expect(comment(other, 1)).to_have_count(0)
    stranger.close()


def test_edit_tokens_stored_by_an_older_widget_keep_their_rights(browser, held_site, hosts):
    """Before edit tokens were records they were stored as [token, editable until (ms), page, pending 0/1]:
    a reader who posted then keeps seeing the held comment and keeps the right to edit it."""
    url = hosts.article(held_site.url)
    posted = seed(held_site, url, "Posted before the upgrade")
    assert posted["comment"]["state"] == "pending"
    until = int(datetime.fromisoformat(posted["editable_until"].replace("Z", "+00:00")).timestamp() * 1000)
    old_form = {str(posted["comment"]["id"]): [posted["edit_token"], until, url, 1]}
    context = browser.new_context()
    page = context.new_page()
    page.goto(hosts.add("<p>Another page of the same site</p>"))
    page.evaluate("tokens => localStorage.setItem('widget-server:tokens', JSON.stringify(tokens))", old_form)

    page.goto(url)
    expect(comment(page, 1).locator(".pd")).to_be_visible()  # fetched with the old token
    comment(page, 1).get_by_role("button", name="Edit").click()
    expect(comment(page, 1).get_by_label("Edit #1")).to_have_value("Posted before the upgrade")
    stored = page.evaluate("[localStorage.getItem('widget-server:tokens'),"
                           " JSON.parse(localStorage.getItem('widget-server:edit-tokens'))]")
    assert stored == [None, {str(posted["comment"]["id"]): {  # moved, so an older copy never reads a record
        "token": posted["edit_token"], "editableUntil": until, "page": url, "pending": True}}]
    context.close()


def tab_to(page: Page, target, presses: int = 30) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el.getRootNode().activeElement === el"):
            return
    raise AssertionError("Tab never reached the element")


def test_keyboard_only(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "Yoga every day keeps them away.")
    page.goto(url)
    loaded(page)
    form = top_form(page)
    tab_to(page, form.get_by_label("Your comment"))
    page.keyboard.type("Typed without a mouse")
    tab_to(page, form.get_by_role("button", name="Post comment"))
    page.keyboard.press("Enter")
    expect(comment(page, 2)).to_be_focused()

    reply_button = comment(page, 1).locator(":scope > div").get_by_role("button", name="Reply")
    reply_button.focus()
    page.keyboard.press("Enter")
    page.keyboard.type("A keyboard reply")
    cancel = comment(page, 1).locator(":scope > form").get_by_role("button", name="Cancel")
    tab_to(page, cancel)
    page.keyboard.press("Enter")
    expect(reply_button).to_be_focused()
    page.keyboard.press("Enter")  # the draft survived Cancel
    expect(comment(page, 1).get_by_label("Reply to #1")).to_have_value("A keyboard reply")
    tab_to(page, comment(page, 1).locator(":scope > form").get_by_role("button", name="Post comment"))
    page.keyboard.press("Enter")
    expect(comment(page, 3)).to_be_focused()


def test_deep_thread_on_a_phone(browser, widget_site, hosts):
    url = hosts.article(widget_site.url)
    parent = None
    for depth in range(10):
        parent = seed(widget_site, url, f"Depth {depth}: a reply with words enough to wrap on a phone.",
                      parent_id=parent and parent["comment"]["id"])
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    loaded(page)
    widget(page).get_by_role("button", name="Show 7 more replies").click()  # past the third level
    deepest = comment(page, 10).locator(".bd")
    box = deepest.bounding_box()
    assert box["x"] < 80 and box["width"] > 250, box
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    context.close()


def test_relative_times_move_on_while_the_page_stays_open(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "Timely")
    page.clock.install()
    page.goto(url)
    loaded(page)
    stamp = comment(page, 1).locator("time").first
    before = stamp.text_content()
    page.clock.fast_forward("05:00")  # five minutes: the minute timer has fired
    expect(stamp).not_to_have_text(before)
    expect(stamp).to_contain_text("5")


def test_a_relative_data_url_is_resolved_against_the_page(page: Page, widget_site, hosts):
    shared = hosts.origin + "/threads/shared"
    seed(widget_site, shared, "Said on the shared thread.")
    url = hosts.article(widget_site.url, attrs="data-url='../threads/shared'", path="/posts/one")
    with page.expect_request(lambda r: "/api/v1/comments?" in r.url) as read:
        page.goto(url)
    assert f"url={quote(shared, safe='')}&" in read.value.url
    loaded(page)
    expect(comment(page, 1).locator(".bd")).to_have_text("Said on the shared thread.")
    form = top_form(page)
    form.get_by_label("Your comment").fill("Posted to the same thread.")
    assert submit(form, page).request.post_data_json["url"] == shared


def test_on_a_site_that_is_not_allowed_the_console_names_the_origin_to_add(page: Page, closed_site, hosts):
    """The first wall a site owner meets: their page's origin is not in WIDGET_ALLOWED_ORIGINS."""
    told = (f"widget-server: this page's origin {hosts.origin} is not allowed: add it to "
            "WIDGET_ALLOWED_ORIGINS on the comment server")
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    url = hosts.article(closed_site.url, before="<p><a href='/x' data-comments-count='/x'>comments</a></p>")
    page.goto(url)
    root = widget(page)
    expect(root.get_by_role("status")).to_have_text("Comments are not available on this page.")
    expect(root.get_by_role("button", name="Try again")).to_have_count(0)
    expect(root.locator("form")).to_have_count(0)
    expect(root.locator("[part=sort]")).to_be_hidden()  # nothing to sort (a new user's trial)
    assert [e for e in errors if e.startswith("widget-server")] == [told]  # once, for thread and counts
    # A POST is preflighted: the browser must still get to read the refusal, not a network error.
    answer = page.evaluate("""async (api) => {
      const response = await fetch(api + "/api/v1/comments", {method: "POST", body: JSON.stringify(
        {url: location.href, text: "x"}), headers: {"Content-Type": "application/json"}});
      return [response.status, (await response.json()).error];
    }""", closed_site.url)
    assert answer == [403, {"code": "origin_not_allowed", "origin": hosts.origin, "message": told[15:]}]
