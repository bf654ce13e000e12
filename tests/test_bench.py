"""The benchmark's seed (bench/seed.py) goes through the real write path: it must keep working."""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select

from widget_server.extensions import db
from widget_server.models import Comment, Thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import seed as seeding  # noqa: E402


def test_the_benchmark_seed_fills_a_database(app):
    app.config["ALLOWED_ORIGINS"] = [seeding.SITE]
    made = seeding.seed(app, hot_comments=60, threads_count=16)  # the benchmark's 500 and 200 take long
    with app.app_context():
        hot = db.session.execute(select(Thread.id).where(Thread.url == seeding.HOT)).scalar_one()
        in_hot = db.session.execute(select(func.count()).where(Comment.thread_id == hot)).scalar_one()
        total = db.session.execute(select(func.count(Comment.id))).scalar_one()
        deepest = db.session.execute(
            select(func.max(Comment.depth)).where(Comment.thread_id == hot)).scalar_one()
        db.session.remove()
    assert in_hot == 60 and total == made["comments"] > 60
    assert deepest >= 2  # replies nest, as in the benchmark's hot thread


def test_the_scale_loader_fills_a_database_and_leaves_it_as_the_migrations_made_it(app, monkeypatch):
    """bench/scale_load.py drops the comments' indexes and triggers for the load: they must all
    be back, the per-day counts and the search must cover every loaded row, and new rows too."""
    from sqlalchemy import inspect

    from bench import scale_load
    from widget_server.models import CommentCount
    from widget_server.moderation import service

    with app.app_context():
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("comments")}
        db.session.remove()
    # Large threads of 300 and 100 here (5,000 and 2,500 in the benchmark), so the test stays quick.
    monkeypatch.setattr(scale_load, "LARGE_SIZES", (300, 100))
    monkeypatch.setattr(scale_load, "LARGE_SIZE", 300)
    total = sum(scale_load.LARGE_SIZES) + 300
    scale_load.load(app, total)
    app.config["ALLOWED_ORIGINS"] = [scale_load.SITE]
    with app.app_context():
        assert {ix["name"] for ix in inspect(db.engine).get_indexes("comments")} == indexes
        count = db.session.execute(select(func.count(Comment.id))).scalar_one()
        counted = db.session.execute(select(func.sum(CommentCount.n))).scalar_one()
        large = db.session.execute(select(func.count()).where(
            Comment.thread_id == Thread.id, Thread.url == scale_load.large_url(0))).scalar_one()
        found, _ = service.search(None, None, "magnesium", 5, None)
        db.session.remove()
    assert count == counted == total and large == scale_load.LARGE_SIZE and len(found) == 5
    with app.test_client() as client:
        assert client.post("/api/v1/comments", json={"url": scale_load.page_url(9),
                                                     "text": "a quokka after the load"}).status_code == 201
    with app.app_context():
        assert db.session.execute(select(func.sum(CommentCount.n))).scalar_one() == total + 1
        found, _ = service.search(None, None, "quokka", 5, None)
        assert [c.text for c in found] == ["a quokka after the load"]
        db.session.remove()
