"""Migrations: the same Alembic history builds the models' schema on SQLite and PostgreSQL."""
from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect


def test_migrated_schema_matches_the_models(app):
    # The session database was built by running every migration; autogenerate
    # must find nothing left to do (alembic check raises if it does).
    with app.app_context():
        flask_migrate.check()


def test_read_path_indexes_exist(app):
    from widget_server.extensions import db

    with app.app_context():
        inspector = inspect(db.engine)
        comment_indexes = {ix["name"] for ix in inspector.get_indexes("comments")}
        wanted = {"ix_comments_thread_state", "ix_comments_state_created", "ix_comments_parent_id"}
        assert wanted <= comment_indexes
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("threads")}
        assert ("url",) in uniques


def test_downgrade_and_upgrade_again(app):
    with app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade()
        flask_migrate.check()
