"""Every language file is complete and written in its language (issue 19; docs/translating.md).

Per language: the file loads; it has every table and every key of English, no more; each plural
table has exactly the forms ICU's CLDR rules name for the language (the browser's
Intl.PluralRules uses the same data); placeholders are English's; no string is English's (names
and words the language shares with English are listed below, each with its reason); the
letters are in the language's own script; right-to-left languages say so. English is read
from where it lives: the scripts' ``EN`` tables and ``static/i18n/en.json`` (errors, mail).
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import cache

import icu
import pytest

from widget_server.assets import STATIC_DIR, STRING_TABLES, languages
from widget_server.errors import FIELD_CODES

OTHERS = [lang for lang in languages(STATIC_DIR) if lang != "en"]
ENGLISH_IN = {"widget": "widget.js", "account": "widget-account.js", "live": "widget-live.js",
              "report": "widget-report.js"}
# Tables the server alone reads, never served to the widget: the mails a reader gets (delivery/mail_words.py).
SERVER_TABLES = ("mail",)
TABLES = (*STRING_TABLES, *SERVER_TABLES)
PLACEHOLDER = re.compile(r"\{\w+\}")
RIGHT_TO_LEFT = {"ar", "he", "fa"}
# The script most letters are written in (ISO 15924, as ICU names it); Latin for the rest.
SCRIPTS = {"ar": {"Arab"}, "fa": {"Arab"}, "he": {"Hebr"}, "ru": {"Cyrl"}, "uk": {"Cyrl"}, "el": {"Grek"},
           "hi": {"Deva"}, "th": {"Thai"}, "ko": {"Hang"}, "zh": {"Hani"},
           "ja": {"Hani", "Hira", "Kana"}}
# Strings that may equal English: names, and words the language writes as English does.
SAME_AS_ENGLISH = {
    "*": {"widget.comma"},  # ", " is the list separator of most languages
    "de": {"widget.name", "widget.opt", "widget.site"},  # "Name", "optional", "Website" are German too
    "fr": {"widget.title", "widget.email", "account.email"},  # "Discussion"; "E-mail" is French usage
    "it": {"widget.email", "account.email", "account.pw", "widget.acct"},  # "E-mail", "Password", "Account"
    "pt-BR": {"widget.email", "account.email"},  # "E-mail" is Brazilian usage
    "nl": {"widget.site"},  # "Website" is the Dutch word (beside "Naam", "E-mailadres")
}
# The error codes a reader can meet in the widget (besides the field codes); each needs words.
READER_CODES = {"edit_window_closed", "challenge_required", "challenge_invalid", "invalid_form_token",
                "too_fast", "duplicate", "banned", "payload_too_large", "forbidden", "unauthorized",
                "conflict", "sign_in_refused", "provider_unavailable", "invalid_state", "service_unavailable",
                "server_error", "error"}


def js_object(source: str, start: str) -> dict:
    """The object literal after ``start`` in a script, read as JSON (keys quoted, trailing commas
    dropped; strings are matched first, so their contents are never touched)."""
    at = source.index(start) + len(start) - 1
    depth, end = 0, at
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[{}]', source[at:]):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth == 0:
            end = at + match.end()
            break
    literal = re.sub(r'("(?:[^"\\]|\\.)*")|(\w+)\s*:', lambda m: m.group(1) or f'"{m.group(2)}":',
                     source[at:end])
    return json.loads(re.sub(r",(\s*})", r"\1", literal))


@cache
def english() -> dict[str, dict]:
    tables = {table: js_object((STATIC_DIR / name).read_text("utf-8"), "const EN = {")
              for table, name in ENGLISH_IN.items()}
    own = json.loads((STATIC_DIR / "i18n" / "en.json").read_text("utf-8"))
    tables |= {table: own[table] for table in ("errors", *SERVER_TABLES)}
    return tables


@cache
def load(lang: str) -> dict:
    return json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text("utf-8"))


def strings(tables: dict):
    """(table.key[.form], text) for every string of a file, plural forms one by one (not ``dir``)."""
    for table, entries in tables.items():
        for key, value in entries.items():
            if (table, key) == ("widget", "dir"):
                continue
            if isinstance(value, dict):
                for form, text in value.items():
                    yield f"{table}.{key}.{form}", text
            else:
                yield f"{table}.{key}", value


def plural_forms(lang: str) -> set[str]:
    return set(icu.PluralRules.forLocale(icu.Locale(lang.replace("-", "_"))).getKeywords())


def test_english_is_whole():
    """The reference itself: the tables the server serves, and words for every code a reader meets."""
    assert set(english()) == set(TABLES)
    assert set(english()["errors"]) == set(FIELD_CODES) | READER_CODES
    source = "".join(path.read_text("utf-8") for path in (STATIC_DIR.parent / "widget_server").rglob("*.py"))
    for code in READER_CODES - {"error"}:  # real codes, raised somewhere (or werkzeug's, in CODES)
        assert f'"{code}"' in source, code
    assert english()["widget"]["count"] == {"one": "{n} comment", "other": "{n} comments"}
    assert set(english()["live"]["more"]) == {"one", "other"}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_table_and_key(lang):
    data = load(lang)
    assert set(data) == set(TABLES), "tables"
    for table, reference in english().items():
        keys = set(data[table]) - ({"dir"} if table == "widget" else set())
        missing, unknown = set(reference) - keys, keys - set(reference)
        assert not missing and not unknown, f"{table}: missing {missing}, unknown {unknown}"
        for key, value in data[table].items():
            kind = dict if isinstance(reference.get(key), dict) else str
            assert isinstance(value, kind) and value, f"{table}.{key}"
    assert (data["widget"].get("dir") == "rtl") == (lang in RIGHT_TO_LEFT), "dir"
    assert data["widget"].get("dir", "rtl") == "rtl"


@pytest.mark.parametrize("lang", OTHERS)
def test_every_plural_form_the_language_needs(lang):
    data, forms = load(lang), plural_forms(lang)
    for table, reference in english().items():
        for key, value in reference.items():
            if isinstance(value, dict):
                assert set(data[table][key]) == forms, f"{table}.{key}: CLDR says {sorted(forms)}"


@pytest.mark.parametrize("lang", OTHERS)
def test_placeholders_are_englishs(lang):
    reference = dict(strings(english()))
    for name, text in strings(load(lang)):
        table, key, *form = name.split(".")
        if form:  # a plural form: "one", "two", "zero" may say the number in words ("one comment")
            wanted = set(PLACEHOLDER.findall(reference[f"{table}.{key}.other"]))
            found = set(PLACEHOLDER.findall(text))
            assert found <= wanted and (form[0] in {"zero", "one", "two"} or found == wanted), (name, text)
        else:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(reference[name])), name
        rest = PLACEHOLDER.sub("", text)
        assert "{" not in rest and "}" not in rest, (name, "a stray brace")


@pytest.mark.parametrize("lang", OTHERS)
def test_nothing_is_left_in_english(lang):
    reference = dict(strings(english()))
    allowed = SAME_AS_ENGLISH["*"] | SAME_AS_ENGLISH.get(lang, set())
    same = {name for name, text in strings(load(lang))
            if reference.get(name) == text and name.rsplit(".", 1)[0] not in allowed and name not in allowed}
    assert not same, f"identical to English: {sorted(same)}"


@pytest.mark.parametrize("lang", sorted(set(OTHERS) & set(SCRIPTS)))
def test_written_in_the_languages_own_script(lang):
    """Most letters of the file in the script, and every string with letters has some in it."""
    expected, total, inside = SCRIPTS[lang], 0, 0
    for name, text in strings(load(lang)):
        letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
        own = [ch for ch in letters if script(ch) in expected]
        total, inside = total + len(letters), inside + len(own)
        assert own or not letters, (name, text)
    assert inside / total > 0.9, f"{inside} of {total} letters in {expected}"


def test_chinese_is_simplified():
    """zh is Simplified Chinese: converting it from Traditional changes nothing."""
    to_simplified = icu.Transliterator.createInstance("Hant-Hans")
    for name, text in strings(load("zh")):
        assert to_simplified.transliterate(text) == text, name


@pytest.mark.parametrize("lang", sorted(set(OTHERS) - set(SCRIPTS)))
def test_latin_script_languages_are_in_latin_letters(lang):
    for name, text in strings(load(lang)):
        assert all(script(ch) == "Latn" for ch in text if unicodedata.category(ch).startswith("L")), name


def script(ch: str) -> str:
    return icu.Script.getScript(ord(ch)).getShortName()
