"""What the app asks its database: the statements run while a block of a test runs."""
from __future__ import annotations

import contextlib
import threading

from sqlalchemy import event

from widget_server.extensions import db


@contextlib.contextmanager
def statements(app, parameters: bool = False):
    """The SQL statements the app's engine runs in this thread while the block runs (with their
    parameters: ``(statement, parameters)``): the test client's requests, not a background
    thread's (the change feed's polls, the outbox sender)."""
    seen: list = []
    me = threading.get_ident()

    def record(_conn, _cursor, statement, given, *_args):
        if threading.get_ident() == me:
            seen.append((statement, given) if parameters else statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
