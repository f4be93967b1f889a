"""Where each database stands: its version table read directly, concurrently, with a timeout.

Alembic's ``current`` expands every head through the revision map (seconds on long histories)
and stops at the first unreachable server; a direct SELECT per database, all at once, does not.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.core.graph import GraphError, RevisionGraph
from workbench.core.secrets import mask_passwords, mask_url
from workbench.core.verdict import refusals, summary, upgrades_unknown

if TYPE_CHECKING:
    from sqlalchemy import URL

DEFAULT_TIMEOUT = 5.0

_CONNECT_TIMEOUT_ARGUMENT = {
    "postgresql": "connect_timeout",
    "mysql": "connect_timeout",
    "mariadb": "connect_timeout",
}


@dataclass(frozen=True)
class DatabaseTarget:
    """A database the project migrates (the default, a bind) or only watches (an extra one)."""

    name: str
    url: str | URL
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    read_only: bool = False

    @functools.cached_property
    def masked_url(self) -> str:
        """The URL with its password replaced by ``***``, the only form ever shown.

        Kept once computed, also through pickling: ``flask db tui``'s forked child computes
        it, so that the parent need not import SQLAlchemy to show it.
        """
        return mask_url(self.url)


class VersionReading(NamedTuple):
    """What one database's version table held, or why it could not be read."""

    target: DatabaseTarget
    revisions: tuple[str, ...] = ()
    version_table_exists: bool = False
    other_tables: int = 0
    error: str | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()


def read_versions(
    targets: Sequence[DatabaseTarget], timeout: float = DEFAULT_TIMEOUT
) -> list[VersionReading]:
    """Read every target's version table at once; a target that does not answer in time says so.

    Each target runs in a daemon thread, so a server that never answers cannot hold the
    caller (or the interpreter's exit) beyond the timeout.
    """
    results: list[VersionReading | None] = [None] * len(targets)

    def work(index: int, target: DatabaseTarget) -> None:
        results[index] = read_version(target, timeout)

    threads = [
        threading.Thread(target=work, args=(index, target), daemon=True)
        for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout + 1.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [
        result
        if result is not None
        else VersionReading(target, error=f"no answer within {timeout:g} s", seconds=timeout)
        for target, result in zip(targets, results, strict=True)
    ]


def read_version(target: DatabaseTarget, timeout: float = DEFAULT_TIMEOUT) -> VersionReading:
    """Read one database's version table; never raises and never creates a SQLite file.

    The usual case (a stamped database) is one SELECT on a bare driver connection: building
    an engine and inspecting the schema costs milliseconds of CPU per database, which
    serialises reads of many databases under the GIL. The inspector only runs when the
    version table is missing or empty, to tell an empty database from an unstamped one.
    SQLAlchemy is imported here, on first use: the workbench draws its first screen without it.
    """
    started = time.monotonic()
    sqlite_file = plain_sqlite_file(target)
    if sqlite_file is not None:
        return _read_sqlite_file(target, sqlite_file, timeout, started)
    from sqlalchemy.engine import make_url

    try:
        url = make_url(target.url)
        dialect_class = url.get_dialect()
        dialect = dialect_class(dbapi=dialect_class.import_dbapi())
    except Exception as exc:
        return VersionReading(target, error=f"invalid database URL: {_one_line(exc)}")
    missing_file = _missing_sqlite_file(url)
    if missing_file:
        return VersionReading(
            target, notes=(f"the database file {missing_file} does not exist yet",)
        )
    if getattr(dialect_class, "is_async", False):
        return _inspect_async(target, url, timeout, started)
    args, kwargs = dialect.create_connect_args(url)
    kwargs.update(_connect_args(url, timeout))
    try:
        connection = dialect.loaded_dbapi.connect(*args, **kwargs)
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc), seconds=time.monotonic() - started)
    try:
        revisions = _select_versions(connection, dialect, target)
    finally:
        connection.close()
    if revisions:
        return VersionReading(
            target,
            revisions=revisions,
            version_table_exists=True,
            seconds=time.monotonic() - started,
        )
    return _inspect_schema(target, url, timeout, started)


SYNC_DRIVERS = {
    "postgresql": ("psycopg", "psycopg2", "pg8000"),
    "mysql": ("pymysql", "mysqldb", "mysqlconnector"),
    "mariadb": ("pymysql", "mysqldb", "mysqlconnector"),
    "sqlite": ("pysqlite",),
}
"""The synchronous drivers tried, in order, for a database whose engines are async."""


def sync_url(url: URL) -> URL | None:
    """The URL itself if its driver is synchronous, else with the first installed sync driver.

    Server-side work the workbench does on its own connection (locks, scratch databases,
    reflection) needs a synchronous driver; None when none is installed.
    """
    if not getattr(url.get_dialect(), "is_async", False):
        return url
    backend = url.get_backend_name()
    for driver in SYNC_DRIVERS.get(backend, ()):
        candidate = url.set(drivername=f"{backend}+{driver}")
        try:
            candidate.get_dialect().import_dbapi()
        except Exception:
            continue
        return candidate
    return None


def plain_sqlite_file(target: DatabaseTarget) -> str | None:
    """The file of a target on a plain SQLite URL (``sqlite:///path``), else None.

    Such a file is read with Python's own ``sqlite3``, the driver SQLAlchemy would use,
    without importing SQLAlchemy (a third of a second). Any URL with options, escapes, an
    in-memory database or a version table schema takes SQLAlchemy's way.
    """
    url = target.url
    if not isinstance(url, str) or target.version_table_schema:
        return None
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            plain = path and path != ":memory:" and not path.startswith("file:")
            return path if plain and not any(mark in path for mark in "?%") else None
    return None


_URI_PATH_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def _read_only_uri(path: str) -> str:
    """A read-only SQLite URI of a file: every other byte of its path is a ``%XX`` escape.

    What ``urllib.parse.quote`` gives, without its import (4 ms, a tenth of ``graph``'s own
    work); the bytes are the file system's own, so any file name that opens opens here.
    """
    escaped = "".join(
        chr(byte) if byte in _URI_PATH_BYTES else f"%{byte:02X}"
        for byte in os.fsencode(os.path.abspath(path))
    )
    return f"file:{escaped}?mode=ro"


def _read_sqlite_file(
    target: DatabaseTarget, path: str, timeout: float, started: float
) -> VersionReading:
    """Read a SQLite file's version table and count its other tables, opened read-only."""
    import sqlite3

    if not os.path.exists(path):
        return VersionReading(target, notes=(f"the database file {path} does not exist yet",))
    try:
        connection = sqlite3.connect(_read_only_uri(path), uri=True, timeout=timeout)
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc), seconds=time.monotonic() - started)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
                " AND name NOT LIKE 'sqlite~_%' ESCAPE '~'"
            )
        ]
        exists = target.version_table in names
        revisions: tuple[str, ...] = ()
        if exists:
            table = '"' + target.version_table.replace('"', '""') + '"'
            rows = connection.execute(f"SELECT version_num FROM {table}").fetchall()
            revisions = tuple(sorted(str(row[0]) for row in rows))
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc), seconds=time.monotonic() - started)
    finally:
        connection.close()
    if revisions:  # a stamped database, read as the driver's SELECT reads it elsewhere
        return _reading(target, (revisions, True, 0), started)
    others = sum(1 for name in names if name != target.version_table)
    return _reading(target, (revisions, exists, others), started)


def _select_versions(connection: Any, dialect: Any, target: DatabaseTarget) -> tuple[str, ...]:
    """The version table's rows, or nothing when the SELECT fails (no table, no rights)."""
    preparer = dialect.identifier_preparer
    table = preparer.quote(target.version_table)
    if target.version_table_schema:
        table = f"{preparer.quote_schema(target.version_table_schema)}.{table}"
    cursor = connection.cursor()
    try:
        cursor.execute(f"SELECT version_num FROM {table}")
        return tuple(sorted(str(row[0]) for row in cursor.fetchall()))
    except Exception:
        return ()
    finally:
        cursor.close()


def _inspect_schema(
    target: DatabaseTarget, url: URL, timeout: float, started: float
) -> VersionReading:
    """Read the version table through SQLAlchemy's inspector, counting the other tables."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=_connect_args(url, timeout))
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc))
    try:
        with engine.connect() as connection:
            return _reading(target, _read_schema(connection, target), started)
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc), seconds=time.monotonic() - started)
    finally:
        engine.dispose()


def _inspect_async(
    target: DatabaseTarget, url: URL, timeout: float, started: float
) -> VersionReading:
    """Read the version table of a database whose driver is async (aiosqlite, asyncpg).

    Such a driver only works inside SQLAlchemy's async engine, run here on an event loop of
    this thread's own.
    """
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    async def read() -> tuple[tuple[str, ...], bool, int]:
        connect_args = _connect_args(url, timeout) if url.get_backend_name() == "sqlite" else {}
        engine = create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_read_schema, target)
        finally:
            await engine.dispose()

    try:
        return _reading(target, asyncio.run(read()), started)
    except Exception as exc:
        return VersionReading(target, error=_one_line(exc), seconds=time.monotonic() - started)


def _reading(
    target: DatabaseTarget, schema: tuple[tuple[str, ...], bool, int], started: float
) -> VersionReading:
    """What ``_read_schema`` found (rows, whether the table exists, other tables), timed."""
    revisions, exists, others = schema
    return VersionReading(
        target,
        revisions=revisions,
        version_table_exists=exists,
        other_tables=others,
        seconds=time.monotonic() - started,
    )


def _read_schema(connection: Any, target: DatabaseTarget) -> tuple[tuple[str, ...], bool, int]:
    """On a SQLAlchemy connection: the version table's rows, whether it exists, other tables."""
    from sqlalchemy import Column, MetaData, String, Table, inspect, select

    schema = target.version_table_schema
    table_names = inspect(connection).get_table_names(schema=schema)
    exists = target.version_table in table_names
    revisions: tuple[str, ...] = ()
    if exists:
        version_table = Table(
            target.version_table, MetaData(), Column("version_num", String), schema=schema
        )
        rows = connection.execute(select(version_table.c.version_num)).scalars()
        revisions = tuple(sorted(str(row) for row in rows))
    others = sum(1 for name in table_names if name != target.version_table)
    return revisions, exists, others


def _missing_sqlite_file(url: URL) -> str | None:
    """The path of a SQLite file URL whose file does not exist (connecting would create it)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return None if os.path.exists(database) else database


def _connect_args(url: URL, timeout: float) -> dict[str, object]:
    """Driver arguments that bound the time a connection attempt may take."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return {"timeout": timeout}
    argument = _CONNECT_TIMEOUT_ARGUMENT.get(backend)
    return {argument: max(1, round(timeout))} if argument else {}


def _one_line(exc: BaseException) -> str:
    """The driver's own message, first line only, with any URL password hidden."""
    original = getattr(exc, "orig", None) or exc
    for line in str(original).splitlines():
        if line.strip():
            return mask_passwords(line.strip())
    return type(original).__name__


class DatabaseState(str, Enum):
    """Where a database stands against the revision graph."""

    AT_HEAD = "at head"
    BEHIND = "behind"
    OTHER_BRANCH = "needs merge"
    """Another head exists that the database's line does not lead to (its branch is not applied)."""
    UNKNOWN_REVISION = "unknown revision"
    INCONSISTENT = "inconsistent"
    NOT_STAMPED = "not stamped"
    EMPTY = "empty"
    UNREACHABLE = "unreachable"
    BROKEN_HISTORY = "broken history"
    UNDETERMINED = "undetermined"


class DatabaseStatus(NamedTuple):
    """One database's state, its current revisions, what an upgrade to the heads would run, why."""

    name: str
    url: str
    current: tuple[str, ...]
    state: DatabaseState
    pending: tuple[str, ...]
    reason: str
    read_only: bool = False
    version_table_exists: bool = False

    @property
    def at_head(self) -> bool:
        """True when nothing is pending and nothing is wrong."""
        return self.state is DatabaseState.AT_HEAD


def database_status(
    targets: Sequence[DatabaseTarget], graph: RevisionGraph, timeout: float = DEFAULT_TIMEOUT
) -> list[DatabaseStatus]:
    """Read every target at once and say where each stands on the graph."""
    return [classify(reading, graph) for reading in read_versions(targets, timeout)]


def classify(reading: VersionReading, graph: RevisionGraph) -> DatabaseStatus:
    """Compare a version-table reading with the graph; every outcome carries a reason."""
    target = reading.target

    def status(state: DatabaseState, reason: str, pending: Sequence[str] = ()) -> DatabaseStatus:
        return DatabaseStatus(
            name=target.name,
            url=target.masked_url,
            current=reading.revisions,
            state=state,
            pending=tuple(pending),
            reason=reason,
            read_only=target.read_only,
            version_table_exists=reading.version_table_exists,
        )

    if reading.error is not None:
        return status(DatabaseState.UNREACHABLE, reading.error)
    broken = refusals(graph.diagnostics)
    if broken:
        return status(
            DatabaseState.BROKEN_HISTORY,
            f"Alembic cannot load the revision files ({summary(broken)}); "
            "where the database stands cannot be told",
        )
    uncertain = upgrades_unknown(graph.diagnostics)
    if uncertain:
        return status(
            DatabaseState.UNDETERMINED,
            f"cannot tell where it stands: {uncertain[0].message} ({uncertain[0].path})",
        )
    current = reading.revisions
    if not current:
        everything = _pending_or_empty(graph, ())
        if reading.other_tables:
            return status(
                DatabaseState.NOT_STAMPED,
                f"{reading.other_tables} tables but no revision recorded in "
                f"{target.version_table}; stamp the revision its schema matches",
                everything,
            )
        note = reading.notes[0] if reading.notes else "no tables yet"
        return status(
            DatabaseState.EMPTY, f"{note}; {_revisions(len(everything))} to apply", everything
        )
    unknown = [revision for revision in current if revision not in graph.revisions]
    if unknown:
        return status(
            DatabaseState.UNKNOWN_REVISION,
            f"stamped with {', '.join(unknown)}, which no revision file has "
            "(applied from another branch, or its file was deleted)",
        )
    try:
        pending = graph.pending(current, "heads")
    except GraphError as exc:
        return status(DatabaseState.INCONSISTENT, f"version table rows overlap: {exc}")
    if not pending:
        return status(DatabaseState.AT_HEAD, "at head")
    own_line = graph.descendants(current)
    other_heads = [head for head in graph.heads if head not in own_line]
    if other_heads:
        return status(
            DatabaseState.OTHER_BRANCH, _needs_merge_reason(graph, current, other_heads), pending
        )
    return status(DatabaseState.BEHIND, f"{_revisions(len(pending))} behind", pending)


def _needs_merge_reason(
    graph: RevisionGraph, current: Sequence[str], other_heads: Sequence[str]
) -> str:
    """Where the database stands on its own line, and the heads on branches it does not have.

    ``3 revisions behind head A; head B (billing) is on another branch, 6 revisions it has not
    applied: merge the heads, or upgrade to heads to apply both``. A database behind on the main
    line while another head exists is not in trouble: the history needs a merge.
    """
    own_heads = [head for head in graph.heads if head not in other_heads]
    applied = graph.ancestors(current)
    own = len(graph.ancestors(own_heads) - applied)
    other = len(graph.ancestors(other_heads) - applied - graph.ancestors(own_heads))
    where = ", ".join(_head_name(graph, head) for head in own_heads)
    standing = f"{_revisions(own)} behind head {where}" if own else f"at head {where}"
    if len(other_heads) == 1:
        others = f"head {_head_name(graph, other_heads[0])} is on another branch"
    else:
        names = ", ".join(_head_name(graph, head) for head in other_heads)
        others = f"heads {names} are on other branches"
    return (
        f"{standing}; {others}, {_revisions(other)} it has not applied: "
        "merge the heads, or upgrade to heads to apply both"
    )


def _head_name(graph: RevisionGraph, head: str) -> str:
    """A head's id, with its branch labels when it has some: ``49b60646c7da (billing)``."""
    labels = sorted(graph.branch_labels.get(head, ()))
    return f"{head} ({', '.join(labels)})" if labels else head


def _pending_or_empty(graph: RevisionGraph, current: Sequence[str]) -> list[str]:
    """What an upgrade from current to the heads would run; empty if the graph cannot say."""
    try:
        return graph.pending(current, "heads")
    except GraphError:
        return []


def _revisions(count: int) -> str:
    """``1 revision``, ``3 revisions``."""
    return f"{count} revision" if count == 1 else f"{count} revisions"
