"""The checks of the account forms' fields: each returns a clean value or records a message.

Like ``widget_server.fields``, every problem is collected in ``errors`` and ``check``
raises one ``ValidationError`` with all of them.
"""
from __future__ import annotations

from .. import fields, names
from ..cors import origin_allowed
from ..errors import ValidationError, problem
from ..urls import BadURL, origin_of

PASSWORD_MIN = 8
PASSWORD_MAX = 1000


def email(data: dict, errors: dict, name: str = "email") -> str | None:
    value = fields.email_field(data, errors, name, required=True)
    return value.lower() if value else None


def display_name(data: dict, errors: dict) -> str | None:
    value = fields.text_field(data, "display_name", errors, max_len=fields.MAX_AUTHOR, required=True)
    if value is None or "display_name" in errors:
        return None
    value = value.strip()
    wrong = names.problem(value)
    if wrong:
        errors["display_name"] = wrong
    return value


def password(data: dict, errors: dict, name: str = "password", *, check_strength: bool = True) -> str | None:
    value = data.get(name)
    if value is None:
        errors[name] = problem("required", "is required")
        return None
    if not isinstance(value, str):
        errors[name] = problem("invalid", "must be a string")
        return None
    if "\x00" in value:
        errors[name] = problem("characters", "must not contain control characters")
        return None
    if len(value) > PASSWORD_MAX:
        errors[name] = problem("too_long", f"must be at most {PASSWORD_MAX} characters", max=PASSWORD_MAX)
        return None
    if check_strength and len(value) < PASSWORD_MIN:
        errors[name] = problem("too_short", f"must be at least {PASSWORD_MIN} characters", min=PASSWORD_MIN)
        return None
    return value


def token_field(data: dict, errors: dict) -> str | None:
    value = data.get("token")
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        errors["token"] = problem("required", "is required")  # noqa: S105 - a message, not a secret
        return None
    return value.strip()


def return_url(data: dict, errors: dict) -> str | None:
    """The page a sign-up came from (optional), for the link back once the account is ready:
    an absolute http(s) URL on an allowed site, normalized like page URLs; anything else is refused."""
    value = data.get("return_url")
    if value is None:
        return None
    url = fields.page_url(value, errors, "return_url") if isinstance(value, str) else None
    if url is None:
        errors["return_url"] = errors.get("return_url") or problem("invalid", "must be a string")
        return None
    try:
        allowed = origin_allowed(origin_of(url))
    except BadURL:
        allowed = False
    if not allowed:
        errors["return_url"] = problem("not_allowed", "must be a page of a site allowed here")
        return None
    return url


def check(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


