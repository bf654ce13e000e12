"""Commento JSON: commenters listed after comments, pages as domain + path, states."""
from __future__ import annotations

from support.imports import counts, fixture, rows, run, thread

from widget_server.models import DELETED, PENDING

PAGE = "https://blog.example/c/"


def test_commento_export(runner, client, app):
    result = run(runner, "import", "commento", fixture("commento.json"))
    assert "imported 4 comments" in result.output
    [top] = thread(client, PAGE)["comments"]
    assert top["author"]["name"] == "" and "<script" not in top["html"]
    [reply] = top["replies"]  # listed before its parent
    assert reply["author"]["name"] == "Pat" and reply["likes"] == 2 and reply["author"]["website"] is None
    assert reply["created_at"] == "2021-03-12T12:00:00Z"
    assert [c.state for c in rows(app, PAGE)][2:] == [PENDING, DELETED]
    run(runner, "import", "commento", fixture("commento.json"))
    assert counts(app) == (1, 4)
