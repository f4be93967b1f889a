"""Database-wide migration locks and PostgreSQL timeouts around one migration run.

Each lock is held on a connection of its own, separate from env.py's, for the whole run:
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``);
- MariaDB/MySQL: ``GET_LOCK`` on a name of the database and version table;
- SQLite: an exclusive ``flock`` on a file beside the database file.
A process that dies while holding one never leaves it held: the server ends the session of a
closed connection and with it its session-level locks, and the operating system drops a file
lock when the process holding it exits, however it exits (``kill -9`` included).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from workbench.core.databases import DatabaseTarget, sync_url
from workbench.core.locks import (
    BlockingSession,
    MigrationSafety,
    advisory_lock_key,
    describe_lock_timeout,
    lock_file_path,
    locked_table,
    named_lock,
    timeout_statements,
    wait_expired_message,
    waiting_message,
)
from workbench.core.secrets import mask_passwords
from workbench.errors import WorkbenchError

POLL_SECONDS = 0.2
CONNECT_SECONDS = 10
APPLICATION_NAME = "workbench migration lock"
_TIMEOUT_STATES = {"55P03": "lock_timeout", "57014": "statement_timeout"}

OnWait = Callable[[str], None]


def print_waiting(message: str) -> None:
    """Say on standard error that this run waits (the default ``on_wait``)."""
    print(message, file=sys.stderr, flush=True)


class _HeldLock:
    """One lock taken: ``release`` frees it and closes its connection or file."""

    def __init__(self, release: Callable[[], None]) -> None:
        self.release = release


@contextlib.contextmanager
def migration_locks(
    targets: Sequence[DatabaseTarget],
    wait: float,
    on_wait: OnWait | None = print_waiting,
) -> Iterator[None]:
    """Hold the migration lock of every target database while the block runs.

    Locks are taken one database after the other in one fixed order, so two runs of the same
    project cannot each hold one and wait for the other. A database that cannot be reached
    is passed over: the migration itself then fails on it with its own error.
    Raises ``WorkbenchError`` when ``wait`` seconds pass without getting them all.
    """
    deadline = time.monotonic() + wait
    held: list[_HeldLock] = []
    try:
        for target in _distinct(targets):
            lock = _acquire(target, deadline, wait, on_wait)
            if lock is not None:
                held.append(lock)
        yield
    finally:
        for lock in reversed(held):
            with contextlib.suppress(Exception):
                lock.release()


def _distinct(targets: Sequence[DatabaseTarget]) -> list[DatabaseTarget]:
    """The targets, one per database and version table, in a fixed order."""
    from sqlalchemy.engine import make_url

    seen: dict[tuple[str, str, str], DatabaseTarget] = {}
    for target in targets:
        try:
            url = make_url(target.url).render_as_string(hide_password=False)
        except Exception:
            url = str(target.url)
        key = (url, target.version_table, target.version_table_schema or "")
        seen.setdefault(key, target)
    return [seen[key] for key in sorted(seen)]


def _acquire(
    target: DatabaseTarget, deadline: float, wait: float, on_wait: OnWait | None
) -> _HeldLock | None:
    from sqlalchemy.engine import make_url

    url = make_url(target.url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _acquire_file(target, url.database, deadline, wait, on_wait)
    if backend in ("postgresql", "mysql", "mariadb"):
        return _acquire_server(target, url, backend, deadline, wait, on_wait)
    return None


def _acquire_file(
    target: DatabaseTarget,
    database_file: str | None,
    deadline: float,
    wait: float,
    on_wait: OnWait | None,
) -> _HeldLock | None:
    """An exclusive ``flock`` on the lock file beside a SQLite database file."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: run unlocked
        return None
    path = lock_file_path(database_file, target.version_table, target.version_table_schema)
    if path is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    waiting = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _file_holder(descriptor)
                os.close(descriptor)
                raise WorkbenchError(wait_expired_message(target.name, wait, holder)) from None
            if not waiting and on_wait is not None:
                on_wait(waiting_message(target.name, wait))
            waiting = True
            time.sleep(POLL_SECONDS)
        except OSError:
            os.close(descriptor)
            return None
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)

    def release() -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    return _HeldLock(release)


def _file_holder(descriptor: int) -> str | None:
    """The holder's pid, which it wrote into the lock file."""
    try:
        text = os.pread(descriptor, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return f"pid {text}" if text.isdigit() else None


def _application_name() -> str:
    """The lock session's name in ``pg_stat_activity``: which process on which host holds it."""
    import socket

    return f"{APPLICATION_NAME}, pid {os.getpid()}@{socket.gethostname()}"[:63]


def _sync_url(url: Any, backend: str) -> Any:
    """The URL with a synchronous driver, for projects whose engines are async."""
    synchronous = sync_url(url)
    if synchronous is None:
        raise WorkbenchError(
            f"cannot take the migration lock of database {url.get_backend_name()}: no synchronous "
            f"driver installed for it (install psycopg or PyMySQL, or pass --no-lock)"
        )
    return synchronous


def _acquire_server(
    target: DatabaseTarget,
    url: Any,
    backend: str,
    deadline: float,
    wait: float,
    on_wait: OnWait | None,
) -> _HeldLock | None:
    """A session-level lock on a connection of its own: advisory (PostgreSQL) or GET_LOCK."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_SECONDS}
    if backend == "postgresql":
        connect_args["application_name"] = _application_name()
    engine = create_engine(
        _sync_url(url, backend),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args=connect_args,
    )
    try:
        connection = engine.connect()
    except Exception:
        engine.dispose()
        return None
    if backend == "postgresql":
        key = advisory_lock_key(target.version_table, target.version_table_schema)
        take = text("SELECT pg_try_advisory_lock(:key)").bindparams(key=key)
        give_back = text("SELECT pg_advisory_unlock(:key)").bindparams(key=key)
    else:
        name = named_lock(url.database, target.version_table, target.version_table_schema)
        take = text("SELECT GET_LOCK(:name, 0)").bindparams(name=name)
        give_back = text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)

    def close() -> None:
        with contextlib.suppress(Exception):
            connection.close()
        engine.dispose()

    waiting = False
    try:
        while not connection.execute(take).scalar():
            if time.monotonic() >= deadline:
                holder = _server_holder(connection, backend, target, url)
                raise WorkbenchError(wait_expired_message(target.name, wait, holder))
            if not waiting and on_wait is not None:
                on_wait(waiting_message(target.name, wait))
            waiting = True
            time.sleep(POLL_SECONDS)
    except WorkbenchError:
        close()
        raise
    except Exception as exc:
        close()
        raise WorkbenchError(
            f"cannot take the migration lock of database {target.name}: "
            f"{mask_passwords(_first_line(exc))} (pass --no-lock to run without it)"
        ) from exc

    def release() -> None:
        try:
            connection.execute(give_back)
        finally:
            close()

    return _HeldLock(release)


def _server_holder(connection: Any, backend: str, target: DatabaseTarget, url: Any) -> str | None:
    """Who holds a server lock: the session's pid and application, or its connection id."""
    from sqlalchemy import text

    try:
        if backend == "postgresql":
            key = advisory_lock_key(target.version_table, target.version_table_schema)
            unsigned = key & 0xFFFFFFFFFFFFFFFF
            row = connection.execute(
                text(
                    "SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND l.database = (SELECT oid FROM pg_database"
                    "  WHERE datname = current_database())"
                    " AND l.classid::bigint = :high AND l.objid::bigint = :low"
                    " AND l.objsubid = 1"
                ),
                {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
            ).first()
            if row is None:
                return None
            application = f", application {row[1]!r}" if row[1] else ""
            return f"pid {row[0]}{application}, connected since {row[2]:%Y-%m-%d %H:%M:%S}"
        name = named_lock(url.database, target.version_table, target.version_table_schema)
        holder = connection.execute(text("SELECT IS_USED_LOCK(:name)"), {"name": name}).scalar()
        return f"connection id {holder}" if holder is not None else None
    except Exception:
        return None


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    for line in str(original).splitlines():
        if line.strip():
            return line.strip()
    return type(original).__name__


class TimeoutWatch:
    """Puts PostgreSQL's lock and statement timeouts on env.py's migration transactions.

    env.py's ``context.run_migrations`` is watched: on a PostgreSQL connection every
    transaction of the run (one, or one per revision with ``transaction_per_migration``)
    starts with ``SET LOCAL``, which ends with the transaction, so nothing stays set on a
    pooled connection. A statement the timeout cancels becomes a ``WorkbenchError`` naming
    the table and the sessions that held it.
    """

    def __init__(self, safety: MigrationSafety) -> None:
        self.safety = safety
        self.statements = timeout_statements(safety)

    def watch(self, environment: Any) -> None:
        """Wrap ``run_migrations`` of an ``EnvironmentContext`` about to be entered."""
        if not self.statements:
            return
        run_migrations = environment.run_migrations

        def run_migrations_with_timeouts(**kw: Any) -> None:
            context = environment.get_context()
            connection = getattr(context, "connection", None)
            if connection is None or connection.dialect.name != "postgresql":
                run_migrations(**kw)
                return
            with self._on(connection) as own_pid:
                try:
                    run_migrations(**kw)
                except Exception as exc:
                    message = self.explain(exc, connection, kw.get("engine_name"), own_pid)
                    if message is None:
                        raise
                    raise WorkbenchError(message) from exc

        environment.run_migrations = run_migrations_with_timeouts

    @contextlib.contextmanager
    def _on(self, connection: Any) -> Iterator[list[int]]:
        from sqlalchemy import event

        own_pid: list[int] = []

        def set_timeouts(conn: Any) -> None:
            for statement in self.statements:
                conn.exec_driver_sql(statement)

        if connection.in_transaction():
            set_timeouts(connection)
        with contextlib.suppress(Exception):
            own_pid.append(connection.connection.dbapi_connection.info.backend_pid)
        event.listen(connection, "begin", set_timeouts)
        try:
            yield own_pid
        finally:
            event.remove(connection, "begin", set_timeouts)

    def explain(
        self, exc: BaseException, connection: Any, engine_name: str | None, own_pid: list[int]
    ) -> str | None:
        """The one-line message of a statement a timeout cancelled; None for other failures."""
        kind = _TIMEOUT_STATES.get(str(getattr(getattr(exc, "orig", None), "sqlstate", "")))
        if kind is None:
            return None
        statement = getattr(exc, "statement", None)
        table = locked_table(statement)
        blockers = blocking_sessions(connection.engine.url, table, own_pid) if table else []
        milliseconds = (
            self.safety.lock_timeout_ms
            if kind == "lock_timeout"
            else self.safety.statement_timeout_ms
        )
        return describe_lock_timeout(
            kind, milliseconds, table, engine_name or "default", blockers, statement
        )


def blocking_sessions(url: Any, table: str, own_pids: Sequence[int] = ()) -> list[BlockingSession]:
    """The other sessions holding a lock on a PostgreSQL table now (read on a new connection)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(
            _sync_url(url, "postgresql"), poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
    except Exception:
        return []
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT a.pid, a.application_name, a.state, a.query_start, a.query,"
                    " string_agg(DISTINCT l.mode, ', ') FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'relation' AND l.granted"
                    " AND l.relation = to_regclass(:table)"
                    " AND l.pid <> pg_backend_pid()"
                    " GROUP BY a.pid, a.application_name, a.state, a.query_start, a.query"
                    " ORDER BY a.query_start NULLS LAST"
                ),
                {"table": table},
            ).all()
    except Exception:
        return []
    finally:
        engine.dispose()
    return [
        BlockingSession(
            pid=row[0],
            application=row[1] or None,
            state=row[2],
            query_start=f"{row[3]:%Y-%m-%d %H:%M:%S %Z}".strip() if row[3] else None,
            query=row[4],
            mode=row[5],
        )
        for row in rows
        if row[0] not in own_pids
    ]
