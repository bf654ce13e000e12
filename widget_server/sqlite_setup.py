"""The embedded database: SQLite's settings, and one writer at a time handed on at once.

WAL lets readers work while one writer writes; ``busy_timeout`` makes a second writer wait
instead of failing with "database is locked". That wait is SQLite's busy handler, which
polls: it sleeps 1, 2, 5, 10 … up to 100 ms between tries, so under a burst of posts a
writer sleeps long after the lock was freed (posting p99 near a second with two workers of
four threads, and a third of the posts the machine could take: docs/performance.md).

So writers take turns before SQLite sees them, and a finished writer hands the turn on at
once: threads of one process on a lock of their own, processes on ``flock`` of two files
beside the database (``<file>-turn`` and ``<file>-queue``). A process waiting for the turn
holds the queue while it waits, and a process that just had the turn must take the queue
before it asks again: with two processes they alternate, and the kernel wakes the waiter the
moment the turn is given back (a process that dies gives its locks back with it). Only
other programs (the sqlite3 shell) still meet our writers in SQLite's busy handler.

The turn is taken where SQLite's write transaction starts (the first INSERT, UPDATE or
DELETE of a transaction: Python's sqlite3 opens it there) and given back when the
transaction ends (commit, rollback, or the connection closed), by the connection class
handed to ``sqlite3.connect``. A thread that cannot have its process's turn within
``busy_timeout`` goes on without it, to SQLite, which then answers as it would have. The
thread holding its process's turn waits for the other processes' as long as their write
transactions last (``flock`` has no timeout): longer than SQLite's 15 s only when another
process keeps a write transaction open that long, when SQLite would refuse every writer.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref

from sqlalchemy import event

BUSY_TIMEOUT_MS = 15_000
_WRITES = ("insert", "update", "delete", "replace")


class _Turn:
    """The write turn on one database file, in this process (the module docstring)."""

    def __init__(self, database: str):
        self.local = threading.Lock()  # one writing thread per process
        self.files: tuple[int, ...] = ()
        try:  # a database beside which nothing can be written: threads take turns, processes don't
            self.files = tuple(os.open(f"{database}-{name}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                               for name in ("queue", "turn"))
        except OSError:
            self.close()

    def close(self) -> None:
        for fd in self.files:
            os.close(fd)
        self.files = ()

    def __del__(self):  # the last connection to the file is gone (an engine disposed)
        self.close()

    def take(self) -> bool:
        if not self.local.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            return False
        if self.files:
            queue, turn = self.files
            try:
                fcntl.flock(queue, fcntl.LOCK_EX)
                try:
                    fcntl.flock(turn, fcntl.LOCK_EX)
                finally:
                    fcntl.flock(queue, fcntl.LOCK_UN)
            except OSError:  # a file system without flock: as if the files were not there
                self.close()
        return True

    def give(self) -> None:
        if self.files:
            fcntl.flock(self.files[1], fcntl.LOCK_UN)
        self.local.release()


# Weakly: each connection holds its file's turn, and the turn (its two open files) goes with
# the last of them.
_turns: weakref.WeakValueDictionary[str, _Turn] = weakref.WeakValueDictionary()
_turns_lock = threading.Lock()


def _turn(database: str) -> _Turn:
    with _turns_lock:
        turn = _turns.get(database)
        if turn is None:
            turn = _turns[database] = _Turn(database)
        return turn


def _forget_turns() -> None:
    # A forked child (a gunicorn worker) needs locks and open files of its own: flock is held
    # per open file, which parent and child would share.
    global _turns_lock
    _turns_lock = threading.Lock()
    _turns.clear()


os.register_at_fork(after_in_child=_forget_turns)


class _Cursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        return self._in_turn(super().execute, sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self._in_turn(super().executemany, sql, seq_of_parameters)

    def _in_turn(self, run, sql, parameters):
        took = self.connection._take_turn(sql)
        try:
            return run(sql, parameters)
        finally:
            if took:
                self.connection._after_statement()


class _Connection(sqlite3.Connection):
    """A connection that holds its process's write turn for as long as its write transaction."""

    _write_turn: _Turn | None = None  # set in connect(); None for ":memory:" (nobody to share with)
    _holding = False

    def cursor(self, factory=_Cursor):
        return super().cursor(factory)

    def _take_turn(self, sql: str) -> bool:
        if self._write_turn is None or self._holding or self.in_transaction:
            return False
        if not sql.lstrip()[:7].lower().startswith(_WRITES):
            return False
        self._holding = self._write_turn.take()
        return self._holding

    def _after_statement(self) -> None:
        # A write outside a transaction (autocommit, or a statement that failed before BEGIN)
        # is over when it returns.
        if not self.in_transaction:
            self._give_turn()

    def _give_turn(self) -> None:
        if self._holding:
            self._holding = False
            self._write_turn.give()

    def commit(self):
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._give_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._give_turn()

    def close(self):
        try:
            super().close()
        finally:
            self._give_turn()


def configure(engine) -> None:
    """SQLite's settings on every new connection, and the write turn (the module docstring)."""

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        cparams["factory"] = _Connection

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        database = engine.url.database or ""
        if isinstance(dbapi_connection, _Connection) and database not in ("", ":memory:"):
            dbapi_connection._write_turn = _turn(database)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
