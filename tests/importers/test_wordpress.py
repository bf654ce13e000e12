"""WordPress (WXR) import: nesting, states, GMT dates, text with newlines, scripts gone."""
from __future__ import annotations

from support.imports import counts, fixture, rows, run, thread

from widget_server.models import DELETED, PENDING, PUBLISHED, SPAM

FIRST = "https://blog.example/first-post/"


def test_wordpress_export(runner, client, app):
    result = run(runner, "import", "wordpress", fixture("wordpress.xml"))
    assert "imported 7 comments" in result.output and "(2 new, 0 existing)" in result.output
    assert "1 x pingbacks and trackbacks are not comments" in result.output

    body = thread(client, FIRST)
    assert body["thread"]["title"] == "First post" and body["thread"]["comment_count"] == 3
    [writer] = body["comments"]
    assert writer["number"] == 1 and writer["created_at"] == "2021-05-01T10:00:00Z"  # comment_date_gmt
    assert writer["html"] == "<p>Nice <strong>post</strong>! click</p>"
    [replier] = writer["replies"]  # listed before its parent in the file
    assert replier["number"] == 2
    assert replier["html"] == "<p>A reply<br>\non two lines.</p>\n<p>And a second paragraph.</p>"
    assert replier["author"]["website"] == "https://replier.example/"
    [deep] = replier["replies"]
    assert deep["created_at"] == "2021-05-03T12:00:00Z"  # no GMT date: the local one, taken as UTC

    states = {c.author or c.number: c.state for c in rows(app, FIRST)}
    assert states == {"Writer": PUBLISHED, "Replier": PUBLISHED, "Deep": PUBLISHED, "Waiting": PENDING,
                      "Spammer": SPAM, 6: DELETED}
    assert all("script" not in c.html and "javascript" not in c.html for c in rows(app, FIRST))

    closed = thread(client, "https://blog.example/?p=9")
    assert closed["thread"]["locked"] is True and len(closed["comments"]) == 1
    assert counts(app) == (2, 7)  # the post without comments gets no thread


def test_wordpress_twice_and_dry_run(runner, app):
    dry = run(runner, "import", "wordpress", fixture("wordpress.xml"), "--dry-run")
    assert "would import 7 comments" in dry.output and counts(app) == (0, 0)
    run(runner, "import", "wordpress", fixture("wordpress.xml"))
    again = run(runner, "import", "wordpress", fixture("wordpress.xml"))
    assert "already imported before (skipped): 7" in again.output
    assert counts(app) == (2, 7)
