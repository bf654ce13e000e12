"""HTML (Disqus, WordPress) to the Markdown-ish text comments are stored as.

Imported text is rendered by the same sanitizer as posted text afterwards; this
only keeps what the HTML meant (paragraphs, emphasis, links, quotes, lists) as
Markdown, escaping everything else so it stays literal.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from .base import clean_text

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
