"""Allowlist in: each field check as a table of what it keeps and what it refuses."""
from __future__ import annotations

import pytest

from widget_server import fields
from widget_server.models import Comment


def test_limits_come_from_the_model_columns():
    assert fields.MAX_AUTHOR == Comment.__table__.c.author.type.length == 100
    assert (fields.MAX_EMAIL, fields.MAX_WEBSITE, fields.MAX_TITLE) == (254, 500, 300)


@pytest.mark.parametrize(("value", "multiline", "kept", "problem"), [
    ("  plain   words ", False, "plain words", None),
    ("two\r\nlines", True, "two\nlines", None),
    ("tab\tand\nline", False, "tab and line", None),
    ("nul\x00", False, None, "must not contain control characters"),
    ("bell\x07", True, None, "must not contain control characters"),
    ("x" * 13, False, None, "must be at most 12 characters"),
    (5, False, None, "must be a string"),
    ("e\u0301", False, "\u00e9", None),  # NFC: one way to write é
])
def test_text_field(value, multiline, kept, problem):
    errors: dict[str, str] = {}
    result = fields.text_field({"f": value}, "f", errors, max_len=12, multiline=multiline)
    assert (result, errors.get("f")) == (kept, problem)


@pytest.mark.parametrize(("value", "kept"), [
    ("reader@example.org", "reader@example.org"), (" reader@example.org ", "reader@example.org"),
    ("no-at-sign", None), ("a@b", None), ("a b@example.org", None), ("<a@example.org>", None),
])
def test_email(value, kept):
    errors: dict[str, str] = {}
    assert fields.email_field({"email": value}, errors) == kept
    assert ("email" in errors) == (kept is None)


@pytest.mark.parametrize(("value", "kept"), [
    ("https://Example.ORG/me", "https://example.org/me"), ("http://a.example", "http://a.example/"),
    ("javascript:alert(1)", None), ("https://a.example/\"onmouseover", None), ("ftp://a.example", None),
])
def test_website(value, kept):
    errors: dict[str, str] = {}
    assert fields.website({"website": value}, errors) == kept
    assert ("website" in errors) == (kept is None)


@pytest.mark.parametrize(("value", "kept", "refused"), [
    (None, None, False), (1, 1, False), (2**31 - 1, 2**31 - 1, False),
    (0, None, True), (2**31, None, True), (True, None, True), ("3", None, True), (1.5, None, True),
])
def test_object_id(value, kept, refused):
    errors: dict[str, str] = {}
    assert fields.object_id({"id": value}, "id", errors) == kept
    assert ("id" in errors) == refused


@pytest.mark.parametrize(("value", "kept", "refused"), [
    (True, True, False), (False, False, False), (None, False, True), ("true", False, True), (1, False, True),
])
def test_flag(value, kept, refused):
    errors: dict[str, str] = {}
    data = {} if value is None else {"flag": value}
    assert fields.flag(data, "flag", errors) == kept
    assert ("flag" in errors) == (refused and value is not None)
