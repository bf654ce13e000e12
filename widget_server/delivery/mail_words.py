"""The words of the mails a reader gets, in the reader's language (issue 19; docs/translating.md).

The ``mail`` table of ``static/i18n/LANG.json``, English (``en.json``) filling what a file lacks.
``lang`` is a language the caller already matched to a file (comments/locale.py), stored with
the request that leads to the mail; anything else gets English. Durations are worded by ICU
(PyICU, already a dependency), as the widget words its times. Admin mails stay English.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import icu
from flask import current_app

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=64)
def _table(path: Path, _stamp: int) -> dict:
    data = json.loads(path.read_bytes())
    table = data.get("mail") if isinstance(data, dict) else None
    return table if isinstance(table, dict) else {}


def _load(code: str) -> dict:
    path = Path(current_app.config.get("STATIC_DIR") or STATIC_DIR) / "i18n" / f"{code}.json"
    return _table(path, path.stat().st_mtime_ns) if path.is_file() else {}


class MailWords:
    """One language's mail strings: ``words("key", page=...)`` fills the ``{page}`` placeholders."""

    def __init__(self, lang: str | None):
        own = _load(lang) if lang and lang != "en" else {}
        self.code = lang if own else "en"
        self.strings = {**_load("en"), **own}

    def __call__(self, key: str, **values: object) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[0])), self.strings[key])

    def duration(self, seconds: int) -> str:
        """``86400`` → "1 day", ``7200`` → "2 hours", ``90`` → "1 minute", in the language (ICU)."""
        if seconds % 86400 == 0:
            amount, unit = seconds // 86400, icu.MeasureUnit.createDay()
        elif seconds % 3600 == 0:
            amount, unit = seconds // 3600, icu.MeasureUnit.createHour()
        else:
            amount, unit = max(1, seconds // 60), icu.MeasureUnit.createMinute()
        return _measure_format(self.code).formatMeasures([icu.Measure(amount, unit)])


@lru_cache(maxsize=32)
def _measure_format(code: str):
    return icu.MeasureFormat(icu.Locale(code.replace("-", "_")), icu.UMeasureFormatWidth.WIDE)
