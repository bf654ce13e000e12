"""The widget's words and formats on the server, so a thread rendered here reads as the widget's.

The strings are the widget's own: English from the ``EN`` table inside ``static/widget.js``
(read from the file, so there is one copy), every other language from ``static/i18n/LANG.json``
(its ``widget`` table), English filling what a file lacks, exactly as the widget merges them.
Plurals, numbers and dates come from ICU (PyICU, already a dependency for names.py), the same
library behind the browser's ``Intl``, so "3 comments" is worded and numbered as the widget
words it. The identicon is the widget's drawing, computed here.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import icu
from flask import current_app

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# A language file's name: the primary subtag, lower case, and a region only where the variant
# matters ("pt-BR"). "zh" is Simplified Chinese.
TAG = re.compile(r"[a-z]{2,3}(?:-[A-Z]{2})?")
_EN_BLOCK = re.compile(r"const EN = \{(.*?)\n  \};", re.S)
_PAIR = re.compile(r'(\w+): ("(?:[^"\\]|\\.)*")')
_COUNT = re.compile(r"count: \{ one: (\"[^\"]*\"), other: (\"[^\"]*\") \}")


def static_dir() -> Path:
    return Path(current_app.config.get("STATIC_DIR") or STATIC_DIR)


@lru_cache(maxsize=4)
def _english(path: Path, _stamp: int) -> dict:
    block = _EN_BLOCK.search(path.read_text("utf-8")).group(1)
    strings = {key: json.loads(value) for key, value in _PAIR.findall(block)}
    one, other = _COUNT.search(block).groups()
    strings["count"] = {"one": json.loads(one), "other": json.loads(other)}
    return strings


@lru_cache(maxsize=64)
def _table(path: Path, _stamp: int, name: str = "widget") -> dict:
    data = json.loads(path.read_bytes())
    table = data.get(name) if isinstance(data, dict) else None
    return table if isinstance(table, dict) else {}


def available(static: Path) -> list[str]:
    """English (inside the widget) and every language with a file in static/i18n."""
    found = (path.stem for path in (static / "i18n").glob("*.json") if TAG.fullmatch(path.stem))
    return sorted({"en", *found})


def match(raw: object, tags: list[str]) -> str | None:
    """The one of ``tags`` for a language tag as the widget picks it: by primary subtag, whatever
    the case or the rest ("pt-PT" and "pt" get "pt-BR"; "zh-Hans-CN" and "zh-TW" get "zh")."""
    primary = str(raw or "").strip().lower().split("-")[0]
    return next((tag for tag in tags if tag.split("-")[0] == primary), None)


def language(raw: str | None) -> str:
    """The language a fragment is rendered in: the widget's language for ``raw``, else English."""
    return match(raw, available(static_dir())) or "en"


def reader_language(raw: object) -> str | None:
    """A request's ``lang`` (the widget's language; mails are written in it), as a language with a
    file; None for English, and for anything else (a bad value is ignored, never an error)."""
    if not isinstance(raw, str) or len(raw) > 35:
        return None
    code = match(raw, available(static_dir()))
    return None if code == "en" else code


def strings(code: str) -> dict:
    """The widget's table for ``code`` (from ``language()``): English first, the file's on top."""
    widget = static_dir() / "widget.js"
    english = _english(widget, widget.stat().st_mtime_ns)
    if code == "en":
        return english
    path = static_dir() / "i18n" / f"{code}.json"
    return {**english, **_table(path, path.stat().st_mtime_ns)}


@dataclass(frozen=True)
class Words:
    """One language's strings and formats, as the widget has them after ``useLanguage``."""

    code: str
    strings: dict

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def fill(self, key: str, value: object) -> str:
        return re.sub(r"\{\w\}", str(value), self.strings[key], count=1)

    def number(self, value: int) -> str:
        return _number_format(self.code).format(value)

    def count(self, value: int) -> str:
        forms = self.strings["count"]
        form = _plural_rules(self.code).select(value)
        return (forms.get(form) or forms["other"]).replace("{n}", self.number(value))

    def error(self, code: str, fields: dict, retry_after: str | None = None) -> str | None:
        """An error in the reader's words, as /widget-errors.js words it (each field's label,
        then its code's sentence); None in English, which keeps the server's own message."""
        if self.code == "en":
            return None
        if code == "rate_limited":
            seconds = int(retry_after or 60)
            unit, amount = ((icu.URelativeDateTimeUnit.MINUTE, -(-seconds // 60)) if seconds > 90
                            else (icu.URelativeDateTimeUnit.SECOND, seconds))
            return self.fill("rate", icu.RelativeDateTimeFormatter(icu.Locale(self.code))
                             .formatNumeric(amount, unit))
        if code == "thread_locked":
            return self.strings["closed"]
        path = static_dir() / "i18n" / f"{self.code}.json"
        table = _table(path, path.stat().st_mtime_ns, "errors")
        if not table:
            return None
        labels = {"text": "text", "author": "name", "email": "email", "website": "site"}
        sentences = []
        for name, message in fields.items():
            params = getattr(message, "params", {})
            words = re.sub(r"\{(\w+)\}", lambda m, params=params: self.number(params.get(m[1], 0)),
                           table.get(getattr(message, "code", "invalid")) or table["invalid"])
            sentences.append(f"{self.strings[labels[name]]}: {words}" if name in labels else words)
        return " ".join(sentences) or table.get(code) or table["error"]

    def date(self, value: str) -> str:
        """A short date for the time's text (the widget replaces it with "5 minutes ago")."""
        return _date_format(self.code, False).format(_seconds(value))

    def date_time(self, value: str) -> str:
        """The widget's title for a time (dateStyle long, timeStyle short), in UTC."""
        return _date_format(self.code, True).format(_seconds(value)) + " UTC"


def words(code: str) -> Words:
    return Words(code, strings(code))


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@lru_cache(maxsize=16)
def _number_format(code: str):
    return icu.NumberFormat.createInstance(icu.Locale(code))


@lru_cache(maxsize=16)
def _plural_rules(code: str):
    return icu.PluralRules.forLocale(icu.Locale(code))


@lru_cache(maxsize=32)
def _date_format(code: str, with_time: bool):
    locale = icu.Locale(code)
    if with_time:
        found = icu.DateFormat.createDateTimeInstance(icu.DateFormat.LONG, icu.DateFormat.SHORT, locale)
    else:
        found = icu.DateFormat.createDateInstance(icu.DateFormat.MEDIUM, locale)
    found.setTimeZone(icu.TimeZone.getGMT())
    return found


@lru_cache(maxsize=4096)
def identicon(avatar: str) -> tuple[str, str, str]:
    """The widget's 5x5 mirrored identicon for an avatar hash: (background, foreground, path)."""
    if not re.fullmatch(r"[0-9a-fA-F]{12,}", avatar or ""):
        return "#d0d5db", "hsl(0 55% 36%)", "M0 0"
    bits, hue = int(avatar[:8], 16), int(avatar[8:12], 16) % 360
    path = "M0 0"
    for cell in range(15):
        x, y = cell % 3, cell // 3
        if bits >> cell & 1:
            path += f"M{x + .5:g} {y + .5:g}h1v1h-1zM{4.5 - x:g} {y + .5:g}h1v1h-1z"
    return f"hsl({hue} 60% 91%)", f"hsl({hue} 55% 36%)", path
