"""What every importer shares: the records a reader yields, the cleaning of
names, e-mails, websites, dates and texts, the summary and the progress bar
(HTML to Markdown is markup.py).

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
from typing import BinaryIO

from ..fields import MAX_AUTHOR, MAX_EMAIL, MAX_TITLE, MAX_WEBSITE, email_address
from ..models import DELETED, PENDING, PUBLISHED, SPAM
from ..urls import BadURL, normalize_website

__all__ = ["MAX_AUTHOR", "MAX_EMAIL", "MAX_TITLE", "MAX_WEBSITE"]  # the readers take the limits from here
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
    updated: int = 0  # imported before and changed at the source since (update.py)
    changed: Counter = field(default_factory=Counter)  # field -> comments whose field changed
    restored: Counter = field(default_factory=Counter)  # a complete export's other sections: name -> rows

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
        return not self.total_imported and not self.already and not self.updated and bool(self.skipped)

    @property
    def no_comments(self) -> bool:
        """The file (of the right format) holds no comments at all."""
        return not self.total_imported and not self.already and not self.updated and not self.skipped

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.imported.items()))
        out = [f"{self.fmt} {self.path}: {verb} {self.total_imported} comments"
               + (f" ({states})" if states else "")
               + f" in {self.threads_new + self.threads_existing} threads"
               + f" ({self.threads_new} new, {self.threads_existing} existing)"]
        if self.restored:
            out.append("  and " + ", ".join(f"{n} {name}" for name, n in self.restored.items()))
        if self.updated:
            fields = ", ".join(f"{name} {n}" for name, n in self.changed.most_common())
            out.append(f"  {'would update' if self.dry_run else 'updated'} {self.updated} comments imported "
                       f"before that changed at the source" + (f" (changed: {fields})" if fields else ""))
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
