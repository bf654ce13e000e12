"""Every language the other browser tests do not draw, drawn in Debian's Chromium (issue 19: "the
widget renders in it"): the thread and its form in the language, the count in its plural form, and
not one of English's words left on screen. tests/test_i18n_files.py checks the files themselves;
tests/browser/test_widget_languages.py draws zh ja hi th pt-BR and the right-to-left languages.

One test per language, so that workers share them out."""
from __future__ import annotations

import json
import re

import icu
import pytest
from playwright.sync_api import Page, expect
from widget_pages import *  # noqa: F403 - the fixtures
from widget_pages import Watch, comment, loaded, seed

from widget_server.assets import STATIC_DIR, languages

pytestmark = pytest.mark.browser

DRAWN_ELSEWHERE = {"en", "zh", "ja", "hi", "th", "pt-BR"}  # and every right-to-left language
CONTENT = {"Hello", "World"}  # the comments' own text, the same in every language

# The text nodes inside the widget's shadow root, trimmed, without the empty ones and those no
# reader meets (aria-hidden and clipped: the honeypot's label, which only bots read).
TEXTS = """host => {
  const walker = document.createTreeWalker(host.shadowRoot, NodeFilter.SHOW_TEXT), found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.nodeValue.trim();
    if (text && !node.parentElement.closest("[aria-hidden=true]")) found.push(text);
  }
  return found;
}"""


def table(lang: str) -> dict:
    return json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text("utf-8"))["widget"]


LEFT_TO_RIGHT = [lang for lang in languages(STATIC_DIR)
                 if lang not in DRAWN_ELSEWHERE and table(lang).get("dir") != "rtl"]


def draw(page: Page, widget_site, hosts, lang: str):
    """A thread of two comments in the language; its text nodes as a reader meets them."""
    url = hosts.article(widget_site.url, attrs=f"data-lang='{lang}'")
    seed(widget_site, url, "Hello")
    seed(widget_site, url, "World")
    if lang != "en":  # the files load (and are compressed once, here, not against the page's timeout)
        client = widget_site.app.test_client()
        for path in (f"/widget-i18n/{lang}.json", f"/widget-i18n/live/{lang}.json"):
            assert client.get(path, headers={"Accept-Encoding": "gzip"}).status_code == 200, path
    page.goto(url)
    root = loaded(page)
    expect(comment(page, 2)).to_be_visible()
    return root, set(page.locator("#comments").evaluate(TEXTS))


@pytest.fixture(scope="module")
def english(browser, widget_site, hosts) -> set[str]:
    """What the English widget shows: the reference no other language may show."""
    context = browser.new_context()
    _, texts = draw(context.new_page(), widget_site, hosts, "en")
    context.close()
    assert {"Discussion", "Post comment", "Reply"} <= texts
    return texts


@pytest.mark.parametrize("lang", LEFT_TO_RIGHT)
def test_the_thread_is_drawn_in_the_languages_own_words(page: Page, widget_site, hosts, english, lang):
    watch = Watch(page)
    root, shown = draw(page, widget_site, hosts, lang)
    words = table(lang)
    two = words["count"][icu.PluralRules.forLocale(icu.Locale(lang)).select(2)]
    expect(root).to_have_attribute("lang", lang)
    expect(root).to_have_attribute("dir", "ltr")
    expect(root.locator("h2")).to_have_text(f"{words['title']} {two.replace('{n}', '2')}")
    expect(root.get_by_role("group", name=words["sortBy"])).to_be_visible()
    expect(root.get_by_role("button", name=words["post"])).to_be_visible()
    expect(root.get_by_label(words["text"], exact=True)).to_be_visible()
    expect(comment(page, 1).get_by_role("button", name=words["reply"])).to_be_visible()
    # A text English shows is allowed only as content, or made of numbers and of words the
    # language's own strings use too (German's "(optional)").
    own = set(re.findall(r"\w+", json.dumps(words, ensure_ascii=False)))
    left = {text for text in english & shown if text not in CONTENT
            and not set(re.findall(r"\w+", text)) <= own and not text.lstrip("#↩ ").isdigit()}
    assert not left, f"English on screen: {sorted(left)}"
    assert watch.errors == []
