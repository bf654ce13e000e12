"""The words of the mails about a reader's own account. Each returns ``(kind, subject, blocks)``.

Reader text (names) goes into mail as plain text only; mail.compose escapes it for HTML.
"""
from __future__ import annotations

Mail = tuple[str, str, list[tuple]]


def duration(seconds: int) -> str:
    """``86400`` → "1 day", ``7200`` → "2 hours", ``90`` → "1 minute"."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("s" if days != 1 else "")
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def signup_for_known_address() -> Mail:
    return "signup-known", "Someone tried to sign up with your address", [
        ("p", "Someone (perhaps you) tried to create a comments account with this address, "
              "but it already has one."),
        ("p", "If it was you: sign in with your password, or ask for a new one with "
              "\"Forgot password?\". If it was not you, ignore this mail: nothing has changed."),
    ]


def signup(name: str, link: str, lifetime: int) -> Mail:
    return "signup", "Confirm your comments account", [
        ("p", f"Hello {name}, please confirm this address to finish creating your comments account."),
        ("link", "Confirm my address and choose a password", link),
        ("p", f"The link works once, for {duration(lifetime)}. If you did not sign up, ignore this "
              "mail: no account is created."),
    ]


def reset(name: str, link: str, lifetime: int) -> Mail:
    return "reset", "Reset your comments password", [
        ("p", f"Hello {name}, someone (hopefully you) asked to reset the password of "
              "your comments account."),
        ("link", "Choose a new password", link),
        ("p", f"The link works once, for {duration(lifetime)}. If you did not ask, ignore this mail: "
              "your password stays as it is."),
    ]
