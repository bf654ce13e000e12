"""Counts in the languages whose plurals are more than "one" and "other" (comments/locale.py with
the language files): each number lands on the form the language's grammar wants, written with the
language's digits. The expected words are written here by hand, not read from the files."""
from __future__ import annotations

import pytest
from flask import Flask

from widget_server.comments import locale


@pytest.fixture(scope="module")
def plain_app_context():
    """An app context without a database: locale only reads the static files (STATIC_DIR unset)."""
    with Flask(__name__).app_context():
        yield


@pytest.mark.parametrize(("lang", "count", "text"), [
    ("pl", 1, "1 komentarz"), ("pl", 3, "3 komentarze"), ("pl", 5, "5 komentarzy"),
    ("pl", 22, "22 komentarze"), ("pl", 112, "112 komentarzy"),
    ("uk", 1, "1 коментар"), ("uk", 21, "21 коментар"), ("uk", 4, "4 коментарі"), ("uk", 11, "11 коментарів"),
    ("cs", 1, "1 komentář"), ("cs", 4, "4 komentáře"), ("cs", 5, "5 komentářů"), ("cs", 22, "22 komentářů"),
    ("ro", 1, "1 comentariu"), ("ro", 19, "19 comentarii"), ("ro", 20, "20 de comentarii"),
    ("ro", 101, "101 comentarii"),
    ("he", 1, "תגובה אחת"), ("he", 2, "שתי תגובות"), ("he", 3, "3 תגובות"), ("he", 20, "20 תגובות"),
    ("fa", 0, "۰ دیدگاه"), ("fa", 3, "۳ دیدگاه"),
    ("hu", 1, "1 hozzászólás"), ("hu", 7, "7 hozzászólás"),
    ("vi", 1, "1 bình luận"), ("el", 2, "2 σχόλια"), ("sv", 1, "1 kommentar"), ("nl", 2, "2 reacties"),
])
def test_a_count_takes_the_form_the_language_wants(plain_app_context, lang, count, text):
    assert locale.words(lang).count(count) == text
