"""Allowlist in: the checks every request field goes through, and the field limits.

Each function returns a clean value or records a message for the field in
``errors`` (the caller raises one ``ValidationError`` with all of them), before
anything touches the database. The limits are read from the model columns, so
the database, the API and the widget (which gets them in the thread's
``config``) agree.
"""
from __future__ import annotations

import re
import unicodedata

from flask import current_app

from .models import Comment, Thread
from .urls import BadURL, normalize_page_url, normalize_website

MAX_AUTHOR = Comment.__table__.c.author.type.length
MAX_EMAIL = Comment.__table__.c.email.type.length
MAX_WEBSITE = Comment.__table__.c.website.type.length
MAX_TITLE = Thread.__table__.c.title.type.length
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
EMAIL_RE = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+\.[^@\s<>()\[\]\\,;:\"]+$")
# Control characters other than tab and newline (and NUL above all).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: str) -> str:
    # NFC so that visually identical names compare equal; CRLF to LF.
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def text_field(data: dict, name: str, errors: dict, *, max_len: int, required: bool = False,
            multiline: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = "is required"
        return None
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return None
    if "\x00" in value or (not multiline and _CONTROL_RE.search(value.replace("\t", " "))):
        errors[name] = "must not contain control characters"
        return None
    value = _clean_text(value)
    if multiline:
        if _CONTROL_RE.search(value):
            errors[name] = "must not contain control characters"
            return None
    else:
        value = " ".join(value.split())
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        errors[name] = "must be valid Unicode"
        return None
    if len(value) > max_len:
        errors[name] = f"must be at most {max_len} characters"
        return None
    if required and not value.strip():
        errors[name] = "must not be empty"
        return None
    return value


def page_url(value, errors: dict, name: str = "url") -> str | None:
    if value is None or value == "":
        errors[name] = "is required"
        return None
    try:
        return normalize_page_url(value)
    except BadURL as exc:
        errors[name] = str(exc)
        return None


def comment_text(data: dict, errors: dict) -> str | None:
    return text_field(data, "text", errors, max_len=current_app.config["MAX_TEXT_LENGTH"],
                   required=True, multiline=True)


def title(data: dict, errors: dict) -> str:
    # Titles come from the page itself (data-title or document.title), so a "<"
    # in one is not the reader's fault: drop angle brackets instead of refusing.
    value = text_field(data, "title", errors, max_len=MAX_TITLE) or ""
    return value.replace("<", "").replace(">", "").strip()


def author_name(data: dict, errors: dict, name: str = "author") -> str:
    value = text_field(data, name, errors, max_len=MAX_AUTHOR) or ""
    if value and any(ch in value for ch in "<>"):
        errors[name] = "must not contain < or >"
    return value.strip()


def email(data: dict, errors: dict, name: str = "email", *, required: bool = False) -> str | None:
    value = text_field(data, name, errors, max_len=MAX_EMAIL, required=required)
    if not value or name in errors:
        return None
    value = value.strip()
    if not EMAIL_RE.match(value):
        errors[name] = "must be an e-mail address"
        return None
    return value


def website(data: dict, errors: dict) -> str | None:
    value = text_field(data, "website", errors, max_len=MAX_WEBSITE)
    if not value:
        return None
    try:
        return normalize_website(value.strip())
    except BadURL as exc:
        errors["website"] = str(exc)
        return None


def object_id(data: dict, name: str, errors: dict) -> int | None:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 1 <= value <= MAX_ID):
        errors[name] = "must be a positive integer or null"
        return None
    return value


def flag(data: dict, name: str, errors: dict) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        errors[name] = "must be true or false"
    return value is True
