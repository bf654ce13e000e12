"""Export, wipe, import: every reader endpoint answers exactly as before (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from sqlalchemy import update
from support.app import PAGE, SITE, base_config, wipe
from support.imports import OTHER, build_threads, counts, run

from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Comment, Thread


def _answers(client, ids: list[int]) -> dict:
    answers = {}
    for url in (PAGE, OTHER):
        for sort in ("oldest", "newest", "top"):
            response = client.get("/api/v1/comments", query_string={"url": url, "sort": sort})
            assert response.status_code == 200
            answers[(url, sort)] = response.json
        paged = client.get("/api/v1/comments", query_string={"url": url, "limit": 1})
        answers[(url, "page")] = paged.json
    answers["counts"] = client.get("/api/v1/counts", query_string=[("url", PAGE), ("url", OTHER)]).json
    for comment_id in ids:
        answers[comment_id] = client.get(f"/api/v1/comments/{comment_id}").json
    return answers


def test_export_then_import_into_an_empty_database_answers_the_same(
        app, client, post, runner, admin_token, database_url, tmp_path):
    ids = build_threads(client, post, app, admin_token)
    before = _answers(client, ids)
    assert before["counts"]["counts"] == {PAGE: 4, OTHER: 2}
    stored = counts(app)

    export = tmp_path / "export.json"
    run(runner, "export", export)
    data = json.loads(export.read_text())
    assert data["format"] == "widget-server-export" and data["version"] == 2
    assert {c["state"] for c in data["comments"]} == {"published", "deleted", "spam", "pending"}
    raw = export.read_text()
    for secret in ("127.0.0.1", "10.0.0.1", "edit_token", admin_token):
        assert secret not in raw
    assert [t["name"] for t in data["admin_tokens"]] == ["test-admin"]  # its hash only, as stored

    wipe(app)
    assert counts(app) == (0, 0)
    fresh = create_app(base_config(database_url, tmp_path))  # a new server: no cache from before
    result = run(fresh.test_cli_runner(), "import", "json", export)
    assert f"imported {stored[1]} comments" in result.output
    assert counts(fresh) == stored
    after = _answers(fresh.test_client(), ids)
    assert after == before

    again = run(fresh.test_cli_runner(), "import", "json", export)
    assert "imported 0 comments" in again.output and counts(fresh) == stored

    # New comments after a restore get fresh ids and numbers.
    new = fresh.test_client().post("/api/v1/comments", json={"url": PAGE, "text": "after the restore"})
    assert new.status_code == 201 and new.json["comment"]["number"] == 8
    assert new.json["comment"]["id"] > max(c["id"] for c in data["comments"])
    wipe(fresh)


def test_import_of_an_export_into_a_busy_database_merges(app, client, post, runner, admin_token, tmp_path):
    build_threads(client, post, app, admin_token)
    export = tmp_path / "export.json"
    run(runner, "export", export)
    with app.app_context():
        db.session.execute(update(Comment).values(import_key=None))  # as if it came from elsewhere
        db.session.commit()
    post("Already here", url=f"{SITE}/busy")
    result = run(runner, "import", "json", export, "--map-url", f"{SITE}/=https://mirror.example/")
    assert "imported 9 comments" in result.output
    with app.app_context():
        mirrored = db.session.execute(
            db.select(Comment).join(Thread).where(Thread.url.startswith("https://mirror.example/"))
        ).scalars().all()
        by_text = {c.text: c for c in mirrored}
        assert by_text["A reply"].parent_id == by_text[next(t for t in by_text if t.startswith("First"))].id
        numbers = sorted(c.number for c in mirrored if c.thread.url.endswith("muscle-spasms"))
        assert numbers == list(range(1, 8))


def test_broken_export_is_refused(runner, app, tmp_path):
    not_ours = tmp_path / "other.json"
    not_ours.write_text('{"format": "something-else", "threads": []}')
    result = run(runner, "import", "json", not_ours, expect_ok=False)
    assert result.exit_code == 1 and "not a widget-server export" in result.output
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"format": "widget-server-export", "version": 1, "threads": [{"id": 1,')
    result = run(runner, "import", "json", truncated, expect_ok=False)
    assert result.exit_code == 1 and "not valid JSON" in result.output
    assert counts(app) == (0, 0)
