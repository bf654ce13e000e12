"""A complete export restored into an empty server: the export taken afterwards is the same
document, on SQLite, on PostgreSQL and from one to the other; secrets only when asked for."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from support import factories
from support.app import (
    PG_URL,
    Poster,
    base_config,
    migrate_database,
    require_service,
    scratch_postgres_database,
    wipe,
)
from support.imports import SITE_SECRETS, build_everything, run

from widget_server import create_app
from widget_server.dataset import LEFT_OUT, SECTIONS
from widget_server.extensions import db
from widget_server.models import AdminToken, Thread, User
from widget_server.security import key_fingerprint

RESTORED = "restored into an empty server"


def canonical(path: Path) -> list[str]:
    """The document with each section's rows sorted, less the moment it was taken."""
    data = json.loads(path.read_text())
    data.pop("exported_at")
    return [json.dumps({key: sorted(json.dumps(r, sort_keys=True) for r in value)
                        if isinstance(value, list) else value}, sort_keys=True)
            for key, value in sorted(data.items())]


def after_header(path: Path) -> str:
    """Everything after the header line (which holds exported_at): compared byte for byte."""
    return path.read_text().split("\n", 1)[1]


def restore_and_export(app, source: Path, again: Path, *flags: str) -> str:
    result = run(app.test_cli_runner(), "import", "json", source, *flags)
    assert RESTORED in result.output, result.output
    run(app.test_cli_runner(), "export", again, *flags)
    return result.output


def test_the_export_holds_every_section_with_rows_in_each(app, client, post, runner, admin_token, tmp_path):
    build_everything(client, post, app, admin_token)
    path = tmp_path / "all.json"
    run(runner, "export", path)
    data = json.loads(path.read_text())
    assert data["version"] == 2 and data["with_secrets"] is False
    assert data["key_fingerprint"] == key_fingerprint("test-secret-key")
    for section in SECTIONS:
        assert data[section.name], f"no {section.name} rows: the test data must cover every section"
    assert {c["state"] for c in data["comments"]} == {"published", "deleted", "spam", "pending"}
    assert len(data["outbox"]) == 1 and len(data["webhook_deliveries"]) == 1  # only the undelivered
    raw = path.read_text()
    for secret in ("password_hash", "edit_token_hash", "secret_key", "$argon2id", "10.0.0.1", "127.0.0.1",
                   "test-secret-key", *SITE_SECRETS.values()):
        assert secret not in raw
    assert not set(LEFT_OUT) & set(data)


def test_restore_then_export_gives_the_same_document(app, client, post, admin_token, database_url, tmp_path):
    build_everything(client, post, app, admin_token)
    whole, plain = tmp_path / "whole.json", tmp_path / "plain.json"
    run(app.test_cli_runner(), "export", whole, "--with-secrets")
    run(app.test_cli_runner(), "export", plain)
    assert "$argon2id" in whole.read_text() and "$argon2id" not in plain.read_text()
    assert SITE_SECRETS["sso_secret"] in whole.read_text()
    assert SITE_SECRETS["sso_secret"] not in plain.read_text()
    wipe(app)

    fresh = create_app(base_config(database_url, tmp_path))  # a new server: nothing cached from before
    restore_and_export(fresh, whole, tmp_path / "whole-again.json", "--with-secrets")
    assert canonical(tmp_path / "whole-again.json") == canonical(whole)
    assert after_header(tmp_path / "whole-again.json") == after_header(whole)  # id order: the same bytes
    with fresh.app_context():
        assert db.session.execute(select(User.password_hash)).scalar().startswith("$argon2id")
        assert min(db.session.execute(select(Thread.version)).scalars()) > 1_000_000  # from the clock
    wipe(fresh)

    restore_and_export(fresh, plain, tmp_path / "plain-again.json")
    assert canonical(tmp_path / "plain-again.json") == canonical(plain)
    with fresh.app_context():
        assert db.session.execute(select(User.password_hash)).scalar() == ""  # signs in after a reset
    body = {"url": "https://blog.example/x", "text": "new"}
    later = fresh.test_client().post("/api/v1/comments", json=body,
                                     environ_base={"REMOTE_ADDR": "192.0.2.9"})  # 127.0.0.1 is banned
    assert later.status_code == 201, later.json  # the id sequences were moved past the restored ids
    assert later.json["comment"]["id"] > max(c["id"] for c in json.loads(plain.read_text())["comments"])
    wipe(fresh)


def _server(url: str, folder: Path):
    folder.mkdir()
    migrate_database(url, folder)
    return create_app(base_config(url, folder))


def test_from_sqlite_to_postgresql_and_back(tmp_path):
    server = require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    lite = _server(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "a")
    with lite.app_context():
        token = factories.admin_token()
    build_everything(lite.test_client(), Poster(lite.test_client()), lite, token)
    from_lite = tmp_path / "from-sqlite.json"
    run(lite.test_cli_runner(), "export", from_lite, "--with-secrets")
    with scratch_postgres_database(server) as url:
        pg = _server(url, tmp_path / "pg")
        from_pg = tmp_path / "from-postgresql.json"
        restore_and_export(pg, from_lite, from_pg, "--with-secrets")
        wipe(pg)
    assert canonical(from_pg) == canonical(from_lite) and after_header(from_pg) == after_header(from_lite)
    back = _server(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "b")
    restore_and_export(back, from_pg, tmp_path / "back.json", "--with-secrets")
    assert canonical(tmp_path / "back.json") == canonical(from_lite)
    assert after_header(tmp_path / "back.json") == after_header(from_lite)


def test_another_secret_is_named_and_carried_only_when_asked(app, client, post, admin_token, database_url,
                                                            tmp_path):
    build_everything(client, post, app, admin_token)
    whole = tmp_path / "whole.json"
    run(app.test_cli_runner(), "export", whole, "--with-secrets")
    wipe(app)
    folder = tmp_path / "other"
    folder.mkdir()
    other = create_app(base_config(database_url, folder, SECRET_KEY=None))  # generates its own secret
    generated = (folder / "secret_key").read_text()
    result = run(other.test_cli_runner(), "import", "json", whole)
    assert "keyed with another instance secret" in result.output
    assert key_fingerprint(generated) in result.output and "test-secret-key" not in result.output
    assert (folder / "secret_key").read_text() == generated  # not carried without --with-secrets
    wipe(other)
    result = run(other.test_cli_runner(), "import", "json", whole, "--with-secrets")
    assert "instance secret" in result.output and "was replaced" in result.output
    assert (folder / "secret_key").read_text() == "test-secret-key"
    wipe(other)


def test_a_token_made_before_the_restore_stays_and_a_busy_server_merges(app, client, post, admin_token,
                                                                        database_url, tmp_path):
    build_everything(client, post, app, admin_token)
    whole = tmp_path / "whole.json"
    run(app.test_cli_runner(), "export", whole)
    exported = json.loads(whole.read_text())
    wipe(app)
    fresh = create_app(base_config(database_url, tmp_path))
    with fresh.app_context():
        kept = factories.admin_token("made-first")
    result = run(fresh.test_cli_runner(), "import", "json", whole)
    assert RESTORED in result.output and f"{len(exported['admin_tokens'])} admin_tokens" in result.output
    headers = {"Authorization": f"Bearer {kept}"}
    assert fresh.test_client().get("/api/v1/admin/comments", headers=headers).status_code == 200
    with fresh.app_context():
        names = sorted(db.session.execute(select(AdminToken.name)).scalars())
    assert names == sorted(["made-first", *(t["name"] for t in exported["admin_tokens"])])
    # Into a server that has comments now: threads and comments merge, the rest is left out, said so.
    again = run(fresh.test_cli_runner(), "import", "json", whole, "--map-url",
                "https://blog.example/=https://mirror.example/")
    assert "merged" in again.output and "restored only into an empty server" in again.output
    blog = {t["id"] for t in exported["threads"] if t["url"].startswith("https://blog.example/")}
    mapped = [c for c in exported["comments"] if c["thread_id"] in blog]  # the shop's are already here
    assert len(mapped) < len(exported["comments"]) and f"imported {len(mapped)} comments" in again.output
    wipe(fresh)
