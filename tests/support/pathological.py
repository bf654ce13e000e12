"""Reader texts at the longest length, built to make a backtracking regex or a rescanning parser
work hard, and an ordinary comment of the same length to time them against (the render bound
tests in-process and on a real gunicorn)."""
from __future__ import annotations

from widget_server.comments.render import MAX_LINK_RUN
from widget_server.config import SETTINGS

MAX_LENGTH = int(SETTINGS["MAX_TEXT_LENGTH"][0])


def fill(unit: str, length: int = MAX_LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def runs_of(unit: str, run: int = MAX_LINK_RUN) -> str:
    """Whitespace-free runs of ``unit`` as long as a link may be, one after another."""
    return fill(fill(unit, run - 1) + " ")


ORDINARY = fill(
    "Thanks for the write-up! I tried the *second* approach from your post and it worked, "
    "though I had to change the **timeout** first. The docs at https://example.org/docs/setup "
    "say the same thing.\n\n- one thing\n- another, with `code`\n\n> quoted from above\n\n")

SHAPES = {
    # The shapes: bleach's LinkifyFilter backtracked on them.
    "a.b- repeated": fill("a.b-"),
    "a.- repeated": fill("a.-"),
    "( repeated": fill("("),
    "a.b.c- repeated": fill("a.b.c-"),
    "url then hyphens": "http://" + fill("a-", MAX_LENGTH - 7),
    "url then (": "http://" + fill("(", MAX_LENGTH - 7),
    # markdown-it's inline rules.
    "<http:// repeated": fill("<http://"),
    "<a repeated": fill("<a"),
    "< repeated": fill("<"),
    "* repeated": fill("*"),
    "_ repeated": fill("_"),
    "*a repeated": fill("*a"),
    "***a repeated": fill("***a"),
    "*_ repeated": fill("*_"),
    "_* repeated": fill("_*"),
    "a~~ repeated": fill("a~~"),
    "` repeated": fill("`"),
    "`a repeated": fill("`a"),
    "``a repeated": fill("``a"),
    "[ repeated": fill("["),
    "[[ repeated": fill("[["),
    "] repeated": fill("]"),
    "![ repeated": fill("!["),
    "[a]( repeated": fill("[a]("),
    "[]( repeated": fill("[]("),
    "[a][ repeated": fill("[a]["),
    "backslash repeated": fill("\\"),
    "&# repeated": fill("&#"),
    "&#x repeated": fill("&#x"),
    "& repeated": fill("&"),
    "quote repeated": fill('"'),
    "reference definitions": fill("[x]: "),
    "lines": fill("a\n"),
    "list items": fill("1. \n"),
    "quotes nested": fill("> "),
    # linkify-it: fuzzy links, e-mails, schemes, paths with unclosed brackets.
    "www. repeated": fill("www."),
    "a@b. repeated": fill("a@b."),
    "http://a.io/ repeated": fill("http://a.io/"),
    "ftp://a.io/ repeated": fill("ftp://a.io/"),
    "//a.io/ repeated": fill("//a.io/"),
    "mailto: repeated": fill("mailto:"),
    "https://x.io/( repeated": fill("https://x.io/("),
    "url then [": "https://x.io/" + fill("[", MAX_LENGTH - 13),
    "url then quotes": "https://x.io/" + fill('"', MAX_LENGTH - 13),
    "url then dots": "http://" + fill("a.", MAX_LENGTH - 7),
    "runs of //a.io/": runs_of("//a.io/"),
    "runs of ftp://a.io/": runs_of("ftp://a.io/"),
    "runs of https://x.io/(": runs_of("https://x.io/("),
    "runs of url then [": runs_of("https://x.io/" + "[" * MAX_LINK_RUN),
    "runs of mailto:a@": runs_of("mailto:a@"),
    "runs of a.b-": runs_of("a.b-"),
}
