"""What kind of file is this? Checked before an import reads anything.

Every importer names what it expects (``LABEL``, ``EXPECTED``); ``sniff``
looks at the start of the file (the root element of XML, the top-level keys
of JSON, the tables of an SQLite database) and ``check`` refuses a file that
is recognisably something else, saying what was found and, when it can tell,
which format to use instead. Nothing is staged or written before this.

Only the start of the file is read: XML up to its root element, JSON up to
the first key (or entry) that tells the formats apart, so a large export
costs nothing extra. A file that is broken before it can be recognised is
left to its reader, whose error gives the line and column.
"""
from __future__ import annotations

import gzip
import os
import re
import shlex
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote
from xml.parsers import expat

import ijson

from .base import ImportFailed, Summary
from .peers import is_gzip
from .xmlstream import CHUNK, _Repair

SQLITE_MAGIC = b"SQLite format 3\x00"
DISQUS_NS = "http://disqus.com"
WXR_NS = re.compile(r"https?://wordpress\.org/export/[0-9.]+/?$")  # the wp prefix: .../export/1.2/
EXPORT_FORMAT = "widget-server-export"
XML, JSON, SQLITE, OTHER = "XML", "JSON", "SQLite", "other"
HEAD = 4096
_COMMENTO_KEYS = (("comments.item", "commentHex"), ("", "commenters"))
MAX_EVENTS = 5000  # JSON events looked at before giving up on telling formats apart

# format -> (what it is, the family of file it must be, what that looks like)
LABELS = {
    "disqus": ("a Disqus export", XML, "XML with the root element <disqus> in the Disqus namespace"),
    "wordpress": ("a WordPress export (WXR)", XML,
                  "XML with the root element <rss> declaring the WordPress namespace (wp)"),
    "isso": ("an Isso database", SQLITE, "Isso's SQLite file (comments.db) with tables threads and comments"),
    "isso-json": ("an Isso generic JSON export", JSON, 'a JSON list of threads {"id", "title", "comments"}'),
    "commento": ("a Commento export", JSON, 'a JSON object with "version", "comments" and "commenters"'),
    "json": ("a widget-server export", JSON, f'a JSON object starting with "format": "{EXPORT_FORMAT}"'),
    "remark42": ("a Remark42 backup", JSON,
                 'JSON lines, the first {"version": 1, "users", "posts"} (or gzipped)'),
    "artalk": ("an Artalk export (.artrans)", JSON, 'a JSON list of comments with "page_key", "nick", "rid"'),
    "waline": ("a Waline export", JSON,
               'a JSON object with "type": "waline" and "data": {"Comment": [...]}'),
    "twikoo": ("a Twikoo export", JSON,
               'a JSON list (or JSON lines) of comments with "_id", "nick", "comment"'),
    "cusdis": ("Cusdis' tables", JSON, 'Cusdis\' SQLite database, or a JSON object {"pages": [...], '
               '"comments": [...]}'),
}
# Formats whose files may also be of another family (Cusdis: its SQLite database).
ALSO = {"cusdis": {SQLITE}}
NEEDS_SITE = {"isso", "isso-json", "waline", "twikoo", "cusdis", "artalk"}


@dataclass
class Found:
    family: str  # XML, JSON, SQLite or other
    fmt: str | None  # the import format it is, when recognised
    what: str  # what was found, for messages
    broken: bool = False  # could not be read far enough to tell: the reader reports why


class _Stop(Exception):
    pass


def _xml(path: str) -> Found:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    namespaces: list[str] = []
    root: list[str] = []

    def declared(_prefix, uri):
        namespaces.append(uri or "")

    def start(tag, _attrs):
        root.append(tag)
        raise _Stop

    def refuse(*_args):
        raise _Stop

    parser.StartNamespaceDeclHandler = declared
    parser.StartElementHandler = start
    parser.EntityDeclHandler = parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    repair = _Repair(Summary(fmt="", path=path))
    try:
        with open(path, "rb") as fh:
            while not root:
                chunk = fh.read(CHUNK)
                parser.Parse(repair.feed(chunk, not chunk), not chunk)
                if not chunk:
                    break
    except (_Stop, expat.ExpatError, ImportFailed):
        pass
    if not root:
        return Found(XML, None, "XML whose root element cannot be read", broken=True)
    namespace, _sep, local = root[0].rpartition(" ")
    in_ns = f" in the namespace {namespace}" if namespace else " (no namespace)"
    if local == "disqus" and namespace.rstrip("/") in ("", DISQUS_NS):
        return Found(XML, "disqus", f"XML with the root element <disqus>{in_ns}")
    wxr = next((uri for uri in namespaces if WXR_NS.match(uri)), None)
    if local == "rss" and wxr:
        return Found(XML, "wordpress", f"XML with the root element <rss> and the WordPress namespace {wxr}")
    if local == "rss":
        return Found(XML, None, "an RSS feed without the WordPress namespace (wp), not a WXR export")
    return Found(XML, None, f"XML with the root element <{local}>{in_ns}")


def _json(path: str) -> Found:
    keys: list[str] = []
    item_keys: set[str] = set()
    first_item = ""
    try:
        with _open(path) as fh:
            for count, (prefix, event, value) in enumerate(ijson.parse(fh)):
                if count == 0:
                    if event not in ("start_map", "start_array"):
                        return Found(JSON, None, f"a single JSON {event}, not an object or a list")
                    top = event
                    continue
                if top == "start_array":
                    if prefix == "" and event == "end_array":
                        return Found(JSON, "isso-json", "an empty JSON list")
                    if count == 1 and event != "start_map":
                        kind = {"start_array": "list", "boolean": "true or false"}.get(event, event)
                        return Found(JSON, None, f"a JSON list whose first entry is a {kind}, not a thread")
                    if prefix == "item" and event == "map_key":
                        item_keys.add(str(value))
                        first_item = first_item or str(value)
                    if prefix == "item" and event == "end_map":
                        fmt = list_items_say(item_keys)
                        if fmt:
                            return Found(JSON, fmt, LIST_WHAT[fmt])
                        return Found(JSON, None, "a JSON list whose first entry has "
                                     + (f"the key {first_item!r}" if first_item else "no keys")
                                     + ", not a thread with id and comments")
                    continue
                if prefix == "" and event == "map_key":
                    keys.append(str(value))
                if prefix == "type" and event == "string" and value == "waline":
                    return Found(JSON, "waline", 'a JSON object with "type": "waline"')
                if prefix == "format" and event == "string":
                    if value == EXPORT_FORMAT:
                        return Found(JSON, "json", f'a JSON object with "format": "{EXPORT_FORMAT}"')
                    return Found(JSON, None, f'a JSON object whose "format" is {value!r}')
                if event == "map_key" and (prefix, value) in _COMMENTO_KEYS:
                    return Found(JSON, "commento", "a JSON object with Commento's comments and commenters")
                if prefix == "" and event == "end_map":
                    break
                if count > MAX_EVENTS:
                    break
    except ijson.JSONError:
        if top_level_keys_say(keys) is None:
            return Found(JSON, None, "JSON that is not valid", broken=True)
    except (OSError, UnicodeError, ValueError, EOFError):
        return Found(JSON, None, "JSON that is not valid", broken=True)
    fmt = top_level_keys_say(keys)
    listed = ", ".join(repr(k) for k in keys[:8]) + (", ..." if len(keys) > 8 else "")
    what = f"a JSON object with the keys {listed}" if keys else "an empty JSON object"
    return Found(JSON, fmt, what)


def top_level_keys_say(keys: list[str]) -> str | None:
    if "threads" in keys:
        return "json"
    if "comments" in keys and ("version" in keys or "commenters" in keys):
        return "commento"
    if "pages" in keys and "comments" in keys:
        return "cusdis"
    if "version" in keys and ("users" in keys or "posts" in keys):
        return "remark42"
    if "data" in keys and "tables" in keys:
        return "waline"
    if "results" in keys or ("_id" in keys and "comment" in keys):
        return "twikoo"
    return None


LIST_WHAT = {"isso-json": "a JSON list of threads (Isso's generic format)",
             "artalk": "a JSON list of comments with Artalk's page_key",
             "twikoo": "a JSON list of comments with Twikoo's _id and comment"}


def list_items_say(keys: set[str]) -> str | None:
    """What a JSON list is, from the keys of its first entry."""
    if "page_key" in keys or {"rid", "nick", "content"} <= keys:
        return "artalk"
    if "_id" in keys or {"nick", "comment", "url"} <= keys:
        return "twikoo"
    if keys & {"id", "title", "comments"}:
        return "isso-json"
    return None


def _open(path: str):
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115 - returned


def _sqlite(path: str) -> Found:
    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            columns = {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')}
                       for t in ("threads", "comments") if t in tables}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Found(SQLITE, None, f"an SQLite file that cannot be read ({exc})", broken=True)
    if "by_nickname" in columns.get("comments", ()):
        return Found(SQLITE, "cusdis", "an SQLite database with Cusdis' pages and comments tables")
    if "uri" in columns.get("threads", ()) and "tid" in columns.get("comments", ()):
        return Found(SQLITE, "isso", "an SQLite database with Isso's threads and comments tables")
    if "admin_tokens" in tables:
        return Found(SQLITE, None, "the SQLite database of a widget-server (move comments between servers "
                                   "with `widget-server export` and `widget-server import json`)")
    names = ", ".join(sorted(tables)[:8]) or "none"
    return Found(SQLITE, None, f"an SQLite database without Isso's tables (tables: {names})")


def sniff(path: str) -> Found:
    try:
        with _open(path) as fh:
            head = fh.read(HEAD)
    except (OSError, EOFError) as exc:
        return Found(OTHER, None, f"a gzip file that cannot be read ({exc})", broken=True)
    if head.startswith(SQLITE_MAGIC):
        return _sqlite(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return Found(OTHER, None, "an empty file")
    if text[:1] in (b"{", b"["):
        return _json(path)
    if text[:1] == b"<" or b"<?xml" in text[:64]:
        return _xml(path)
    return Found(OTHER, None, f"neither XML, JSON nor an SQLite database (it starts with {text[:24]!r})")


def check(fmt: str, path: str) -> None:
    """Raise ImportFailed unless ``path`` can be (or, broken, may have been meant to be) ``fmt``."""
    label, family, expected = LABELS[fmt]
    found = sniff(path)
    families = {family} | ALSO.get(fmt, set())
    if found.fmt == fmt or (found.fmt is None and found.broken and found.family in families):
        return
    message = f"{path} is not {label}: it is {found.what}, where {expected} was expected"
    if found.fmt is not None:
        other = LABELS[found.fmt][0]
        site = " --site https://your.site" if found.fmt in NEEDS_SITE else ""
        message = (f"{path} is not {label}: this looks like {other} ({found.what}): "
                   f"try `widget-server import {found.fmt} {shlex.quote(path)}{site}`")
    raise ImportFailed(message + "; nothing was imported")
