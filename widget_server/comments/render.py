"""Comment text to safe HTML: the one place where reader text becomes markup.

Markdown (CommonMark via markdown-it-py, raw HTML off, images off, bare URLs
linkified by linkify-it-py) is rendered first, then bleach cleans the result
against a small allowlist. Links get their policy in markdown-it: only
http, https and mailto survive as links (any other link, relative ones
included, is dropped to its text) and every link carries ``rel``. bleach is
the safety net: even if the Markdown layer let something through, only these
tags, attributes and URL schemes survive. Create, edit, preview and import all
call ``render``.

The work is linear in the text: bleach's own linkifier (a backtracking URL
regex, 30 s on 10,000 characters of ``a.b-``) is not used, and markdown-it's
inline linkify rule is replaced by one that looks at the scheme in constant
time (the library's searches the whole pending text at every ``://``).
tests/test_render_bounds.py holds every shape known to be costly to a bound.
"""
from __future__ import annotations

import html as html_lib
import re
import threading
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

import bleach
from bleach import html5lib_shim
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline

from ..errors import ValidationError, problem

ALLOWED_TAGS = frozenset({
    "p", "br", "a", "em", "strong", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "hr",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel", "title"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# A run of text without whitespace longer than this is never made a link: within
# one run linkify-it's URL regexes cost up to the square of its length (every
# unclosed bracket looks ahead to the run's end). URLs this long are not shared
# by hand; 2,048 is the length browsers and sitemaps have long been held to.
MAX_LINK_RUN = 2048
_RUN = re.compile(r"\S+")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-")


def _allowed(href: str) -> bool:
    # Only absolute links survive: a relative one would resolve against whatever
    # page embeds the widget.
    return urlsplit(href.strip()).scheme.lower() in ALLOWED_PROTOCOLS


class _BoundedLinkify(LinkifyIt):
    """linkify-it, run only on stretches of text whose runs are at most MAX_LINK_RUN long.

    Links never contain whitespace, so cutting the text there changes no link;
    a longer run is left as text.
    """

    def _stretches(self, text: str):
        start = 0
        for run in _RUN.finditer(text):
            if run.end() - run.start() > MAX_LINK_RUN:
                if run.start() > start:
                    yield start, text[start:run.start()]
                start = run.end()
        if start < len(text):
            yield start, text[start:] if start else text

    def test(self, text: str) -> bool:
        return any(super(_BoundedLinkify, self).test(part) for _, part in self._stretches(text))

    def match(self, text: str):
        found = []
        for offset, part in self._stretches(text):
            for link in super().match(part) or ():
                link.index += offset
                link.last_index += offset
                found.append(link)
        return found or None

    def match_at_start(self, text: str):
        run = _RUN.match(text, 0, MAX_LINK_RUN + 1)
        if run is None or run.end() > MAX_LINK_RUN:
            return None
        return super().match_at_start(text[:run.end()])


def _link_policy(state: StateCore) -> None:
    """Every link: ``rel`` set if its scheme is allowed, else unwrapped to its text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept, dropped = [], []  # dropped: one flag per open link, matched by its link_close
        for token in block.children:
            if token.type == "link_open":
                ok = _allowed(str(token.attrGet("href") or ""))
                dropped.append(not ok)
                if not ok:
                    continue
                token.attrSet("rel", LINK_REL)
            elif token.type == "link_close" and dropped and dropped.pop():
                continue  # the close of a dropped link
            kept.append(token)
        block.children = kept


def _linkify_inline(state: StateInline, silent: bool) -> bool:
    """markdown-it's inline linkify rule for http(s), with the scheme found in constant time.

    Upstream finds the scheme with ``re.search`` over the whole pending text at
    every ``://`` that fails to make a link, which is quadratic on
    ``<http://`` repeated. Other schemes (ftp, ``//``, mailto) are left to the
    core linkify rule, and _link_policy then keeps only mailto among them.
    """
    pos, src = state.pos, state.src
    if state.linkLevel > 0 or pos + 3 > state.posMax or src[pos:pos + 3] != "://":
        return False
    pending = state.pending
    for proto in ("https", "http"):  # the whole scheme: no scheme character before it
        length = len(proto)
        if pending[-length:].lower() == proto and (
                len(pending) == length or pending[-length - 1] not in _SCHEME_CHARS):
            break
    else:
        return False
    start = pos - length  # the window is cut to one run at most: see MAX_LINK_RUN
    link = state.md.linkify.match_at_start(src[start:min(state.posMax, start + MAX_LINK_RUN + 1)])
    if not link:
        return False
    url = link.url.rstrip("*")  # a '*' at the end is emphasis, not the link (as upstream)
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = pending[:-length]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup, token.info = "linkify", "auto"
        token = state.push("text", "", 0)
        token.content = state.md.normalizeLinkText(url)
        token = state.push("link_close", "a", -1)
        token.markup, token.info = "linkify", "auto"
    state.pos += len(url) - length
    return True


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["linkify", "strikethrough"])
    # Headings and images make no sense in a comment (and images would load
    # third-party content): their Markdown stays literal text.
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    md.linkify = _BoundedLinkify()
    md.inline.ruler.at("linkify", _linkify_inline)
    md.core.ruler.after("linkify", "link_policy", _link_policy)
    return md


_EtreeWalker = html5lib_shim.getTreeWalker("etree")


class _Walker(_EtreeWalker):
    """html5lib's etree walker, told the way back up instead of searching for it.

    On leaving an element the stock walker looks its parent up among the
    grandparent's children (``list.count`` and ``list.index``): quadratic in
    a paragraph of many nested inline elements ("***a" repeated). This one keeps
    each open element's index on a stack. The walk, and so the output, is the
    same.
    """

    def __init__(self, tree):
        super().__init__(tree)
        self._keys: list[int | None] = []  # index of each element of ``parents`` in its own parent

    def getFirstChild(self, node):  # noqa: N802 - html5lib's names
        child = super().getFirstChild(node)
        if child is not None and child[3] is None:  # went down into ``node``'s elements
            self._keys.append(node[1] if isinstance(node, tuple) else None)
        return child

    def getNextSibling(self, node):  # noqa: N802
        sibling = super().getNextSibling(node)
        if sibling is not None and node[3] == "text":  # from an element's text down into its first child
            self._keys.append(node[1])
        return sibling

    def getParentNode(self, node):  # noqa: N802
        if not isinstance(node, tuple) or node[3] == "text":
            return super().getParentNode(node)
        parents = node[2]
        parent, key = parents.pop(), self._keys.pop()
        return (parent, key, parents, None) if parents else parent


_local = threading.local()


def _cleaner() -> bleach.Cleaner:
    # One per thread: a Cleaner's HTML parser keeps state while it works, and
    # bleach says it is not thread-safe (two gunicorn threads rendering at once
    # made html5lib raise, or mixed up their output). No LinkifyFilter:
    # markdown-it made the links already, and bleach's URL regex backtracks
    # (see the module docstring).
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
        )
        cleaner.walker = _Walker
    return cleaner


def render(text: str) -> str:
    """Render reader-supplied Markdown to sanitized HTML."""
    html = _markdown().render(text)
    return _cleaner().clean(html).strip()


# Characters that show nothing: format characters (zero-width space and joiners, bidi marks,
# the BOM, soft hyphen), separators, controls, lone combining marks, and the letters and
# symbols that are drawn blank (Hangul fillers, the blank Braille pattern, variation selectors).
_BLANK_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")
_TAG_RE = re.compile(r"<[^>]*>")


def shows_something(html: str) -> bool:
    """Whether sanitized HTML has a character a reader can see (``<p></p>``, a link without
    text, a rule or a string of zero-width spaces has none)."""
    text = html_lib.unescape(_TAG_RE.sub("", html))
    return any(ch not in _BLANK_CHARACTERS and unicodedata.category(ch) not in _BLANK_CATEGORIES
               for ch in text)


def render_visible(text: str) -> str:
    """``render``, refusing a text that renders to nothing visible (400 on ``text``): emptiness
    is judged after cleaning, so no invisible character or empty markup makes a comment."""
    html = render(text)
    if not shows_something(html):
        raise ValidationError({"text": problem("required", "must not be empty")})
    return html
