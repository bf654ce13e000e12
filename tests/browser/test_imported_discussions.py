"""Imported discussions appear, nested, in the widget (issue 6's "done when").

A Disqus and a WordPress export are imported into the running server with
``--map-url`` pointing their article at a host page, then read in Chromium.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, hook_dialogs, loaded, widget

from widget_server.ops.cli import main

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def import_file(site, fmt: str, name: str, old: str, new: str) -> str:
    result = site.app.test_cli_runner().invoke(
        main, ["import", fmt, str(FIXTURES / name), "--map-url", f"{old}={new}", "--no-progress"])
    assert result.exit_code == 0, result.output
    return result.output


def thread_of(site, url: str) -> dict:
    return site.app.test_client().get("/api/v1/comments", query_string={"url": url}).get_json()


def test_disqus_discussion_appears_nested(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, path="/imported/disqus-hello")
    import_file(widget_site, "disqus", "disqus.xml", "https://blog.example/2020/01/hello", url)
    expected = thread_of(widget_site, url)
    assert expected["thread"]["comment_count"] >= 3

    hook_dialogs(page)
    watch = Watch(page)
    page.goto(url)
    root = loaded(page)
    first = comment(page, 1)
    expect(first).to_contain_text("First!")
    expect(first).to_contain_text("Al")
    # Bea's reply came before its parent in the file and still nests under it.
    expect(first.locator("li").filter(has_text="I agree with you")).to_have_count(1)
    # The deleted post stays as a tombstone over its reply; the spam post is not shown.
    expect(root.get_by_text("Answering the deleted one.")).to_be_visible()
    expect(root.get_by_text("Buy cheap watches")).to_have_count(0)
    expect(root.get_by_text("Orphaned reply")).to_be_visible()
    # The <script> in the export's CDATA did not survive, and nothing ran.
    assert page.evaluate("window.__xss") == []
    assert watch.errors == []
    rendered = widget(page).locator("li.c").count()
    assert rendered >= expected["thread"]["comment_count"]


def test_wordpress_discussion_appears_nested(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url, path="/imported/wordpress-first")
    import_file(widget_site, "wordpress", "wordpress.xml", "https://blog.example/first-post/", url)
    expected = thread_of(widget_site, url)
    visible = expected["thread"]["comment_count"]
    assert visible >= 3

    page.goto(url)
    loaded(page)
    top = expected["comments"][0]
    reply = top["replies"][0]
    parent = comment(page, top["number"])
    expect(parent.locator(f"li#comment-{reply['number']}")).to_have_count(1)
    expect(widget(page).locator("li.c")).to_have_count(visible)
