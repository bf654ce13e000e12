"""Streaming XML for the Disqus and WordPress importers.

The file is read in 64 KiB chunks and fed to expat; only the record being
read (one post, one thread, one WordPress comment) is held as a small tree,
and it is handed out and forgotten as soon as its end tag is seen, so memory
stays flat however large the export is. Each record carries the line it
starts on, for messages.

Safety: entity declarations and external entities are refused (no "billion
laughs", no reading of local files), as defusedxml does.

Two defects that real exports (and the exporters' own test files) have are
repaired on the fly and reported: bytes before the XML declaration, and
attribute values without quotes (``<thread dsq:id=123/>``). Anything else that
is not well-formed XML stops the import with its line and column.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO
from xml.parsers import expat

from .base import ImportFailed, Summary

CHUNK = 64 * 1024
# A tag or comment still open at the end of a chunk is read again with the next
# one, by the repair below and by expat (2.5 re-reads an unfinished token at
# every Parse call), so one that goes on for ever costs the square of its
# length. Real exports' tags are a few hundred bytes; a longer one is refused.
MAX_TOKEN = 1024 * 1024
UNQUOTED_NOTE = "attribute values without quotes were repaired"

# In text: the start of a CDATA section, of a comment, or of a tag that may have an unquoted value.
_OPENER = re.compile(rb"<!\[CDATA\[|<!--|<[A-Za-z_:][^<>]*?=[ \t\r\n]*[^\s\"'<>]")
_TAG = re.compile(rb"<[^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*>")
# An attribute name starts after whitespace: without that lookbehind every
# position inside a long name was tried in turn (quadratic: 72 s on a 64 KB tag).
_ATTRIBUTE = re.compile(
    rb"(?<=\s)([^\s=/<>\"']+)([ \t\r\n]*=[ \t\r\n]*)(\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+?(?=\s|/?>))")
_ENDS = {b"<![CDATA[": b"]]>", b"<!--": b"-->"}


class Node:
    """A small element: local name, attributes by local name, children, text."""

    __slots__ = ("tag", "attrib", "children", "parts", "line", "parent")

    def __init__(self, tag: str, attrib: dict[str, str], line: int, parent: Node | None = None):
        self.tag, self.attrib, self.line, self.parent = tag, attrib, line, parent
        self.children: list[Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for name in path.split("/"):
            node = next((c for c in node.children if c.tag == name), None) if node else None
        return node

    def findtext(self, path: str, default: str = "") -> str:
        node = self.find(path)
        return node.text.strip() if node is not None else default

    def attr(self, path: str, name: str) -> str | None:
        node = self.find(path)
        return node.attrib.get(name) if node is not None else None


class _Repair:
    """Fixes leading junk and unquoted attribute values in a byte stream, chunk by chunk.

    Linear in the stream: a CDATA section or comment that goes on past a chunk
    is passed on as it is read (only a possible start of its end marker is
    kept back), and an unfinished tag is carried into the next chunk only up
    to MAX_TOKEN bytes.
    """

    def __init__(self, summary: Summary):
        self.summary = summary
        self.started = False
        self.carry = b""
        self.inside: bytes | None = None  # the end marker of a CDATA section or comment still open
        self.inside_bytes = 0  # how much of it has been passed on
        self.line = 1  # line number of the first byte not yet emitted

    def feed(self, data: bytes, final: bool) -> bytes:
        buf = self.carry + data
        self.carry = b""
        if not self.started:
            start = buf.find(b"<")
            if start < 0 and not final:
                self.carry = buf
                return b""
            if start > 0:
                junk = buf[:start]
                if junk.strip(b" \t\r\n\xef\xbb\xbf"):
                    self.summary.note("bytes before the XML declaration were ignored",
                                      f"{junk[:20]!r} on line 1")
                self.line += junk.count(b"\n")
                buf = buf[start:]
            self.started = True
        out: list[bytes] = []
        pos, carry_from = 0, None
        while True:
            if self.inside is not None:  # in a CDATA section or comment: nothing to repair until its end
                end = buf.find(self.inside, pos)
                if end < 0:
                    if not final:  # keep back what may be the start of the end marker
                        carry_from = max(pos, len(buf) - len(self.inside) + 1)
                        self.inside_bytes += carry_from - pos
                        # expat reads CDATA as it comes, but a comment as one token
                        if self.inside == b"-->" and self.inside_bytes > MAX_TOKEN:
                            self._too_long("a comment", out, buf, pos)
                    break
                out.append(buf[pos:end + len(self.inside)])
                pos, self.inside = end + len(self.inside), None
            m = _OPENER.search(buf, pos)
            if m is None:
                break
            start, token = m.start(), m.group()
            if token in _ENDS:
                out.append(buf[pos:m.end()])
                pos, self.inside, self.inside_bytes = m.end(), _ENDS[token], 0
                continue
            tag = _TAG.match(buf, start)
            if tag is None:
                if final:  # not a tag at all: leave it to expat to report
                    out.append(buf[pos:m.end()])
                    pos = m.end()
                    continue
                carry_from = start
                break
            fixed = _ATTRIBUTE.sub(self._quote, tag.group())
            out.append(buf[pos:start])
            if fixed != tag.group():
                if UNQUOTED_NOTE in self.summary.examples:
                    self.summary.note(UNQUOTED_NOTE)
                else:  # the first one's line, for the message (counted once, not for every tag)
                    line = self.line + sum(chunk.count(b"\n") for chunk in out)
                    self.summary.note(UNQUOTED_NOTE, f"line {line}")
            out.append(fixed)
            pos = tag.end()
        if final:
            out.append(buf[pos:])
        else:
            if carry_from is None:  # a tag may have begun in the last bytes: carry it if unfinished
                last = buf.rfind(b"<", pos)
                carry_from = last if last >= 0 and not _TAG.match(buf, last) else len(buf)
            if self.inside is None and len(buf) - carry_from > MAX_TOKEN:
                self._too_long("a tag", out, buf, pos)
            out.append(buf[pos:carry_from])
            self.carry = buf[carry_from:]
        emitted = b"".join(out)
        self.line += emitted.count(b"\n")
        return emitted

    def _too_long(self, what: str, out: list[bytes], buf: bytes, pos: int) -> None:
        line = self.line + sum(chunk.count(b"\n") for chunk in out) + buf.count(b"\n", pos)
        raise ImportFailed(f"{what} longer than {MAX_TOKEN // 1024 // 1024} MiB ends after line {line}; "
                           "exports have none, and reading one would take minutes")

    @staticmethod
    def _quote(m: re.Match) -> bytes:
        value = m.group(3)
        if value[:1] in (b'"', b"'"):
            return m.group(0)
        return m.group(1) + m.group(2) + b'"' + value.replace(b"&", b"&amp;") + b'"'


def _refuse(parser, what: str):
    def handler(*_args):
        raise ImportFailed(f"the file declares {what} (line {parser.CurrentLineNumber}); exports never do, "
                           "so it is refused for safety")

    return handler


def records(fh: BinaryIO, wanted: set[tuple[str, int]], summary: Summary, name: str) -> Iterator[Node]:
    """Yield each element whose (local name, depth) is in ``wanted``, complete, then forget it.

    Depth 0 is the root element. A wanted element nested in another wanted
    element is handed out on its own and removed from its parent.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse(parser, "entities")
    parser.UnparsedEntityDeclHandler = _refuse(parser, "entities")
    parser.ExternalEntityRefHandler = _refuse(parser, "external entities")

    stack: list[Node | None] = []
    done: list[Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        building = bool(stack) and stack[-1] is not None
        if building or (local, len(stack)) in wanted:
            node = Node(local, {k.rpartition(" ")[2]: v for k, v in attrs.items()},
                        parser.CurrentLineNumber, stack[-1] if building else None)
            if building:
                stack[-1].children.append(node)  # type: ignore[union-attr]
            stack.append(node)
        else:
            stack.append(None)

    def end(tag: str) -> None:
        node = stack.pop()
        if node is not None and (node.tag, len(stack)) in wanted:
            if stack and stack[-1] is not None and stack[-1].children and stack[-1].children[-1] is node:
                stack[-1].children.pop()
            done.append(node)

    def chars(data: str) -> None:
        if stack and stack[-1] is not None:
            stack[-1].parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars

    repair = _Repair(summary)
    while True:
        chunk = fh.read(CHUNK)
        final = not chunk
        try:
            parser.Parse(repair.feed(chunk, final), final)
        except expat.ExpatError as exc:
            raise ImportFailed(
                f"{name} is not well-formed XML: {expat.ErrorString(exc.code)} "
                f"at line {exc.lineno}, column {exc.offset + 1}"
            ) from None
        yield from done
        done.clear()
        if final:
            return
