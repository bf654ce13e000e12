"""Helpers shared by the import, export and feed tests."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from widget_server.extensions import db
from widget_server.models import Comment, Thread
from widget_server.ops.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def run(runner, *args, expect_ok: bool = True):
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    if expect_ok:
        assert result.exit_code == 0, result.output
    return result


def thread(client, url: str) -> dict:
    response = client.get("/api/v1/comments", query_string={"url": url, "limit": 200})
    assert response.status_code == 200, response.json
    return response.json


def flat(comments: list[dict]) -> list[dict]:
    out: list[dict] = []
    stack = list(reversed(comments))
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(reversed(item["replies"]))
    return out


def by_text(body: dict) -> dict[str, dict]:
    return {c["html"]: c for c in flat(body["comments"])}


def counts(app) -> tuple[int, int]:
    with app.app_context():
        threads = db.session.execute(select(func.count(Thread.id))).scalar()
        comments = db.session.execute(select(func.count(Comment.id))).scalar()
        return threads, comments


def rows(app, url: str) -> list[Comment]:
    with app.app_context():
        found = db.session.execute(
            select(Comment).join(Thread).where(Thread.url == url).order_by(Comment.number)
        ).scalars().all()
        db.session.expunge_all()
        return found


def shared_fixtures() -> Path | None:
    root = os.environ.get("WIDGET_TEST_SHARED")
    return Path(root) / "fixtures" if root else None
