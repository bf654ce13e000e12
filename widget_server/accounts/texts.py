"""The words of the mails about a reader's own account. Each returns ``(kind, subject, blocks)``.

In the reader's language ``lang`` (the ``mail`` table of static/i18n, English filling gaps:
delivery/mail_words.py). Reader text (names) goes into mail as plain text only; mail.compose
escapes it for HTML.
"""
from __future__ import annotations

from ..delivery.mail_words import MailWords

Mail = tuple[str, str, list[tuple]]


def signup_for_known_address(lang: str | None) -> Mail:
    words = MailWords(lang)
    return "signup-known", words("known_subject"), [("p", words("known_tried")), ("p", words("known_next"))]


def signup(name: str, link: str, lifetime: int, lang: str | None) -> Mail:
    words = MailWords(lang)
    return "signup", words("signup_subject"), [
        ("p", words("signup_hello", name=name)),
        ("link", words("signup_link"), link),
        ("p", words("signup_once", duration=words.duration(lifetime))),
    ]


def reset(name: str, link: str, lifetime: int, lang: str | None) -> Mail:
    words = MailWords(lang)
    return "reset", words("reset_subject"), [
        ("p", words("reset_hello", name=name)),
        ("link", words("reset_link"), link),
        ("p", words("reset_once", duration=words.duration(lifetime))),
    ]
