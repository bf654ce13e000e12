"""The widget's languages in Debian's Chromium (issue 19): which language a page gets (every
language is drawn in test_widget_every_language.py, every file checked in tests/test_i18n_files.py), right to
left laid out and photographed, a server error worded in the reader's language, the live and report
modules in it, and a copy of the script served from elsewhere finding its strings on the server.

Screenshots go to $WIDGET_TEST_ARTIFACTS/i18n (default test-results/i18n, which CI keeps)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import icu
import pytest
from playwright.sync_api import Page, expect
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, loaded, open_with_stream, seed

from widget_server.assets import STATIC_DIR, languages

pytestmark = pytest.mark.browser

ARTIFACTS = Path(os.environ.get("WIDGET_TEST_ARTIFACTS", "test-results")) / "i18n"
RIGHT_TO_LEFT = [lang for lang in languages(STATIC_DIR)
                 if lang != "en" and json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text("utf-8"))
                 ["widget"].get("dir") == "rtl"]


def words(lang: str, table: str = "widget") -> dict:
    return json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text("utf-8"))[table]


def count_text(lang: str, n: int, page: Page | None = None) -> str:
    """The count as the widget words it: the CLDR plural form (ICU, as the browser's Intl), the
    number as the browser writes it in that language (Arabic digits in Arabic)."""
    form = icu.PluralRules.forLocale(icu.Locale(lang.replace("-", "_"))).select(n)
    number = str(n) if page is None else page.evaluate(
        "([lang, n]) => new Intl.NumberFormat(lang).format(n)", [lang, n])
    return words(lang)["count"][form].replace("{n}", number)


@pytest.mark.parametrize(("html_lang", "attrs", "browser_locale", "expected"), [
    ("pt-BR", "", "fr-FR", "pt-BR"),  # the page's language before the browser's
    ("pt-PT", "", "en-US", "pt-BR"),  # Portuguese readers get the Brazilian file
    ("zh-CN", "", "en-US", "zh"),  # a region or script tag finds zh (Simplified)
    ("zh-Hans", "", "en-US", "zh"),
    ("de", "data-lang='ja'", "fr-FR", "ja"),  # data-lang wins
    ("gd", "", "fr-FR", "fr"),  # a page language without a file: the browser's
    (None, "", "ko-KR", "ko"),  # a page that does not say: the browser's
    ("en-GB", "", "de-DE", "en"),  # an English page stays English for a German browser
])
def test_the_language_is_data_lang_then_the_pages_then_the_browsers(browser, widget_site, hosts, html_lang,
                                                                    attrs, browser_locale, expected):
    context = browser.new_context(locale=browser_locale)
    page = context.new_page()
    page.goto(hosts.article(widget_site.url, attrs=attrs, lang=html_lang))
    root = loaded(page)
    expect(root).to_have_attribute("lang", expected)
    title = "Discussion" if expected == "en" else words(expected)["title"]
    expect(root.locator("h2")).to_contain_text(title)
    context.close()


def test_counts_follow_the_pages_language(page: Page, widget_site, hosts):
    url = hosts.article(widget_site.url)
    seed(widget_site, url, "One")
    listing = hosts.add(f"<p><a href='{url}'>Article</a> <span data-comments-count='{url}'></span></p>"
                        f"<script src='{widget_site.url}/widget.js' async></script>", lang="ja")
    page.goto(listing)
    expect(page.locator("[data-comments-count]")).to_have_text(count_text("ja", 1))


@pytest.mark.parametrize("lang", RIGHT_TO_LEFT)
def test_right_to_left_languages_are_laid_out_from_the_right(page: Page, widget_site, hosts, lang):
    url = hosts.article(widget_site.url, attrs=f"data-lang='{lang}'")
    parent = seed(widget_site, url, "مرحبا بالجميع — שלום לכולם", author="سارة")
    seed(widget_site, url, "A reply in English stays left to right.", parent_id=parent["comment"]["id"])
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(url)
    root = loaded(page)
    table = words(lang)
    expect(root).to_have_attribute("dir", "rtl")
    expect(root).to_have_attribute("lang", lang)
    expect(root.locator("h2")).to_have_text(f"{table['title']} {count_text(lang, 2, page)}")
    title, sort = root.locator("h2").bounding_box(), root.locator(".so").bounding_box()
    assert title["x"] > sort["x"], "the title on the right, the sort buttons on the left"
    form = root.locator(":scope > div > form").bounding_box()
    label = root.get_by_text(table["text"], exact=True).evaluate(
        "label => { const range = document.createRange(); range.selectNodeContents(label); "
        "const box = range.getBoundingClientRect(); return {x: box.x, width: box.width}; }")
    assert label["x"] + label["width"] > form["x"] + form["width"] - 4, "a label's words start on the right"
    assert label["x"] > form["x"] + form["width"] / 2, "and end well before the left edge"
    first = comment(page, 1).locator(":scope > div")
    avatar, name = first.locator("svg.av").bounding_box(), first.locator(".au").bounding_box()
    assert avatar["x"] > name["x"], "the avatar starts the line on the right"
    outer, inner = comment(page, 1).bounding_box(), comment(page, 2).bounding_box()
    assert inner["x"] + inner["width"] < outer["x"] + outer["width"] - 10, "replies indent from the right"
    expect(comment(page, 2).locator(".bd")).to_have_attribute("dir", "auto")  # each comment its own direction
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(ARTIFACTS / f"rtl-{lang}.png"))
    assert (ARTIFACTS / f"rtl-{lang}.png").stat().st_size > 10_000


POSTED = re.compile(r".*/api/v1/comments$")


def test_a_server_error_is_worded_in_the_readers_language(page: Page, widget_site, hosts):
    page.goto(hosts.article(widget_site.url, attrs="data-lang='de'"))
    watch = Watch(page)
    form = loaded(page).locator(":scope > div > form")
    text = form.get_by_label("Kommentar", exact=True)
    text.evaluate("(area, value) => { area.value = value; }", "x" * 10_001)  # past maxlength, as a script may
    assert not [r for r in watch.requests if "errors" in r.url], "nothing is fetched before an error"
    with page.expect_response(lambda r: r.request.method == "POST" and POSTED.match(r.url)) as answer:
        form.get_by_role("button", name="Kommentar senden").click()
    assert answer.value.status == 400 and answer.value.json()["error"]["field_codes"] == {"text": "too_long"}
    expect(form.locator(".er")).to_have_text("Nicht gesendet: Kommentar: Zu lang: höchstens 10.000 Zeichen.")
    expect(text).to_have_attribute("aria-invalid", "true")

    text.fill("Ein Kommentar")
    form.get_by_label("E-Mail").fill("keine-adresse")
    form.get_by_role("button", name="Kommentar senden").click()
    expect(form.locator(".er")).to_have_text("Nicht gesendet: E-Mail: Diese Angabe ist ungültig.")
    expect(form.get_by_label("E-Mail")).to_be_focused()

    # A refusal of the whole post, by its code.
    form.get_by_label("E-Mail").fill("")
    refusal = {"error": {"code": "banned", "message": "you cannot comment here"}}
    page.route(POSTED, lambda route: route.fulfill(status=403, headers={"Access-Control-Allow-Origin": "*"},
                                                   json=refusal))
    form.get_by_role("button", name="Kommentar senden").click()
    expect(form.locator(".er")).to_have_text("Nicht gesendet: Sie können hier nicht kommentieren.")
    fetched = [r.url for r in watch.requests if "errors" in r.url]
    assert fetched == [widget_site.url + "/widget-errors.js", widget_site.url + "/widget-i18n/errors/de.json"]
    assert watch.errors == []


def test_live_updates_and_the_report_form_speak_the_language(browser, widget_site, hosts):
    url = hosts.article(widget_site.url, attrs="data-lang='ja'")
    seed(widget_site, url, "最初のコメント")
    page = browser.new_page()
    root = open_with_stream(page, url)
    seed(widget_site, url, "二つ目")
    expect(root.locator(".nw button")).to_have_text("新しいコメント 1 件 — 表示")

    report = words("ja", "report")
    comment(page, 1).get_by_role("button", name=words("ja")["report"]).click()
    form = root.locator("form[data-report]")
    expect(form.get_by_role("group", name=report["title"])).to_be_visible()
    expect(form.get_by_role("radio", name=report["spam"])).to_be_focused()
    form.get_by_role("radio", name=report["illegal"]).check()
    form.get_by_role("button", name=report["send"]).click()
    expect(form.get_by_role("alert")).to_have_text(report["need"])
    page.close()


@pytest.mark.parametrize("copy_at", ["https://cdn.example/comments/widget.js", "{site}/assets/widget.js"])
def test_a_copy_of_the_script_served_elsewhere_finds_the_server(page: Page, widget_site, hosts, copy_at):
    """The source file itself, served from a CDN or from the site's own origin, with data-server:
    the list of languages is in the script, and strings and comments come from the server."""
    src = copy_at.format(site=hosts.origin)
    source = (STATIC_DIR / "widget.js").read_text("utf-8")
    page.route(src, lambda route: route.fulfill(body=source, content_type="text/javascript",
                                                headers={"Access-Control-Allow-Origin": "*"}))
    url = hosts.article(widget_site.url, src=src, attrs=f"data-server='{widget_site.url}'", lang="it")
    seed(widget_site, url, "Ciao")
    watch = Watch(page)
    page.goto(url)
    root = loaded(page)
    expect(root).to_have_attribute("lang", "it")
    expect(root.locator("h2")).to_have_text(f"{words('it')['title']} {count_text('it', 1)}")
    fetched = [r.url for r in watch.requests if r.url != src and not r.url.startswith(hosts.origin)]
    assert widget_site.url + "/widget-i18n/it.json" in fetched
    assert all(u.startswith(widget_site.url + "/") for u in fetched), fetched  # none from the copy's origin
    assert watch.errors == []
