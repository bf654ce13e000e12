"""Comment text to safe HTML: the one place where reader text becomes markup.

Markdown (CommonMark via markdown-it-py, raw HTML off, images off, bare URLs
linkified) is rendered first, then bleach cleans the result against a small
allowlist. bleach is the safety net: even if the Markdown layer let something
through, only these tags, attributes and URL schemes survive. Create, edit,
preview and import all call ``render``.
"""
from __future__ import annotations

from functools import lru_cache, partial
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "a", "em", "strong", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "hr",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel", "title"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


def _set_rel(attrs, new=False):
    # Only absolute links survive: a relative one would resolve against whatever
    # page embeds the widget. Returning None keeps the text and drops the link.
    href = attrs.get((None, "href"), "")
    if urlsplit(href.strip()).scheme.lower() not in ALLOWED_PROTOCOLS:
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["linkify", "strikethrough"])
    # Headings and images make no sense in a comment (and images would load
    # third-party content): their Markdown stays literal text.
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    return md


@lru_cache(maxsize=1)
def _cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"},
                         parse_email=False)],
    )


def render(text: str) -> str:
    """Render reader-supplied Markdown to sanitized HTML."""
    html = _markdown().render(text)
    return _cleaner().clean(html).strip()
