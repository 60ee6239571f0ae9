"""For the scale benchmark only: the seconds an nbgrader process spends in gradebook statements
(SQLAlchemy's cursor executions, SQLite or PostgreSQL), added as one line to the file named by
the environment variable GRADING_DB_SECONDS when the process ends. Does nothing without it."""

from __future__ import annotations

import atexit
import fcntl
import os
import time

FILE = os.environ.get("GRADING_DB_SECONDS", "")
_spent = [0.0]


def install() -> None:
    """Time every statement of this process (once; only when GRADING_DB_SECONDS is set)."""
    if not FILE or getattr(install, "done", False):
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def started(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("grading_started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def ended(conn, cursor, statement, parameters, context, executemany):
        _spent[0] += time.perf_counter() - conn.info["grading_started"].pop()

    atexit.register(flush)
    install.done = True


def flush() -> None:
    """Add this process's seconds to the file (a forked grading process calls it before it
    exits, since it skips atexit)."""
    if not FILE or not _spent[0]:
        return
    with open(FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(f"{os.getpid()} {_spent[0]:.6f}\n")
    _spent[0] = 0.0
