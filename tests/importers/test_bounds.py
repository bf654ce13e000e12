"""No regex or parser that reads import files or reader fields does super-linear work (outside audit, item 1).

Each case builds one input shape at two sizes, 16 times apart, and times the
code that reads it (CPU time of this thread, best of a few runs): linear work
grows about 16-fold, quadratic work 256-fold. The bound is 64-fold, four times
linear, which leaves room for noise and for caches that a larger input
outgrows, and none for a square. Each shape was quadratic before its fix
(docs/security.md has the figures).
"""
from __future__ import annotations

import io
import time

import pytest

from widget_server.comments.render import render
from widget_server.comments.screening import _word_pattern
from widget_server.fields import EMAIL_RE
from widget_server.importers.base import ImportFailed, Summary
from widget_server.importers.markup import html_to_markdown
from widget_server.importers.xmlstream import CHUNK, MAX_TOKEN, records

GROWTH = 16
BOUND = 4 * GROWTH
RUNS = 3


def fill(unit, length: int):
    return (unit * (length // len(unit) + 1))[:length]


def disqus(body: bytes) -> bytes:
    return (b"<?xml version='1.0' encoding='utf-8'?>\n<disqus xmlns:dsq='http://disqus.com/disqus-internals'>"
            b"<post dsq:id='1'>" + body + b"</post></disqus>")


def read_xml(data: bytes) -> None:
    try:
        for _node in records(io.BytesIO(data), {("post", 1)}, Summary("disqus", "bounds.xml"), "bounds.xml"):
            pass
    except ImportFailed as exc:  # broken on purpose is fine, as long as saying so is quick
        assert "not well-formed" in str(exc) or "longer than" in str(exc), exc


WORDS = _word_pattern(tuple(f"blocked{n}word" for n in range(200)))

# name: (the code under test, the input at a given size in bytes or characters, the smaller size)
CASES = {
    # The XML repair of unquoted attribute values: a long name, many tags, long runs.
    "xml: long attribute name in a tag with an unquoted value":
        (read_xml, lambda n: disqus(b"<m a=1 " + b"b" * n + b"/>"), 4096),
    "xml: long attribute name before an unquoted value":
        (read_xml, lambda n: disqus(b"<m " + b"b" * n + b" a=1/>"), 4096),
    "xml: many tags with unquoted values": (read_xml, lambda n: disqus(fill(b"<m a=1/>", n)), 4096),
    "xml: many = in a tag": (read_xml, lambda n: disqus(b"<m " + fill(b"a=", n) + b"/>"), 4096),
    "xml: blanks in a tag": (read_xml, lambda n: disqus(b"<m a=1" + b" " * n + b"/>"), 4096),
    # What goes on across chunks: read once, never carried and read again.
    "xml: CDATA across chunks":
        (read_xml, lambda n: disqus(b"<message><![CDATA[" + b"x" * n + b"]]></message>"), 4 * CHUNK),
    "xml: comment across chunks": (read_xml, lambda n: disqus(b"<!--" + b"x" * n + b"-->"), 4 * CHUNK),
    "xml: text across chunks":
        (read_xml, lambda n: disqus(b"<message>" + b"x" * n + b"</message>"), 4 * CHUNK),
    "xml: quoted value across chunks": (read_xml, lambda n: disqus(b'<m a="' + b"x" * n + b'"/>'), 4 * CHUNK),
    "xml: unquoted value across chunks": (read_xml, lambda n: disqus(b"<m a=" + b"x" * n + b"/>"), 4 * CHUNK),
    "xml: unfinished tag across chunks": (read_xml, lambda n: disqus(b"<m a=1 " + fill(b"b ", n)), 4 * CHUNK),
    # Disqus and WordPress comment HTML to Markdown (html_to_markdown and html.parser under it).
    "html: blanks in <pre>": (html_to_markdown, lambda n: "<pre>" + " " * n + "x</pre>", 4096),
    "html: tabs in <pre>": (html_to_markdown, lambda n: "<pre>" + "\t" * n + "x</pre>", 4096),
    "html: <a repeated": (html_to_markdown, lambda n: fill("<a", n), 4096),
    "html: </ repeated": (html_to_markdown, lambda n: fill("</", n), 4096),
    "html: <!-- repeated": (html_to_markdown, lambda n: fill("<!-- ", n), 4096),
    "html: <? repeated": (html_to_markdown, lambda n: fill("<?", n), 4096),
    "html: <![CDATA[ repeated": (html_to_markdown, lambda n: fill("<![CDATA[ ]>", n), 4096),
    "html: <![ repeated": (html_to_markdown, lambda n: fill("<![if", n) + ">", 4096),
    "html: <a b=' repeated": (html_to_markdown, lambda n: fill("<a b='", n) + ">", 4096),
    # E-mail addresses (a ban's value has no length limit of its own) and blocked words.
    "e-mail: dots in the domain": (EMAIL_RE.match, lambda n: "a@" + fill("b.", n) + " ", 4096),
    "e-mail: dots in the local part": (EMAIL_RE.match, lambda n: fill("a.", n) + "@b", 4096),
    "blocked words: a long text": (WORDS.search, lambda n: fill("blocked1wor ", n), 4096),
    # render() of an imported text, which has no length limit.
    "render: a.b- repeated": (render, lambda n: fill("a.b-", n), 4096),
    "render: <http:// repeated": (render, lambda n: fill("<http://", n), 4096),
    "render: //a.io/ repeated": (render, lambda n: fill("//a.io/", n), 4096),
    "render: https://x.io/( repeated": (render, lambda n: fill("https://x.io/(", n), 4096),
    # Nested inline elements: html5lib's tree walker under bleach searched each parent's siblings.
    "render: ***a repeated": (render, lambda n: fill("***a", n), 16384),
}


def cpu_seconds(code, value) -> float:
    start = time.thread_time()
    code(value)
    return time.thread_time() - start


def best(code, value) -> float:
    return min(cpu_seconds(code, value) for _ in range(RUNS))


@pytest.mark.parametrize("name", CASES)
def test_work_grows_linearly_with_the_input(name):
    code, shape, small = CASES[name]
    small_input, large_input = shape(small), shape(GROWTH * small)
    code(small_input)  # warm up
    small_time = max(best(code, small_input), 1e-4)  # below the clock's useful resolution, call it 0.1 ms
    large_time = cpu_seconds(code, large_input)
    if large_time > BOUND * small_time and large_time < 10 * BOUND * small_time:  # near the bound: best of
        large_time = min(large_time, best(code, large_input))
    assert large_time <= BOUND * small_time, (
        f"{name}: {GROWTH} times the input took {large_time / small_time:.0f} times as long "
        f"({small_time:.4f} s, then {large_time:.3f} s); the bound is {BOUND}")


def test_a_long_cdata_section_is_read_whole():
    message = b"x" * (3 * MAX_TOKEN)  # longer than any tag may be, across many chunks
    data = disqus(b"<message><![CDATA[" + message + b"]]></message>")
    nodes = list(records(io.BytesIO(data), {("post", 1)}, Summary("disqus", "x.xml"), "x.xml"))
    assert nodes[0].findtext("message") == message.decode()


@pytest.mark.parametrize("body, what", [
    (b'<m a="' + b"x" * (2 * MAX_TOKEN) + b'"/>', "a tag"),
    (b"<!--" + b"x" * (2 * MAX_TOKEN) + b"-->", "a comment"),
])
def test_a_tag_or_comment_longer_than_any_export_has_is_refused(body, what):
    with pytest.raises(ImportFailed, match=f"^{what} longer than 1 MiB ends after line 2;"):
        list(records(io.BytesIO(disqus(body)), {("post", 1)}, Summary("disqus", "x.xml"), "x.xml"))


def test_unquoted_values_are_still_repaired_and_counted():
    summary = Summary("disqus", "x.xml")
    data = disqus(b"\n<m a=1/>" * 3 + b"<m b='2' c=3 d=\"4\"/>")
    node = next(records(io.BytesIO(data), {("post", 1)}, summary, "x.xml"))
    assert [child.attrib for child in node.children] == [{"a": "1"}] * 3 + [{"b": "2", "c": "3", "d": "4"}]
    assert summary.notes["attribute values without quotes were repaired"] == 4
    assert summary.examples["attribute values without quotes were repaired"] == "line 3"


@pytest.mark.parametrize("html, text", [
    ("<![", "\\<!\\["),  # html.parser raised AssertionError on this
    ("a <![ b ]> c", "a \\<!\\[ b \\]\\> c"),
    ("<a<a<a", "\\<a\\<a\\<a"),
    ("x </b </b", "x \\</b \\</b"),
    ("<b>bold</b> <!-- open", "**bold** \\<!-- open"),
    ("<p>kept</p><!-- hidden --><p>too</p>", "kept\n\ntoo"),
    ("<pre>code  \t\nmore</pre>", "```\ncode\nmore\n```"),
])
def test_html_the_parser_cannot_close_is_kept_as_text(html, text):
    assert html_to_markdown(html) == text
