"""widget-server backup and restore: a consistent copy, the newest N kept, damage undone."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update
from support.app import IN_CI
from support.imports import build_everything, run

from widget_server.extensions import db
from widget_server.models import Comment, Thread, User


def _export(app, path) -> dict:
    run(app.test_cli_runner(), "export", path, "--with-secrets")
    data = json.loads(path.read_text())
    data.pop("exported_at")
    return data


def _damage(app) -> None:
    with app.app_context():
        db.session.execute(delete(Comment).where(Comment.parent_id.is_not(None)))
        db.session.execute(update(Thread).values(title="vandalised", locked=False))
        db.session.execute(update(User).values(display_name="Someone else"))
        db.session.commit()


@pytest.mark.parametrize("flags", [(), ("--export",)], ids=["native", "export"])
def test_backup_damage_restore(app, client, post, admin_token, tmp_path, database_url, flags):
    build_everything(client, post, app, admin_token)
    before = _export(app, tmp_path / "before.json")
    result = run(app.test_cli_runner(), "backup", tmp_path / "backups", *flags)
    (written,) = (tmp_path / "backups").iterdir()
    assert str(written) in result.output and oct(written.stat().st_mode & 0o777) == "0o600"
    native = ".sqlite3" if database_url.startswith("sqlite") else ".pgdump"  # pg_dump is installed here
    assert written.suffix == (".json" if flags else native)

    _damage(app)
    assert _export(app, tmp_path / "damaged.json") != before
    result = run(app.test_cli_runner(), "restore", written, "--yes")
    assert "restored" in result.output
    assert _export(app, tmp_path / "after.json") == before


def test_keep_leaves_the_newest_backups_and_nothing_else(app, runner, post, tmp_path):
    post("Something to back up")
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    for _ in range(3):
        run(runner, "backup", folder, "--keep", "2")
    backups = sorted(p.name for p in folder.iterdir() if p.name.startswith("widget-"))
    assert len(backups) == 2 and (folder / "notes.txt").read_text() == "mine"


def test_a_damaged_or_foreign_file_is_refused_and_nothing_changes(app, runner, post, tmp_path, database_url):
    post("Keep me")
    run(runner, "backup", tmp_path / "b")
    (backup,) = (tmp_path / "b").iterdir()
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    result = run(runner, "restore", foreign, "--yes", expect_ok=False)
    assert result.exit_code == 1 and "is not a backup" in result.output
    if database_url.startswith("sqlite"):
        broken = tmp_path / "broken.sqlite3"
        shutil.copy(backup, broken)
        raw = bytearray(broken.read_bytes())
        raw[4096:8192] = b"\xff" * 4096  # a page of garbage
        broken.write_bytes(bytes(raw))
        result = run(runner, "restore", broken, "--yes", expect_ok=False)
        assert result.exit_code == 1 and ("damaged" in result.output or "cannot be read" in result.output)
    result = run(runner, "restore", backup, expect_ok=False, input="n\n")
    assert result.exit_code == 1  # asked, and declined
    with app.app_context():
        assert [c.text for c in db.session.execute(db.select(Comment)).scalars()] == ["Keep me"]


def test_the_nightly_backup_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if IN_CI:
            pytest.fail("CI=true but systemd-analyze is not installed (scripts/install-test-tools.sh)")
        pytest.skip("systemd-analyze is not installed")
    root = Path(__file__).resolve().parents[2]
    for name in ("widget-server-backup.service", "widget-server-backup.timer"):
        text = (root / "deploy" / name).read_text().replace("/opt/widget-server/", f"{root}/")
        text = text.replace("/opt/widget-server\n", f"{root}\n")
        (tmp_path / name).write_text(text)
    service = (tmp_path / "widget-server-backup.service").read_text()
    assert "widget-server backup /var/backups/widget-server --keep 14" in service
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "widget-server-backup.timer"),
                           str(tmp_path / "widget-server-backup.service")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_a_database_file_damaged_beyond_opening_is_restored(app, runner, post, tmp_path, database_url):
    post("Survives the damage")
    if not database_url.startswith("sqlite"):
        # PostgreSQL: the worst that the service can do to itself is drop its tables.
        run(runner, "backup", tmp_path / "b")
        with app.app_context():
            db.session.execute(text("DROP TABLE likes, subscriptions, comments CASCADE"))
            db.session.commit()
    else:
        run(runner, "backup", tmp_path / "b")
        live = Path(database_url.removeprefix("sqlite:///"))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        live.write_bytes(b"\x00garbage" * 4096)
    (backup,) = (tmp_path / "b").iterdir()
    result = run(runner, "restore", backup, "--yes")
    assert "restored" in result.output
    with app.app_context():
        assert [c.text for c in db.session.execute(db.select(Comment)).scalars()] == ["Survives the damage"]
