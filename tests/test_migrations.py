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


def test_0004_gives_existing_accounts_confusable_aware_keys(app):
    """Accounts made under the old keys get the new ones; a later name that now looks like an
    earlier one keeps its name under a key no new name can have."""
    from sqlalchemy import text

    from widget_server.extensions import db
    from widget_server.names import name_key, name_skeleton

    with app.app_context():
        flask_migrate.downgrade(revision="0003")
        for uid, name, old_key in ((1, "Mary Smith", "marysmith"), (2, "M\u0430ry Smith", "m\u0430rysmith"),
                                   (3, "Bob", "bob")):
            db.session.execute(text(
                "INSERT INTO users (id, email, display_name, name_key, password_hash, created_at)"
                " VALUES (:id, :email, :name, :key, 'x', CURRENT_TIMESTAMP)"),
                {"id": uid, "email": f"u{uid}@example.org", "name": name, "key": old_key})
        db.session.commit()
        flask_migrate.upgrade()
        rows = db.session.execute(text("SELECT id, name_key, name_skeleton FROM users ORDER BY id")).all()
        db.session.remove()
    assert rows[0][1:] == (name_key("Mary Smith"), name_skeleton("Mary Smith"))
    assert rows[1][1:] == (name_key("Mary Smith") + "~2", name_skeleton("Mary Smith") + "~2")
    assert rows[2][1:] == (name_key("Bob"), name_skeleton("Bob"))


def test_oidc_1_keeps_every_account_and_session_while_users_loosen(app):
    """oidc_1 makes users.email and password_hash nullable; on SQLite that rebuilds users, which
    must cascade into nobody's sessions (issue 18)."""
    from sqlalchemy import text

    from widget_server.extensions import db

    with app.app_context():
        flask_migrate.downgrade(revision="data_1")
        db.session.execute(text(
            "INSERT INTO users (id, email, display_name, name_key, name_skeleton, password_hash, created_at)"
            " VALUES (1, 'u1@example.org', 'Mary', 'mary', 'mary', 'x', CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO account_sessions (user_id, token_hash, refresh_hash, created_at, expires_at,"
            " refresh_expires_at) VALUES (1, 't', 'r', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"))
        db.session.commit()
        flask_migrate.upgrade()
        sessions = db.session.execute(text("SELECT user_id, via FROM account_sessions")).all()
        db.session.execute(text(
            "INSERT INTO users (id, display_name, name_key, name_skeleton, created_at)"
            " VALUES (2, 'Ann', 'ann', 'ann', CURRENT_TIMESTAMP)"))  # no address, no password
        db.session.commit()
        users = db.session.execute(text("SELECT id, email FROM users ORDER BY id")).all()
        db.session.remove()
    assert sessions == [(1, None)]
    assert users == [(1, "u1@example.org"), (2, None)]
