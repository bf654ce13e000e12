"""The widget's reader comforts (issue 19) in Debian's Chromium: reactions, lazy loading, long
threads, drafts that survive a reload or a lost connection, and what follows a post."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, loaded, run_axe, seed, widget

pytestmark = pytest.mark.browser

POSTED = re.compile(r".*/api/v1/comments$")


def top_form(page: Page):
    return widget(page).locator(":scope > div > form")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reacting_with_the_picker_counts_once_and_is_remembered(page: Page, widget_site, hosts, scheme):
    url = hosts.article(widget_site.url, attrs="data-theme='auto'")
    seed(widget_site, url, "Bananas work for me.")
    page.emulate_media(color_scheme=scheme)
    page.goto(url)
    loaded(page)
    bar = comment(page, 1).get_by_role("group", name="Reactions")
    pick = bar.get_by_role("button", name="Add a reaction")
    pick.click()
    picker = bar.get_by_role("group", name="Add a reaction")
    expect(picker.get_by_role("button")).to_have_count(6)
    expect(picker.get_by_role("button", name="👍")).to_be_focused()  # the first
    page.wait_for_timeout(700)  # transitions settle
    assert run_axe(page) == []  # the picker open, in this scheme
    picker.get_by_role("button", name="🎉").click()
    party = bar.get_by_role("button", name="🎉 1")
    expect(party).to_have_attribute("aria-pressed", "true")
    expect(party).to_be_focused()
    expect(picker).to_have_count(0)
    page.reload()
    party = comment(page, 1).get_by_role("button", name="🎉 1")
    expect(party).to_have_attribute("aria-pressed", "true")
    party.click()  # pressed again: taken back
    expect(comment(page, 1).get_by_role("button", name=re.compile("🎉"))).to_have_count(0)
    # The page's own reactions, below the thread.
    page_bar = widget(page).locator(":scope > .rx")
    page_bar.get_by_role("button", name="Add a reaction").click()
    page_bar.get_by_role("button", name="😮").click()
    expect(page_bar.get_by_role("button", name="😮 1")).to_have_attribute("aria-pressed", "true")


def test_nothing_is_fetched_before_the_reader_scrolls_near_the_thread(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, before="<div style='height:5000px'>A long article</div>")
    seed(widget_site, url, "Far below")
    counted = hosts.add(f"<p>Byline: <span data-comments-count='{url}'>…</span></p>"
                        f"<div style='height:5000px'></div><div id='comments'></div>"
                        f"<script src='{widget_site.url}/widget.js' async></script>")
    watch = Watch(page)
    page.goto(url)
    page.wait_for_timeout(800)
    assert [r.url for r in watch.requests if "/api/" in r.url or "widget-" in r.url] == []
    page.locator("#comments").scroll_into_view_if_needed()
    expect(comment(page, 1)).to_be_visible()
    assert len(watch.api_calls("comments")) == 1
    # A count element is still one small request, at once; the thread below waits.
    watch = Watch(page)
    page.goto(counted)
    expect(page.locator("[data-comments-count]")).to_have_text("1 comment")
    page.wait_for_timeout(500)
    assert len(watch.api_calls("counts")) == 1 and watch.api_calls("comments") == []


def test_eager_loading_opts_out(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, attrs="data-loading='eager'",
                        before="<div style='height:5000px'></div>")
    watch = Watch(page)
    page.goto(url)
    expect(page.locator("#comments li.c, #comments .em").first).to_be_attached()
    assert len(watch.api_calls("comments")) == 1


def test_a_long_branch_collapses_and_a_permalink_opens_it(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    top = seed(widget_site, url, "Top")
    parent = top
    for depth in range(1, 6):  # #2..#6, each a reply to the one before
        parent = seed(widget_site, url, f"Depth {depth}", parent_id=parent["comment"]["id"])
    for n in range(7):  # #7..#13: seven replies to the top comment
        seed(widget_site, url, f"Sibling {n}", parent_id=top["comment"]["id"])
    page.goto(url)
    loaded(page)
    expect(comment(page, 3)).to_be_visible()  # depth 2
    expect(comment(page, 4)).to_be_hidden()  # depth 3 and below wait
    expect(comment(page, 8)).to_be_visible()  # the third of #1's eight replies ...
    expect(comment(page, 9)).to_be_hidden()  # ... and not the rest
    more = comment(page, 1).locator(":scope > .mr")
    expect(more).to_have_text("Show 5 more replies")
    more.click()
    expect(comment(page, 13)).to_be_visible()
    expect(comment(page, 9)).to_be_focused()

    page.goto(url + "#comment-6")
    target = comment(page, 6)
    expect(target).to_be_visible()
    expect(target).to_have_class(re.compile(r"\bhl\b"))
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()


def test_a_press_whose_module_cannot_be_fetched_says_so_beside_the_button(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "Bananas work for me.")
    page.route(re.compile(r".*/widget-(react|report)\.js$"), lambda route: route.abort())
    page.goto(url)
    loaded(page)
    first = comment(page, 1)
    first.get_by_role("button", name="Add a reaction").click()
    expect(first.get_by_role("group", name="Reactions").get_by_role("alert")).to_have_text(
        "The comment server could not be reached.")
    first.get_by_role("button", name="Report").click()
    expect(first.get_by_role("alert").filter(has_text="could not be reached")).to_have_count(2)
    page.unroute(re.compile(r".*/widget-(react|report)\.js$"))
    with page.expect_response(re.compile(r".*/widget-report\.js$")) as fetched:
        first.get_by_role("button", name="Report").click()  # fetched again: a failure is not kept
    assert fetched.value.ok


def test_a_draft_is_restored_after_a_reload(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    parent = seed(widget_site, url, "Reply to me")
    page.goto(url)
    loaded(page)
    top_form(page).get_by_label("Your comment").fill("Half a thought")
    comment(page, 1).get_by_role("button", name="Reply").click()
    comment(page, 1).get_by_label("Reply to #1").fill("Half a reply")
    page.reload()
    expect(top_form(page).get_by_label("Your comment")).to_have_value("Half a thought")
    comment(page, 1).get_by_role("button", name="Reply").click()
    expect(comment(page, 1).get_by_label("Reply to #1")).to_have_value("Half a reply")
    assert parent["comment"]["number"] == 1


def test_an_offline_post_is_sent_once_when_back_online(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    page.goto(url)
    form = loaded(page) and top_form(page)
    form.get_by_label("Your comment").fill("Written on a train")
    page.wait_for_timeout(300)  # the proof-of-work module arrives while online
    page.context.set_offline(True)
    form.get_by_role("button", name="Post comment").click()
    notice = form.get_by_role("status")
    expect(notice).to_contain_text("You are offline")
    expect(notice.get_by_role("button", name="Cancel")).to_be_visible()
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and POSTED.match(r.url) else None)
    with page.expect_response(lambda r: r.request.method == "POST" and POSTED.match(r.url)):
        page.context.set_offline(False)
    expect(comment(page, 1)).to_contain_text("Written on a train")
    page.context.set_offline(True)  # and again offline/online: nothing is sent again
    page.context.set_offline(False)
    page.wait_for_timeout(500)
    assert len(posts) == 1
    thread = widget_site.app.test_client().get("/api/v1/comments", query_string={"url": url}).get_json()
    assert thread["thread"]["comment_count"] == 1
    expect(form.get_by_label("Your comment")).to_have_value("")


@pytest.mark.parametrize("first_try", ["stored, its answer cut off", "a proxy's 502"])
def test_a_post_during_a_server_restart_is_sent_again_by_itself_and_stored_once(
        page: Page, widget_site, hosts, first_try):
    """The server restarting: the first sending's answer is lost (the connection reset after the
    server stored it) or a proxy answers 502. The widget asks again with the same key: one
    comment, shown once, no error to the reader."""
    url = hosts.article(widget_site.url)
    page.goto(url)
    form = loaded(page) and top_form(page)
    keys = []

    def restarting(route):
        keys.append(route.request.header_value("idempotency-key"))
        if len(keys) > 1:
            return route.continue_()
        if first_try == "a proxy's 502":
            return route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        route.fetch()  # it reaches the server, which stores it ...
        return route.abort("connectionreset")  # ... and the answer never arrives

    page.route(POSTED, restarting)
    form.get_by_label("Your comment").fill("Sent while the server restarted")
    form.get_by_role("button", name="Post comment").click()
    expect(comment(page, 1)).to_contain_text("Sent while the server restarted")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    expect(form.locator(".er")).to_have_text("")  # no error was shown
    thread = widget_site.app.test_client().get("/api/v1/comments", query_string={"url": url}).get_json()
    assert thread["thread"]["comment_count"] == 1
    expect(page.locator("#comments li[id^=comment-]")).to_have_count(1)


def test_an_offline_post_can_be_cancelled(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    page.goto(url)
    form = loaded(page) and top_form(page)
    page.context.set_offline(True)  # before writing: the proof-of-work module cannot arrive either
    form.get_by_label("Your comment").fill("Never mind")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("status")).to_contain_text("You are offline")
    form.get_by_role("status").get_by_role("button", name="Cancel").click()
    expect(form.locator(".nt")).to_be_empty()
    page.context.set_offline(False)
    page.wait_for_timeout(500)
    assert widget_site.app.test_client().get("/api/v1/comments", query_string={"url": url}).get_json()[
        "comments"] == []
    expect(form.get_by_label("Your comment")).to_have_value("Never mind")  # the text stays


def test_after_posting_every_count_moves_and_the_comment_is_announced(page: Page, widget_site, hosts):
    path = "/counted-article"
    url = hosts.article(widget_site.url, path=path,
                        before=f"<p>By Ann · <span data-comments-count='{path}'>…</span></p>")
    seed(widget_site, url, "The first")
    page.goto(url)
    loaded(page)
    byline = page.locator("[data-comments-count]")
    expect(byline).to_have_text("1 comment")
    top_form(page).get_by_label("Your comment").fill("The second")
    top_form(page).get_by_role("button", name="Post comment").click()
    expect(comment(page, 2)).to_be_focused()
    expect(byline).to_have_text("2 comments")
    expect(widget(page).locator("h2")).to_contain_text("2 comments")
    expect(widget(page).locator("[aria-live]")).to_have_text("Your comment #2 was posted.")
