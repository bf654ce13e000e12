"""Allowlist in: the checks every request field goes through, and the field limits.

Each function returns a clean value or records a message for the field in
``errors`` (the caller raises one ``ValidationError`` with all of them), before
anything touches the database. The limits are read from the model columns, so
the database, the API and the widget (which gets them in the thread's
``config``) agree.
"""
from __future__ import annotations

import email.errors
import email.policy
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from . import names
from .errors import problem
from .models import Comment, Thread
from .urls import BadURL, normalize_page_url, normalize_website

MAX_AUTHOR = Comment.__table__.c.author.type.length
MAX_EMAIL = Comment.__table__.c.email.type.length
MAX_WEBSITE = Comment.__table__.c.website.type.length
MAX_TITLE = Thread.__table__.c.title.type.length
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
# A quick shape check (admin ban values); addresses that mail may go to pass ``email_address``.
# local@domain, the domain with a dot neither first nor last. Written so that no part can match
# in two ways: "[^...]+\.[^...]+" (dots allowed on both sides) tried every dot against the rest,
# quadratic (10 s on a 64 KB ban value, which has no length limit of its own).
_ADDRESS = r"[^@\s<>()\[\]\\,;:\"]"
_NO_DOT = r"[^@\s<>()\[\]\\,;:\".]"
EMAIL_RE = re.compile(rf"^{_ADDRESS}+@{_ADDRESS}{_NO_DOT}*\.{_ADDRESS}+$")
# Control characters other than tab and newline (and NUL above all).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_mailbox(value: str) -> str:
    """``value`` if it reads back from a ``To`` header as exactly this one address, or ValueError.

    Python's mail library reads RFC 2047 encoded-words, display names, comments and groups
    in address headers, so one field could become several recipients
    (``=?utf-8?q?a=40x.example=2c?=b@y.example``): all of those are refused.
    """
    if "=?" in value:  # an encoded-word; legal characters in a local part, but never needed
        raise ValueError("an encoded-word")
    header = email.policy.default.header_factory("To", value)
    defects = [d for d in header.defects if not isinstance(d, email.errors.NonASCIILocalPartDefect)]
    if (defects or len(header.groups) != 1 or header.groups[0].display_name is not None
            or [(a.display_name, a.addr_spec) for a in header.addresses] != [("", value)]):
        raise ValueError("does not read back as one address")
    return value


def email_address(value: str) -> str:
    """A reader's address: one plain mailbox, ``local@domain``, normalized (the domain
    lower-cased) by email-validator (no display name, comment, group or quoted local part,
    a domain that can get mail), then ``one_mailbox``; or ValueError."""
    try:
        address = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return one_mailbox(address)


def _clean_text(value: str) -> str:
    # NFC so that visually identical names compare equal; CRLF to LF.
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def text_field(data: dict, name: str, errors: dict, *, max_len: int, required: bool = False,
            multiline: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = problem("required", "is required")
        return None
    if not isinstance(value, str):
        errors[name] = problem("invalid", "must be a string")
        return None
    if "\x00" in value or (not multiline and _CONTROL_RE.search(value.replace("\t", " "))):
        errors[name] = problem("characters", "must not contain control characters")
        return None
    value = _clean_text(value)
    if multiline:
        if _CONTROL_RE.search(value):
            errors[name] = problem("characters", "must not contain control characters")
            return None
    else:
        value = " ".join(value.split())
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        errors[name] = problem("characters", "must be valid Unicode")
        return None
    if len(value) > max_len:
        errors[name] = problem("too_long", f"must be at most {max_len} characters", max=max_len)
        return None
    if required and not value.strip():
        errors[name] = problem("required", "must not be empty")
        return None
    return value


def page_url(value, errors: dict, name: str = "url") -> str | None:
    if value is None or value == "":
        errors[name] = problem("required", "is required")
        return None
    try:
        return normalize_page_url(value)
    except BadURL as exc:
        errors[name] = problem(exc.code, str(exc), **exc.params)
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
    """A posted author name, under the same rules as account names (names.problem)."""
    value = (text_field(data, name, errors, max_len=MAX_AUTHOR) or "").strip()
    wrong = names.problem(value) if value else None
    if wrong:
        errors[name] = wrong
    return value


def email_field(data: dict, errors: dict, name: str = "email", *, required: bool = False) -> str | None:
    """The ``name`` field as one plain e-mail address (see ``email_address``)."""
    value = text_field(data, name, errors, max_len=MAX_EMAIL, required=required)
    if not value or name in errors:
        return None
    try:
        return email_address(value.strip())
    except ValueError:
        errors[name] = problem("invalid", "must be an e-mail address")
        return None


def website(data: dict, errors: dict) -> str | None:
    value = text_field(data, "website", errors, max_len=MAX_WEBSITE)
    if not value:
        return None
    try:
        return normalize_website(value.strip())
    except BadURL as exc:
        errors["website"] = problem(exc.code, str(exc), **exc.params)
        return None


def object_id(data: dict, name: str, errors: dict) -> int | None:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 1 <= value <= MAX_ID):
        errors[name] = problem("invalid", "must be a positive integer or null")
        return None
    return value


def flag(data: dict, name: str, errors: dict) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        errors[name] = problem("invalid", "must be true or false")
    return value is True
