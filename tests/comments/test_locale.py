"""The widget's words on the server (comments/locale.py): one copy of English, the language files,
ICU's plurals and numbers, the widget's identicon."""
from __future__ import annotations

import re

import pytest

from widget_server.assets import STATIC_DIR
from widget_server.comments import locale


def test_english_is_read_from_the_widget_itself(app_context):
    source = (STATIC_DIR / "widget.js").read_text("utf-8")
    english = locale.strings("en")
    for key in ("title", "empty", "post", "reply", "anon", "deleted", "more", "closed", "opt", "notShown"):
        assert re.search(rf'\b{key}: "{re.escape(english[key])}"', source), key
    assert english["count"] == {"one": "{n} comment", "other": "{n} comments"}


@pytest.mark.parametrize(("lang", "count", "text"), [
    ("en", 1, "1 comment"), ("en", 1234, "1,234 comments"), ("de", 1234, "1.234 Kommentare"),
    ("ru", 3, "3 комментария"), ("ru", 5, "5 комментариев"), ("fr", 0, "0 commentaire"),
])
def test_counts_are_worded_with_icus_plural_rules(app_context, lang, count, text):
    assert locale.words(lang).count(count) == text


@pytest.mark.parametrize(("raw", "code"), [
    ("de", "de"), ("DE-at", "de"), ("", "en"), (None, "en"), ("xx", "en"), ("../../etc", "en"), ("ar", "ar"),
    ("pt-BR", "pt-BR"), ("pt", "pt-BR"), ("pt-PT", "pt-BR"), ("zh", "zh"), ("zh-CN", "zh"),
    ("zh-Hans-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"),
])
def test_a_language_is_one_the_widget_has_or_english(app_context, raw, code):
    assert locale.language(raw) == code


def test_a_language_file_lacking_a_key_falls_back_to_english(app_context):
    german = locale.strings("de")
    assert set(german) >= set(locale.strings("en"))
    assert german["title"] == "Diskussion"


@pytest.mark.parametrize(("avatar", "expected"), [
    ("", ("#d0d5db", "M0 0")),
    ("not-a-hash", ("#d0d5db", "M0 0")),
    # bits 0x00000001: only cell 0 (x 0, y 0) and its mirror; hue 0x0168 % 360 = 0
    ("000000010168", ("hsl(0 60% 91%)", "M0 0M0.5 0.5h1v1h-1zM4.5 0.5h1v1h-1z")),
])
def test_identicon_is_the_widgets_drawing(avatar, expected):
    background, _foreground, path = locale.identicon(avatar)
    assert (background, path) == expected
