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
    made = seeding.seed(app)
    with app.app_context():
        hot = db.session.execute(select(Thread.id).where(Thread.url == seeding.HOT)).scalar_one()
        in_hot = db.session.execute(select(func.count()).where(Comment.thread_id == hot)).scalar_one()
        total = db.session.execute(select(func.count(Comment.id))).scalar_one()
        db.session.remove()
    assert in_hot == seeding.HOT_COMMENTS and total == made["comments"] > seeding.HOT_COMMENTS
