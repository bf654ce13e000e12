"""SQLite's connection setup (widget_server/sqlite_setup.py): the pragmas, and the write turn
that threads of one process take instead of polling in SQLite's busy handler."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from widget_server import sqlite_setup


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    sqlite_setup.configure(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield engine
    engine.dispose()


def turn_of(engine) -> threading.Lock:
    return sqlite_setup._turn(engine.url.database).local


def writer(engine, value: str) -> tuple[threading.Thread, threading.Event]:
    """A thread that writes ``value`` in a transaction of its own; the event is set once it has."""
    wrote = threading.Event()

    def write():
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        wrote.set()

    worker = threading.Thread(target=write)
    worker.start()
    return worker, wrote


def test_every_connection_gets_the_pragmas(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == sqlite_setup.BUSY_TIMEOUT_MS
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_write_transaction_holds_the_turn_until_it_ends(engine, end):
    conn = engine.connect()
    conn.execute(text("SELECT count(*) FROM t"))
    assert not turn_of(engine).locked()  # reading takes no turn
    conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert turn_of(engine).locked()
    conn.execute(text("UPDATE t SET v = 'b'"))  # the same transaction: the same turn
    assert turn_of(engine).locked()
    if end == "close":
        conn.close()  # the pool rolls it back
    else:
        getattr(conn, end)()
    assert not turn_of(engine).locked()
    conn.close()


def test_a_failed_write_gives_the_turn_back_with_its_rollback(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('same')"))
    conn = engine.connect()
    with pytest.raises(IntegrityError):
        conn.execute(text("INSERT INTO t (v) VALUES ('same')"))
    conn.rollback()
    assert not turn_of(engine).locked()
    conn.close()


def test_a_write_in_autocommit_mode_gives_the_turn_back_at_once(engine):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('auto')"))
        assert not turn_of(engine).locked()


def test_a_second_writer_waits_for_the_turn_then_writes(engine):
    first = engine.connect()
    first.execute(text("INSERT INTO t (v) VALUES ('first')"))
    worker, wrote = writer(engine, "second")
    assert not wrote.wait(0.3)  # waiting on the turn, not failing, not writing
    first.commit()
    first.close()
    assert wrote.wait(10)
    worker.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == ["first", "second"]
    assert not turn_of(engine).locked()


def test_an_in_memory_database_takes_no_turn(tmp_path):
    engine = create_engine("sqlite://")
    sqlite_setup.configure(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('x')"))
        assert conn.connection.dbapi_connection._write_turn is None


HOLD_THE_TURN = """
import sys
from widget_server import sqlite_setup
turn = sqlite_setup._turn(sys.argv[1])
turn.take()
print("holding", flush=True)
sys.stdin.readline()
turn.give()
"""


def test_processes_take_turns_too(engine):
    """Another process (another gunicorn worker) holding the turn: a writer here waits for it,
    though SQLite itself is free, and writes the moment it is given back."""
    import subprocess
    import sys

    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_TURN, engine.url.database],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        worker, wrote = writer(engine, "after the other")
        assert not wrote.wait(0.3)
        other.stdin.write("\n")
        other.stdin.flush()
        assert wrote.wait(10)
        worker.join()
    finally:
        other.kill()
        other.communicate()  # and closes its pipes


def test_a_forked_child_has_turns_of_its_own(engine):
    """flock belongs to an open file, which a fork shares: a child must open its own."""
    import os

    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES ('parent')"))  # the parent holds the turn
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the turn must not be free for it while the parent holds it
            turn = sqlite_setup._turn(engine.url.database)
            got = turn.local.acquire(blocking=False)
            import fcntl
            try:
                fcntl.flock(turn.files[1], fcntl.LOCK_EX | fcntl.LOCK_NB)
                free = True
            except BlockingIOError:
                free = False
            os.write(write, b"free" if free or not got else b"held")
            os._exit(0)
        os.close(write)
        answer = os.read(read, 10)
        os.waitpid(pid, 0)
        conn.commit()
    assert answer == b"held"
