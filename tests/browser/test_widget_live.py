"""Live updates in Debian's Chromium: a comment posted from another page appears behind a polite
"1 new comment — show" without moving what the reader reads; edits and deletions apply in
place; the count follows; refused streams fall back to polling. Zero axe violations."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, loaded, open_with_stream, run_axe, seed, widget

from widget_server.comments import live
from widget_server.extensions import db
from widget_server.models import ThreadChange

pytestmark = pytest.mark.browser


def open_reader(browser, site, url):
    reader = browser.new_page()
    watch = Watch(reader)
    open_with_stream(reader, url)
    return reader, watch


def test_a_comment_from_another_page_waits_behind_a_polite_notice(browser, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "Already here")
    reader, watch = open_reader(browser, widget_site, url)

    writer = browser.new_page()
    writer.goto(url)
    form = loaded(writer).locator(":scope > div > form")
    form.get_by_label("Your comment").fill("Hello from elsewhere")
    with writer.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name="Post comment").click()
    posted = answer.value.json()

    root = widget(reader)
    notice = root.locator(".nw button")
    expect(notice).to_have_text("1 new comment — show")
    expect(root.locator(".sr[aria-live=polite]")).to_have_text("1 new comment — show")
    expect(comment(reader, 2)).to_have_count(0)  # nothing moved under the reader's eyes
    expect(root.locator("h2")).to_have_text("Discussion 2 comments")  # the count follows at once
    assert run_axe(reader) == []

    notice.click()
    expect(comment(reader, 2).locator(":scope > div .bd")).to_have_text("Hello from elsewhere")
    expect(comment(reader, 2)).to_be_focused()
    expect(root.locator(".nw button")).to_have_count(0)

    # An edit and a deletion elsewhere apply in place.
    client = widget_site.app.test_client()
    token = {"X-Edit-Token": posted["edit_token"]}
    path = f"/api/v1/comments/{posted['comment']['id']}"
    assert client.patch(path, json={"text": "Edited elsewhere"}, headers=token).status_code == 200
    expect(comment(reader, 2).locator(":scope > div .bd")).to_have_text("Edited elsewhere")
    assert client.delete(path, headers=token).status_code == 204
    expect(comment(reader, 2).locator(":scope > div .bd")).to_have_text("This comment was deleted.")
    expect(root.locator("h2")).to_have_text("Discussion 1 comment")
    assert run_axe(reader) == []
    assert watch.errors == []
    writer.close()
    reader.close()


def test_the_first_comment_of_an_empty_thread_replaces_no_comments_yet(browser, widget_site, hosts):
    url = hosts.article(widget_site.url)
    reader, watch = open_reader(browser, widget_site, url)
    root = widget(reader)
    expect(root.get_by_text("No comments yet")).to_be_visible()
    seed(widget_site, url, "The first word")
    expect(root.locator("ol + .nw button")).to_have_text("1 new comment — show")  # under the list
    expect(root.get_by_text("No comments yet")).to_be_hidden()  # not beside "1 comment"
    expect(root.locator("h2")).to_have_text("Discussion 1 comment")
    assert watch.errors == []
    reader.close()


def test_back_after_what_the_log_keeps_the_widget_reads_the_thread_again(browser, widget_site, hosts):
    """The stream ends (the server restarts, say) and comes back with Last-Event-ID, but the log
    no longer holds what was missed meanwhile: a resync event, and the widget reads the first
    page again, so nothing missed is left out."""
    url = hosts.article(widget_site.url)
    reader, watch = open_reader(browser, widget_site, url)
    root = widget(reader)
    seed(widget_site, url, "Heard live")
    expect(root.locator(".nw button")).to_have_text("1 new comment — show")
    with reader.expect_response(lambda r: "/api/v1/events?" in r.url and r.status == 200, timeout=20_000):
        live.close_all()  # every open stream ends; EventSource comes back after its retry delay
        seed(widget_site, url, "Missed while away")
        seed(widget_site, url, "Also missed")
        with widget_site.app.app_context():  # the first of those is no longer in the log
            db.session.execute(delete(ThreadChange).where(ThreadChange.url == url, ThreadChange.version <= 2))
            db.session.commit()
    expect(root.locator(".nw button")).to_have_text("3 new comments — show")
    root.locator(".nw button").click()
    expect(root.locator("li.c")).to_have_count(3)
    assert watch.errors == []
    reader.close()


def test_when_streams_are_refused_the_widget_polls(browser, widget_site, hosts, monkeypatch):
    url = hosts.article(widget_site.url)
    monkeypatch.setitem(widget_site.app.config, "STREAMS_MAX", 0)
    reader = browser.new_page()
    # The first poll comes after 15 s: the test's clock runs faster (setTimeout's delays / 100).
    reader.add_init_script("const t = setTimeout; window.setTimeout = (f, ms, ...a) => t(f, ms / 100, ...a);")
    with reader.expect_response(lambda r: "/api/v1/events" in r.url) as refused:
        reader.goto(url)
    assert refused.value.status == 503
    loaded(reader)
    seed(widget_site, url, "Heard by polling")
    expect(widget(reader).locator(".nw button")).to_have_text("1 new comment — show")
    expect(widget(reader).locator("h2")).to_have_text("Discussion 1 comment")
    reader.close()
