"""The instance folder holds the secret key and the SQLite file: only the service's user may look in.

The folder is made 0700 and the SQLite file 0600 from the first start (SQLite
itself would create it 0644 under the usual umask; its -wal and -shm files take
the database file's mode). A looser folder or file of our own is tightened; a
shared one (a sticky folder such as /tmp) is left alone.
"""
from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from .config import PREFIX, ConfigError

log = logging.getLogger(__name__)


def _owner_only(path: Path, mode: int) -> None:
    """Take group and other access away from our own file or folder (not from a shared one like /tmp)."""
    try:
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.geteuid() and not info.st_mode & stat.S_ISVTX:
            path.chmod(mode)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc)


def private_folder(instance: Path) -> None:
    """Make the folder (0700) and prove this user can write in it: a first start must fail here, in
    one line, not at the first comment or the first generated secret."""
    try:
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(instance, 0o700)
        with tempfile.TemporaryFile(dir=instance):
            pass
    except OSError as exc:
        raise ConfigError(f"{PREFIX}INSTANCE_PATH: cannot use {instance} as the instance folder: "
                          f"{exc.strerror or exc}; point {PREFIX}INSTANCE_PATH at a folder this user "
                          "may write") from None


def private_sqlite_file(database_uri: str) -> None:
    """Create the SQLite file 0600 before SQLite would; tighten an existing one of ours."""
    url = make_url(database_uri)
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if existing.exists():
                _owner_only(existing, 0o600)
    except OSError as exc:  # a folder that does not exist yet: SQLite will say so more clearly
        log.warning("cannot create %s: %s", path, exc)
