"""``widget-server backup DIR`` and ``widget-server restore FILE``: consistent online copies.

SQLite: SQLite's online backup API copies the database page by page while writers keep
writing (each step sees one consistent state), into ``widget-<UTC time>.sqlite3``.
PostgreSQL: ``pg_dump --format=custom`` when it is installed (one consistent snapshot,
``.pgdump``), otherwise the complete export with secrets (``.json``, see export.py). Each
file is written under a temporary name and renamed when complete (mode 0600: it holds
readers' addresses and password hashes); then all but the newest ``keep`` backups in DIR
are removed (only files named as these are; nothing else in DIR is touched).

``restore`` replaces everything in the database by the backup: an SQLite copy through the
same backup API, a dump through ``pg_restore --clean``, an export by emptying every table
and restoring it in one transaction. Then the schema is brought up to date (a backup of an
older release). Stop the service first: its caches keep what they served.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, make_url

from .. import clock
from ..dataset import FORMAT, VERSION
from ..export import export_to
from ..extensions import db
from ..importers import restore as whole
from ..importers.base import ImportFailed, ProgressFile, Summary
from .cli_base import upgrade_database

PREFIX = "widget-"
SUFFIXES = (".sqlite3", ".pgdump", ".json")
NAME = re.compile(r"widget-\d{8}T\d{6}(\.\d+)?Z\.(sqlite3|pgdump|json)\Z")
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupFailed(Exception):
    """The backup or restore could not be done; nothing was replaced."""


def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path() -> str:
    path = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not path or path == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up")
    return path


def _pg_command(tool: str) -> tuple[list[str], dict[str, str]]:
    """The libpq connection for pg_dump/pg_restore; the password goes in the environment, not argv."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [shutil.which(tool) or tool, "--dbname", plain], env


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%S.%fZ")


def _sqlite_copy(source: str, target: str) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=1024)  # steps of 4 MiB: writers are not held back for long
    finally:
        dst.close()
        src.close()


def backup(folder: str, *, keep: int | None = None, use_export: bool = False) -> tuple[Path, list[Path]]:
    """Write one backup into ``folder``; returns it and the old backups removed."""
    target_dir = Path(folder)
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    kind = "sqlite" if _dialect() == "sqlite" else "pg_dump"
    if use_export or (kind == "pg_dump" and not shutil.which("pg_dump")):
        kind = "export"
    suffix = {"sqlite": ".sqlite3", "pg_dump": ".pgdump", "export": ".json"}[kind]
    final = target_dir / f"{PREFIX}{_stamp()}{suffix}"
    fd, temporary = tempfile.mkstemp(prefix=".widget-backup-", suffix=suffix, dir=target_dir)  # 0600
    os.close(fd)
    try:
        if kind == "sqlite":
            db.session.remove()
            _sqlite_copy(_sqlite_path(), temporary)
        elif kind == "pg_dump":
            command, env = _pg_command("pg_dump")
            done = subprocess.run([*command, "--format=custom", "--file", temporary], env=env,  # noqa: S603
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                raise BackupFailed(f"pg_dump failed: {done.stderr.strip()[:500]} (--export uses the "
                                   "export instead)")
        else:
            export_to(temporary, with_secrets=True)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return final, prune(target_dir, keep)


def prune(folder: Path, keep: int | None) -> list[Path]:
    """Remove all but the newest ``keep`` backups (by the time in their names)."""
    if not keep:
        return []
    ours = sorted(p for p in folder.iterdir() if p.is_file() and NAME.match(p.name))
    old = ours[:-keep]
    for path in old:
        path.unlink()
    return old


def _kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(b"PGDMP"):
        return "pg_dump"
    if head.lstrip()[:1] == b"{":
        return "export"
    raise BackupFailed(f"{path} is not a backup: neither an SQLite file, a pg_dump archive nor an export")


def _check_sqlite_backup(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"{path} cannot be read as SQLite: {exc}") from None
    finally:
        conn.close()
    if verdict != "ok":
        raise BackupFailed(f"{path} is damaged (integrity check: {verdict})")
    if not {"threads", "comments", "alembic_version"} <= tables:
        raise BackupFailed(f"{path} is not a widget-server database (no threads, comments, alembic_version)")


def _replace_sqlite(backup_path: str, live: str) -> None:
    """Copy the backup next to the database file, then rename it over it: this works even when the
    file is damaged beyond opening. The old file's -wal and -shm go (they would be replayed into
    the new one), and the new file keeps the old one's owner (a restore run as root)."""
    folder = os.path.dirname(os.path.abspath(live))
    fd, temporary = tempfile.mkstemp(prefix=".widget-restore-", suffix=".sqlite3", dir=folder)  # 0600
    os.close(fd)
    try:
        _sqlite_copy(backup_path, temporary)
        if os.path.exists(live) and os.geteuid() == 0:
            info = os.stat(live)
            os.chown(temporary, info.st_uid, info.st_gid)
        for stale in (live + "-wal", live + "-shm", live + "-journal"):
            Path(stale).unlink(missing_ok=True)
        os.replace(temporary, live)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _empty_every_table() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))


def restore(path: str, *, progress_bar=None) -> str:
    """Replace the database's content by the backup at ``path``; returns what kind it was."""
    file = Path(path)
    kind = _kind_of(file)
    dialect = _dialect()
    if kind == "sqlite":
        if dialect != "sqlite":
            raise BackupFailed(f"{path} is an SQLite backup and this server uses {dialect}: move between "
                               "kinds of database with `widget-server export` and `import json`")
        _check_sqlite_backup(file)
        db.session.remove()
        db.engine.dispose()
        _replace_sqlite(str(file), _sqlite_path())
    elif kind == "pg_dump":
        if dialect != "postgresql":
            raise BackupFailed(f"{path} is a pg_dump archive and this server uses {dialect}: move between "
                               "kinds of database with `widget-server export` and `import json`")
        if not shutil.which("pg_restore"):
            raise BackupFailed("pg_restore is not installed (the PostgreSQL client tools)")
        db.session.remove()
        db.engine.dispose()
        command, env = _pg_command("pg_restore")
        done = subprocess.run([*command, "--clean", "--if-exists", "--no-owner",  # noqa: S603 - no shell
                               "--single-transaction",
                               str(file)], env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise BackupFailed(f"pg_restore failed: {done.stderr.strip()[:500]}")
    else:
        upgrade_database()  # a new, empty database gets the tables first
        _restore_export(file, progress_bar)
    return kind


def _restore_export(file: Path, bar) -> None:
    head = whole.peek(str(file))
    if head.get("format") != FORMAT or head.get("version") != VERSION:
        raise BackupFailed(f"{file} is not a complete widget-server export (version 2)")
    _empty_every_table()
    try:
        with open(file, "rb") as raw:
            whole.restore(ProgressFile(raw, bar), str(file), head, Summary(fmt="json", path=str(file)),
                          with_secrets=True, dry_run=False)
    except ImportFailed as exc:
        raise BackupFailed(str(exc)) from None
