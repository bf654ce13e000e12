"""/admin in Chromium for site tokens (issue 17): a moderator of one site sees that site only and
none of the owner's or the global admin's parts; a global admin switches between sites and
changes one site's settings. Zero axe-core violations as a moderator."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from support import factories
from widget_pages import *  # noqa: F403 - the fixtures (console_errors, base_url)
from widget_pages import assert_no_axe_violations

from widget_server.extensions import db
from widget_server.models import PENDING
from widget_server.moderation import auth
from widget_server.sites import service as site_service

pytestmark = pytest.mark.browser


@pytest.fixture
def two_sites(live_server) -> dict:
    """Two new sites on the shared live server, each with a held comment, and tokens."""
    tag = uuid.uuid4().hex[:6]
    found = {"tag": tag}
    with live_server.app.app_context():
        for name in ("mine", "theirs"):
            site = site_service.add(f"{name}-{tag}", [f"https://{name}-{tag}.example"])
            db.session.commit()
            site_service.changed()
            found[name] = site.name
            page = f"https://{name}-{tag}.example/post"
            factories.stored_comment(f"{name} held {tag}", page, state=PENDING)
            found[f"{name}_id"] = site.id
        _row, found["moderator"] = auth.create(f"mod-{tag}", found["mine_id"], "moderator")
        _row, found["global"] = auth.create(f"root-{tag}")
        db.session.commit()
    return found


def sign_in(page: Page, live_server, token: str) -> None:
    page.goto(f"{live_server.url}/admin")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Held for moderation")).to_be_visible()


def test_a_moderator_of_one_site_sees_that_site_only(page, live_server, two_sites, console_errors):
    tag = two_sites["tag"]
    sign_in(page, live_server, two_sites["moderator"])
    expect(page.locator("#whoami")).to_have_text(f"mod-{tag}: moderator of site {two_sites['mine']}.")
    queue = page.locator("#queue-list li.comment")
    expect(queue.filter(has_text=f"mine held {tag}")).to_have_count(1)
    expect(page.locator("#app")).not_to_contain_text(f"theirs held {tag}")
    # No site switcher, no settings, no tokens: only what a moderator may use.
    for hidden in ("#site-picker", "#settings", "#team", "#ban-where"):
        expect(page.locator(hidden)).to_be_hidden()
    queue.filter(has_text=f"mine held {tag}").get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_contain_text("Approved comment")
    expect(page.locator("#audit-body tr").first).to_contain_text(two_sites["mine"])
    assert_no_axe_violations(page)
    assert console_errors == []


def test_a_global_admin_switches_sites_and_sets_a_sites_setting(page, live_server, two_sites):
    tag, theirs = two_sites["tag"], two_sites["theirs"]
    sign_in(page, live_server, two_sites["global"])
    expect(page.locator("#team")).to_be_visible()
    # Across every site each comment says whose it is, as words of their own (read aloud, copied).
    held = page.locator("#queue-list li.comment").filter(has_text=f"theirs held {tag}")
    expect(held.locator(".where")).to_have_text(re.compile(rf" site {re.escape(theirs)}$"))
    page.get_by_label("Site", exact=True).select_option(theirs)
    expect(page.locator("#status")).to_have_text(f"Showing site {theirs}.")
    expect(page.locator("#queue-list li.comment")).to_have_count(1)
    expect(page.locator("#queue-list")).to_contain_text(f"theirs held {tag}")
    page.get_by_label("Setting", exact=True).fill("moderation")
    page.get_by_label("Value", exact=True).fill("all")
    page.get_by_role("button", name="Save setting").click()
    expect(page.locator("#status")).to_have_text("Set moderation to all.")
    expect(page.locator("#settings-list")).to_contain_text("moderation")
    with live_server.app.app_context():
        assert site_service.get(theirs).settings == '{"moderation": "all"}'
