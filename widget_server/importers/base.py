"""What every importer shares: the records a reader yields, the cleaning of
names, e-mails, websites, dates and texts, HTML to Markdown, and the summary.

A reader (one module per format) turns a file into a stream of
``ThreadRecord``, ``CommentRecord`` and ``Skip`` values and keeps nothing else
in memory; ``loader`` stages that stream and writes it in one transaction.
"""
from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import BinaryIO

from ..models import DELETED, PENDING, PUBLISHED, SPAM
from ..urls import BadURL, normalize_website
from ..validation import email_address

MAX_AUTHOR = 100
MAX_EMAIL = 254
MAX_WEBSITE = 500
MAX_TITLE = 300
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class ImportFailed(Exception):
    """The file cannot be imported at all (nothing was written)."""


@dataclass
class ThreadRecord:
    key: str  # the source's own thread id, as posts refer to it
    url: str | None  # as found in the file (mapped and normalized later)
    title: str = ""
    locked: bool = False
    deleted: bool = False
    created_at: datetime | None = None
    last_number: int | None = None  # our own export format only
    where: str = ""


@dataclass
class CommentRecord:
    key: str  # the import_key: "<format>:<original id>"
    thread: str  # ThreadRecord.key
    created_at: datetime
    text: str = ""  # Markdown source; html is always render(text)
    parent: str | None = None  # the parent's import_key
    parent_id: int | None = None  # our own export format: the parent's original id
    author: str = ""
    email: str | None = None
    website: str | None = None
    state: str = PUBLISHED
    likes: int = 0
    edited_at: datetime | None = None
    ip_hash: str = ""
    pinned: bool = False
    number: int | None = None  # our own export format only
    id: int | None = None  # our own export format only
    where: str = ""


@dataclass
class Skip:
    """Something in the file that is not imported, and why."""

    reason: str  # general, so that the summary can count them
    detail: str = ""  # the first example: which record, where
    note: bool = False  # not a comment (a thread, say): reported as a note, not counted as skipped


@dataclass
class Summary:
    fmt: str
    path: str
    dry_run: bool = False
    threads_new: int = 0
    threads_existing: int = 0
    imported: Counter = field(default_factory=Counter)  # state -> count
    already: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    notes: Counter = field(default_factory=Counter)  # note -> count
    examples: dict[str, str] = field(default_factory=dict)  # reason or note -> first detail

    def skip(self, reason: str, detail: str = "", count: int = 1) -> None:
        self.skipped[reason] += count
        if detail:
            self.examples.setdefault(reason, detail)

    def note(self, note: str, detail: str = "", count: int = 1) -> None:
        self.notes[note] += count
        if detail:
            self.examples.setdefault(note, detail)

    @property
    def total_imported(self) -> int:
        return sum(self.imported.values())

    @property
    def all_skipped(self) -> bool:
        """The file had comments, but every one of them was skipped (none new, none imported before)."""
        return not self.total_imported and not self.already and bool(self.skipped)

    @property
    def no_comments(self) -> bool:
        """The file (of the right format) holds no comments at all."""
        return not self.total_imported and not self.already and not self.skipped

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.imported.items()))
        out = [f"{self.fmt} {self.path}: {verb} {self.total_imported} comments"
               + (f" ({states})" if states else "")
               + f" in {self.threads_new + self.threads_existing} threads"
               + f" ({self.threads_new} new, {self.threads_existing} existing)"]
        if self.already:
            out.append(f"  already imported before (skipped): {self.already}")
        if self.skipped:
            out.append(f"  skipped: {sum(self.skipped.values())}")
            for reason, n in self.skipped.most_common():
                example = self.examples.get(reason)
                out.append(f"    {n} x {reason}" + (f" (first: {example})" if example else ""))
        for note, n in self.notes.most_common():
            example = self.examples.get(note)
            out.append(f"  note: {n} x {note}" + (f" (first: {example})" if example else ""))
        if self.no_comments:
            out.append("  the file holds no comments: there was nothing to import")
        elif self.all_skipped:
            verb = "would be" if self.dry_run else "was"
            out.append(f"  nothing {verb} imported: every comment in the file was skipped (see why above)")
        if self.dry_run:
            out.append("  dry run: nothing was written")
        return out


# --- cleaning ------------------------------------------------------------------------------


def clean_line(value: object, max_len: int) -> str:
    """One line of plain text (names, titles): NFC, no control characters, single spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = " ".join(_CONTROL_RE.sub(" ", text).split())
    return text[:max_len]


def clean_text(value: object) -> str:
    """Multi-line text: NFC, LF line ends, no control characters (and no NUL, which PostgreSQL refuses)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text).strip()


def clean_email(value: object) -> str | None:
    """One plain address, checked as a posted one is (``validation.email_address``), or None."""
    email = clean_line(value, MAX_EMAIL + 1)
    if not email or len(email) > MAX_EMAIL:
        return None
    try:
        return email_address(email)
    except ValueError:
        return None


def clean_website(value: object) -> str | None:
    raw = clean_line(value, 4096)
    if not raw:
        return None
    try:
        website = normalize_website(raw)
    except BadURL:
        return None
    return website if len(website) <= MAX_WEBSITE else None


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 date (``Z``, offsets, fractions, or a space for ``T``) as aware UTC.

    A value without a time zone is taken as UTC. Raises ValueError.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        raw = str(value or "").strip()
        if not raw:
            raise ValueError("missing")
        parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_timestamp(value: object) -> datetime:
    """Seconds since the epoch (as Isso stores them) as aware UTC. Raises ValueError."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, OverflowError, OSError) as exc:
        raise ValueError(str(exc)) from None


def parse_bool(value: object, default: bool = False) -> bool:
    """``true``/``false`` (or 1/0) as XML exports write them; ValueError for anything else."""
    raw = str(value if value is not None else "").strip().lower()
    if raw == "":
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ValueError(raw)


def stable_hash(*parts: object) -> str:
    """A short, stable id for records that have none of their own."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


def finish(record: CommentRecord, *, wipe_deleted: bool = True) -> CommentRecord:
    """Last cleaning step for every comment a reader yields.

    A deleted comment is stored the way this service stores its own
    deletions: a tombstone without text, author, e-mail or website.
    """
    record.author = clean_line(record.author, MAX_AUTHOR)
    record.text = clean_text(record.text)
    if record.state not in (PUBLISHED, PENDING, DELETED, SPAM):
        record.state = PENDING
    if record.state == DELETED and wipe_deleted:
        record.text = record.author = ""
        record.email = record.website = None
        record.pinned = False
    record.likes = max(0, int(record.likes or 0))
    return record


# --- HTML (Disqus, WordPress) to Markdown-ish text --------------------------------------------

# html.parser (3.11) searches from each "<" for what closes it, to the end of the text when nothing
# does, and a run of such "<" costs the square of its length (9 s on 64 KB of "<a" or "<!-- ").
# Each "<" that nothing can close, or whose tag name runs into another "<" (no real tag's does),
# is text: _defuse escapes it first. "<![" without a name makes the parser raise instead.
_LT = re.compile(r"<(!--|!\[|(?=[a-zA-Z][^\t\n\r\f />\x00<]*<|/[^<>]*<))?")
_COMMENT_END = re.compile(r"--\s*>")
_SECTION_END = re.compile(r"]\s*>")
_CDATA_END = re.compile(r"]\s*]\s*>")
_SECTION_NAME = re.compile(r"[a-zA-Z][-_.a-zA-Z0-9]*")
_CDATA_LIKE = {"temp", "cdata", "ignore", "include", "rcdata"}  # closed by "]]>", the others by "]>"


def _last_start(pattern: re.Pattern, text: str) -> int:
    last = -1
    for m in pattern.finditer(text):
        last = m.start()
    return last


def _defuse(html: str) -> str:
    last_gt = html.rfind(">")
    if last_gt < 0:
        return html.replace("<", "&lt;")
    comment_end = _last_start(_COMMENT_END, html)
    section_end, cdata_end = _last_start(_SECTION_END, html), _last_start(_CDATA_END, html)

    def one(m: re.Match) -> str:
        at, opener = m.start(), m.group(1)
        if opener == "![":
            name = _SECTION_NAME.match(html, at + 3)
            end = cdata_end if name is not None and name.group().lower() in _CDATA_LIKE else section_end
            trap = name is None or end < at + 3
        else:
            trap = (at > last_gt or opener == ""  # the lookahead: a name or end tag running into "<"
                    or opener == "!--" and comment_end < at + 4)
        return "&lt;" + (opener or "") if trap else m.group()

    return _LT.sub(one, html)


_MD_ESCAPE = re.compile(r"([\\`*_\[\]<>&~])")
_LINE_START = re.compile(r"(^|\n)([ \t]*)([-+]|\d+[.)]|#+|=+)(?=[ \t]|$)")
_BLOCKS = {"p", "div", "table", "tr", "section", "article", "header", "footer", "dl", "dt", "dd",
           "figure", "figcaption", "address", "center"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROP = {"script", "style", "iframe", "object", "embed", "noscript", "template", "head", "title",
         "svg", "math", "frame", "frameset", "applet", "select", "textarea", "button"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "area", "base", "col", "source"}
_INLINE = {"em": "*", "i": "*", "cite": "*", "strong": "**", "b": "**", "del": "~~", "s": "~~",
           "strike": "~~"}


class _Markdownizer(HTMLParser):
    def __init__(self, keep_newlines: bool):
        super().__init__(convert_charrefs=True)
        self.keep_newlines = keep_newlines
        self.frames: list[list[str]] = [[]]  # nested buffers (links, quotes, pre)
        self.frame_tags: list[tuple[str, str | None]] = []
        self.dropping = 0
        self.lists: list[list] = []  # [kind, counter]
        self.pre = 0

    @property
    def out(self) -> list[str]:
        return self.frames[-1]

    def _at_line_start(self) -> bool:
        text = "".join(self.out[-3:])
        return not text or text.endswith("\n")

    def handle_starttag(self, tag, attrs):
        if tag in _DROP:
            if tag not in _VOID:
                self.dropping += 1
            return
        if self.dropping:
            return
        attributes = dict(attrs)
        if tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self.out.append("\n\n---\n\n")
        elif tag in _BLOCKS or tag in _HEADINGS:
            self.out.append("\n\n")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "img":
            src, alt = attributes.get("src") or "", attributes.get("alt") or ""
            if src.lower().startswith(("http://", "https://")):
                self.out.append(f"[{_escape(alt or 'image')}](<{src}>)")
            elif alt:
                self.out.append(_escape(alt))
        elif tag in ("a", "blockquote", "pre"):
            self.frames.append([])
            self.frame_tags.append((tag, attributes.get("href")))
            if tag == "pre":
                self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
            self.out.append("\n")
        elif tag == "li":
            indent = "  " * max(0, len(self.lists) - 1)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.out.append(f"\n{indent}{self.lists[-1][1]}. ")
            else:
                self.out.append(f"\n{indent}- ")

    def handle_startendtag(self, tag, attrs):
        if tag in _DROP:
            return
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        if tag in _BLOCKS or tag in _HEADINGS:
            self.out.append("\n\n")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.out.append("\n\n")
        elif tag in ("a", "blockquote", "pre") and self.frame_tags and self.frame_tags[-1][0] == tag:
            _tag, href = self.frame_tags.pop()
            inner = "".join(self.frames.pop())
            if tag == "a":
                self.out.append(_link(inner, href))
            elif tag == "blockquote":
                body = _tidy(inner)
                quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
                self.out.append(f"\n\n{quoted}\n\n")
            else:
                self.pre -= 1
                fence = "~~~~" if "```" in inner else "```"
                self.out.append(f"\n\n{fence}\n{inner.strip(chr(10))}\n{fence}\n\n")

    def handle_data(self, data):
        if self.dropping or not data:
            return
        if self.pre:
            self.out.append(data)
            return
        if self.keep_newlines:
            data = re.sub(r"[ \t\f\v]+", " ", data)
            data = re.sub(r" ?\n ?", "\n", data)
        else:
            data = re.sub(r"\s+", " ", data)
        data = _escape(data)
        if data.startswith(" ") and (not self.out or self.out[-1].endswith((" ", "\n"))):
            data = data.lstrip(" ")
        if self._at_line_start() or "\n" in data:
            data = _LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), data)
        self.out.append(data)

    def result(self) -> str:
        while len(self.frames) > 1:  # unclosed <a>, <blockquote> or <pre>: keep their text
            inner = "".join(self.frames.pop())
            self.out.append(inner)
        return _tidy("".join(self.out))


def _escape(text: str) -> str:
    return _MD_ESCAPE.sub(r"\\\1", text)


def _link(label: str, href: str | None) -> str:
    label = label.strip()
    href = (href or "").strip()
    if not href.lower().startswith(("http://", "https://", "mailto:")) or any(c in href for c in " <>\n"):
        return label
    if not label or label.replace("\\", "") == href:
        return f"<{href}>"
    return f"[{label}](<{href}>)"


def _tidy(text: str) -> str:
    # Trailing blanks line by line: the regex "[ \t]+\n" retried every position of a
    # long run of blanks without a newline (quadratic: 15 s on 64 KB of tabs in a <pre>).
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = re.sub(r"\n[ \t]+(?![-\d>*])", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def html_to_markdown(html: str | None, *, keep_newlines: bool = False) -> str:
    """Comment HTML (as Disqus and WordPress export it) as Markdown-ish source text.

    Paragraphs, line breaks, links, emphasis, code, quotes and lists carry
    over; scripts, styles and frames disappear with their content; every other
    tag is dropped and its text kept. The result still goes through
    ``render()`` like any comment: this only makes the source text readable
    and editable. ``keep_newlines`` is for WordPress, whose comments are text
    with newlines rather than HTML paragraphs.
    """
    if not html:
        return ""
    html = _defuse(clean_text(html))
    parser = _Markdownizer(keep_newlines)
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # the standard library's parser gives up on some "<!" forms: keep it all as text
        parser = _Markdownizer(keep_newlines)
        parser.feed(html.replace("<", "&lt;"))
        parser.close()
    return parser.result()


# --- progress ------------------------------------------------------------------------------


class ProgressFile:
    """A binary file whose reads move a progress bar (bytes, on stderr)."""

    def __init__(self, fh: BinaryIO, bar):
        self.fh, self.bar = fh, bar
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.consumed += len(data)
        if self.bar is not None:
            self.bar.update(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        """Start again (a reader that needs two passes): the bar grows by the file's size."""
        if self.bar is not None and self.bar.total is not None:
            self.bar.total += self.consumed
            self.bar.refresh()
        self.consumed = 0
        return self.fh.seek(offset, whence)


def progress_bar(enabled: bool, total: int | None, unit: str, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    scale = unit == "B"
    return tqdm(total=total, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0.5)
