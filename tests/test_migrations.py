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


def test_sites_1_puts_a_previous_release_database_in_the_default_site(app, client):
    """A database made by the previous release (at live_1) upgrades without noticing (issue 17):
    every thread, comment, token, ban and audit entry stays, every thread is in the default
    site, which has the configured origins and the server's settings, and the token still works."""
    import json

    from sqlalchemy import text
    from support.app import PAGE, SITE

    from widget_server.extensions import db
    from widget_server.security import token_hash

    statements = [
        "INSERT INTO threads (id, url, title, created_at, locked, last_number, version)"
        " VALUES (7, :page, 'Spasms', CURRENT_TIMESTAMP, false, 2, 3)",
        "INSERT INTO comments (id, thread_id, number, depth, author, text, html, state, created_at, likes,"
        " pinned, ip_hash) VALUES (11, 7, 1, 0, 'Ann', 'First', '<p>First</p>', 'published',"
        " CURRENT_TIMESTAMP, 0, false, '')",
        "INSERT INTO comments (id, thread_id, parent_id, number, depth, author, text, html, state,"
        " created_at, likes, pinned, ip_hash) VALUES (12, 7, 11, 2, 1, 'Bob', 'Held', '<p>Held</p>',"
        " 'pending', CURRENT_TIMESTAMP, 0, false, '')",
        "INSERT INTO admin_tokens (id, name, token_hash, created_at)"
        " VALUES (3, 'ops', :token_hash, CURRENT_TIMESTAMP)",
        "INSERT INTO bans (id, kind, value, reason, created_at, created_by, shadow)"
        " VALUES (4, 'email', 'spam@example.org', 'spam', CURRENT_TIMESTAMP, 'ops', false)",
        "INSERT INTO audit_log (id, at, actor, action, target, details)"
        " VALUES (5, CURRENT_TIMESTAMP, 'ops', 'ban', 'ban 4', '{}')",
    ]
    with app.app_context():
        flask_migrate.downgrade(revision="live_1")
        for statement in statements:
            db.session.execute(text(statement).bindparams(
                **{k: v for k, v in {"page": PAGE, "token_hash": token_hash("previous-release-token")}.items()
                   if f":{k}" in statement}))
        db.session.commit()
        flask_migrate.upgrade()
        site = db.session.execute(text("SELECT id, name, origins, settings FROM sites")).one()
        threads = db.session.execute(text("SELECT id, site_id FROM threads")).all()
        comments = db.session.execute(text("SELECT id, state FROM comments ORDER BY id")).all()
        rows = {table: db.session.execute(text(f"SELECT id, site_id FROM {table}")).all()  # noqa: S608
                for table in ("admin_tokens", "bans", "audit_log")}
        role = db.session.execute(text("SELECT role FROM admin_tokens")).scalar_one()
        db.session.remove()
    assert (site.id, site.name, json.loads(site.origins), json.loads(site.settings)) == \
        (1, "default", [SITE], {})
    assert threads == [(7, 1)]
    assert comments == [(11, "published"), (12, "pending")]
    assert rows == {"admin_tokens": [(3, None)], "bans": [(4, None)], "audit_log": [(5, None)]}
    assert role is None  # a global token, as before
    # The server behaves as before: the thread reads, the held comment waits, the token works.
    read = client.get("/api/v1/comments", query_string={"url": PAGE}, headers={"Origin": SITE})
    assert [c["id"] for c in read.json["comments"]] == [11] and read.json["config"]["moderation"] == "off"
    queue = client.get("/api/v1/admin/comments", query_string={"state": "pending"},
                       headers={"Authorization": "Bearer previous-release-token"})
    assert queue.status_code == 200, queue.json
    assert [c["id"] for c in queue.json["comments"]] == [12]
    # A new thread on the server's own origins lands in the default site too.
    assert client.post("/api/v1/comments", json={"url": f"{SITE}/new", "text": "After"}).status_code == 201
    with app.app_context():
        assert db.session.execute(text("SELECT site_id FROM threads WHERE id <> 7")).scalar_one() == 1
        db.session.remove()


def test_stats_2_gives_the_counts_of_a_previous_release_their_sites(app, frozen_clock):
    """A database made at mails_1 (counts without sites, several rows per day and state from its
    triggers) upgrades to counts per site equal to a count of each site's comments: a thread's
    NULL site stays NULL (the default site's, as sites.in_site reads it). Downgrading keeps the
    server's figures."""
    from sqlalchemy import text

    from widget_server.extensions import db
    from widget_server.moderation import service
    from widget_server.sites import service as sites_service

    with app.app_context():
        flask_migrate.downgrade(revision="mails_1")
        pg = db.engine.dialect.name == "postgresql"
        at = "{} 10:00:00+00:00" if pg else "{} 10:00:00.000000"
        for name in ("default", "shop"):
            db.session.execute(text(
                "INSERT INTO sites (name, origins, settings, version, created_at, updated_at)"
                " SELECT :n, '[]', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                " WHERE NOT EXISTS (SELECT 1 FROM sites WHERE name = :m)"), {"n": name, "m": name})
        home, shop = (db.session.execute(text("SELECT id FROM sites WHERE name = :n"), {"n": n}).scalar_one()
                      for n in ("default", "shop"))
        for thread_id, site_id in ((1, None), (2, home), (3, shop)):
            db.session.execute(text(
                "INSERT INTO threads (id, url, site_id, title, created_at, locked, last_number, version)"
                " VALUES (:id, :url, :site, '', CURRENT_TIMESTAMP, false, 9, 1)"),
                {"id": thread_id, "url": f"https://blog.example/{thread_id}", "site": site_id})
        comments = [(1, 1, "2026-11-25", "published"), (2, 1, "2026-11-26", "pending"),
                    (3, 2, "2026-11-25", "published"), (4, 2, "2026-11-25", "published"),
                    (5, 3, "2026-11-25", "pending"), (6, 3, "2026-11-26", "published"),
                    (7, 3, "2026-11-26", "published"), (8, 3, "2026-11-26", "spam")]
        for comment_id, thread_id, day, state in comments:
            db.session.execute(text(
                "INSERT INTO comments (id, thread_id, number, depth, author, text, html, state, created_at,"
                " likes, pinned, ip_hash)"
                " VALUES (:id, :thread, :id, 0, 'Ann', 'x', '<p>x</p>', 'pending', :at, 0, false, '')"),
                {"id": comment_id, "thread": thread_id, "at": at.format(day)})
            if state != "pending":  # a second row for the day and state, as a moderator's change makes
                db.session.execute(text("UPDATE comments SET state = :s WHERE id = :id"),
                                   {"s": state, "id": comment_id})
        db.session.execute(text("DELETE FROM comments WHERE id = 7"))
        db.session.commit()
        flask_migrate.upgrade()
        rows = db.session.execute(text(
            "SELECT site_id, day, state, sum(n) FROM comment_counts GROUP BY site_id, day, state")).all()
        sites_service.changed()  # the default site's row is read again
        by_site = {site: service.stats(3, site) for site in (None, home, shop)}
        db.session.rollback()
        flask_migrate.downgrade(revision="mails_1")
        server = db.session.execute(text(
            "SELECT day, state, sum(n) FROM comment_counts GROUP BY day, state")).all()
        db.session.commit()
        flask_migrate.upgrade()
        db.session.remove()
    assert {(site, day, state): n for site, day, state, n in rows if n} == {
        (None, "2026-11-25", "published"): 1, (None, "2026-11-26", "pending"): 1,
        (home, "2026-11-25", "published"): 2,
        (shop, "2026-11-25", "pending"): 1, (shop, "2026-11-26", "published"): 1,
        (shop, "2026-11-26", "spam"): 1}
    days = {site: [(d["date"], d["published"], d["pending"], d["spam"]) for d in found["days"]]
            for site, found in by_site.items()}
    assert days == {None: [("2026-11-25", 3, 1, 0), ("2026-11-26", 1, 1, 1), ("2026-11-27", 0, 0, 0)],
                    home: [("2026-11-25", 3, 0, 0), ("2026-11-26", 0, 1, 0), ("2026-11-27", 0, 0, 0)],
                    shop: [("2026-11-25", 0, 1, 0), ("2026-11-26", 1, 0, 1), ("2026-11-27", 0, 0, 0)]}
    assert by_site[shop]["totals"] == {"published": 1, "pending": 1, "spam": 1, "deleted": 0}
    assert {(day, state): n for day, state, n in server if n} == {
        ("2026-11-25", "published"): 3, ("2026-11-25", "pending"): 1, ("2026-11-26", "pending"): 1,
        ("2026-11-26", "published"): 1, ("2026-11-26", "spam"): 1}
