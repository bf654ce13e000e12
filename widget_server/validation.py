"""Allowlist in: the request body is parsed and every field checked here.

Each function either returns clean values or raises ``ValidationError`` with a
message per field, before anything touches the database.
"""
from __future__ import annotations

import email.errors
import email.policy
import json
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request

from . import names
from .errors import APIError, ValidationError
from .urls import BadURL, normalize_page_url, normalize_website

MAX_AUTHOR = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
MAX_EMAIL = 254
MAX_TITLE = 300
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


def email_field(data: dict, errors: dict, name: str = "email", *, required: bool = False) -> str | None:
    """The ``name`` field as one plain e-mail address (see ``email_address``)."""
    value = _string(data, name, errors, max_len=MAX_EMAIL, required=required)
    if not value or name in errors:
        return None
    try:
        return email_address(value.strip())
    except ValueError:
        errors[name] = "must be an e-mail address"
        return None


def json_body() -> dict:
    """The request's JSON object, or a clear 4xx error."""
    mimetype = request.mimetype
    if mimetype != "application/json":
        raise APIError(415, "unsupported_media_type",
                       "send the body as JSON with Content-Type: application/json")
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(400, "invalid_json", f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise APIError(400, "invalid_json", "body is nested too deeply") from None
    except ValueError as exc:
        raise APIError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise APIError(400, "invalid_json", "body must be a JSON object")
    return data


def _clean_text(value: str) -> str:
    # NFC so that visually identical names compare equal; CRLF to LF.
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def _string(data: dict, name: str, errors: dict, *, max_len: int, required: bool = False,
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
    return _string(data, "text", errors, max_len=current_app.config["MAX_TEXT_LENGTH"],
                   required=True, multiline=True)


def new_comment(data: dict) -> dict:
    """Validate a new comment's fields; unknown fields are ignored (allowlist)."""
    errors: dict[str, str] = {}
    clean: dict = {"url": page_url(data.get("url"), errors)}
    # Titles come from the page itself (data-title or document.title), so a "<"
    # in one is not the reader's fault: drop angle brackets instead of refusing.
    title = _string(data, "title", errors, max_len=MAX_TITLE) or ""
    clean["title"] = title.replace("<", "").replace(">", "").strip()
    clean["text"] = comment_text(data, errors)

    author = (_string(data, "author", errors, max_len=MAX_AUTHOR) or "").strip()
    wrong = names.problem(author) if author else None  # the same rules as account names
    if wrong:
        errors["author"] = wrong
    clean["author"] = author

    clean["email"] = email_field(data, errors)

    website = _string(data, "website", errors, max_len=500)
    if website:
        try:
            website = normalize_website(website.strip())
        except BadURL as exc:
            errors["website"] = str(exc)
    clean["website"] = website or None

    parent = data.get("parent_id")
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int)
                               or not 1 <= parent <= MAX_ID):
        errors["parent_id"] = "must be a positive integer or null"
        parent = None
    clean["parent_id"] = parent

    for flag in ("anonymous", "notify"):  # post anonymously while signed in; reply notifications
        value = data.get(flag, False)
        if not isinstance(value, bool):
            errors[flag] = "must be true or false"
        clean[flag] = value is True

    if errors:
        raise ValidationError(errors)
    return clean


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: "must be a whole number"}) from None
    if not minimum <= value <= maximum:
        raise ValidationError({name: f"must be between {minimum} and {maximum}"})
    return value
