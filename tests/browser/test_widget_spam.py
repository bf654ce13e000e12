"""The widget against spam (issue 14) in Debian's Chromium: the proof of work is solved while the
reader types (they never see it), and "Report" opens the report form (widget-report.js)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import comment, loaded, run_axe, seed, widget

from widget_server.extensions import db
from widget_server.models import Report, SpentChallenge

pytestmark = pytest.mark.browser


def rows(site, model) -> list:
    with site.app.app_context():
        try:
            return list(db.session.execute(select(model)).scalars())
        finally:
            db.session.remove()


def test_the_proof_of_work_is_fetched_when_the_reader_starts_writing(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    page.goto(url)
    root = loaded(page)
    spent_before = len(rows(widget_site, SpentChallenge))
    with page.expect_request(lambda r: r.url.endswith("/api/v1/challenge")):
        root.locator("textarea").first.type("Typed by a person")
    posted = lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/comments")  # noqa: E731
    with page.expect_response(posted) as answer:
        root.get_by_role("button", name="Post comment").click()
    assert answer.value.status == 201
    assert "altcha" in answer.value.request.post_data_json
    expect(comment(page, 1)).to_contain_text("Typed by a person")
    assert len(rows(widget_site, SpentChallenge)) == spent_before + 1


def test_a_reader_reports_a_comment(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "Buy cheap watches at https://replica.example/")
    page.goto(url)
    loaded(page)
    first = comment(page, 1)
    first.get_by_role("button", name="Report").click()
    form = widget(page).locator("form[data-report]")
    expect(form.get_by_role("radio", name="Spam or advertising")).to_be_focused()
    assert run_axe(page) == []
    form.get_by_role("radio", name="Illegal content").check()
    form.get_by_role("button", name="Send report").click()
    expect(form.get_by_role("alert")).to_have_text("Please explain briefly.")  # a note is required
    form.get_by_label("What is illegal, and why?").fill("Counterfeit goods")
    with page.expect_response(lambda r: r.url.endswith("/report")) as answer:
        form.get_by_role("button", name="Send report").click()
    assert answer.value.status == 202
    expect(first.get_by_role("status")).to_have_text("Thank you: the moderators will look at it.")
    reports = [(r.reason, r.note) for r in rows(widget_site, Report)]
    assert ("illegal", "Counterfeit goods") in reports
