"""One upgrader at a time: the names of the database-wide migration locks and their settings.

Pure data and text. Taking a lock needs a connection; that is ``workbench.services.locks``.
A PostgreSQL advisory lock takes a 64-bit key, MariaDB/MySQL's ``GET_LOCK`` a name of at most
64 characters (server-wide, so the database's name is part of it), and SQLite a file beside
the database file. Each is derived from the version table's schema and name, so two projects
sharing a database with different version tables do not wait for each other.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LOCK_WAIT = 300.0
"""Seconds a second upgrader waits for the first before giving up."""
LOCK_FILE_SUFFIX = ".migration-lock"
MYSQL_LOCK_NAME_LIMIT = 64

LOCK_ENV = "WORKBENCH_MIGRATION_LOCK"
LOCK_WAIT_ENV = "WORKBENCH_LOCK_WAIT"
LOCK_TIMEOUT_ENV = "WORKBENCH_LOCK_TIMEOUT"
STATEMENT_TIMEOUT_ENV = "WORKBENCH_STATEMENT_TIMEOUT"

_KEY_PREFIX = "workbench-migration:"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*$", re.IGNORECASE)
_UNIT_MILLISECONDS = {"ms": 1, "s": 1000, "min": 60_000, "m": 60_000, "h": 3_600_000}
_FALSE_WORDS = {"0", "false", "no", "off"}
_TRUE_WORDS = {"1", "true", "yes", "on"}


def _version_table_name(version_table: str, schema: str | None) -> str:
    return f"{schema}.{version_table}" if schema else version_table


def advisory_lock_key(version_table: str = "alembic_version", schema: str | None = None) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of a version table.

    Advisory locks are per database, so the table's schema and name are enough.
    """
    name = _KEY_PREFIX + _version_table_name(version_table, schema)
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def named_lock(
    database: str | None, version_table: str = "alembic_version", schema: str | None = None
) -> str:
    """The MariaDB/MySQL ``GET_LOCK`` name of a version table in a database.

    ``GET_LOCK`` names are server-wide and at most 64 characters: a longer name is shortened
    to a digest of the whole.
    """
    name = f"{_KEY_PREFIX}{database or ''}.{_version_table_name(version_table, schema)}"
    if len(name) <= MYSQL_LOCK_NAME_LIMIT:
        return name
    return _KEY_PREFIX + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def lock_file_path(
    database_file: str | None, version_table: str = "alembic_version", schema: str | None = None
) -> str | None:
    """The lock file beside a SQLite database file; None for an in-memory database.

    The default version table keeps the plain ``<file>.migration-lock`` name.
    """
    if not database_file or database_file == ":memory:" or database_file.startswith("file:"):
        return None
    if version_table == "alembic_version" and not schema:
        return database_file + LOCK_FILE_SUFFIX
    tail = re.sub(r"[^A-Za-z0-9_.-]", "_", _version_table_name(version_table, schema))
    return f"{database_file}.{tail}{LOCK_FILE_SUFFIX}"


def parse_duration(value: str | float | int | None, what: str = "duration") -> int | None:
    """Milliseconds from seconds (a number) or a text with a unit: ``5``, ``500ms``, ``2s``.

    None, ``""``, ``0`` and ``off`` mean no limit (None). Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{what} must be seconds or a duration such as 5s or 500ms")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{what} must be a positive number of seconds, not {value!r}")
        milliseconds = round(value * 1000)
        return milliseconds or None
    text = value.strip()
    if not text or text.lower() in _FALSE_WORDS:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{what} must be seconds or a duration such as 5s or 500ms, not {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "s").lower()
    milliseconds = round(number * _UNIT_MILLISECONDS[unit])
    return milliseconds or None


def describe_milliseconds(milliseconds: int) -> str:
    """A duration as a person writes it: ``500ms``, ``5s``, ``1.5s``."""
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    return f"{milliseconds / 1000:g}s"


def _flag(value: str | bool | None, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = value.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError(f"{what} must be one of 1/0, true/false, yes/no, on/off, not {value!r}")


@dataclass(frozen=True)
class MigrationSafety:
    """How ``upgrade``, ``downgrade`` and ``stamp`` protect a database while they run.

    ``lock``: take the database-wide migration lock first; ``lock_wait``: seconds to wait for
    it; ``lock_timeout_ms`` / ``statement_timeout_ms``: PostgreSQL's ``lock_timeout`` and
    ``statement_timeout`` for the migration's own statements (None: the server's setting).
    """

    lock: bool = True
    lock_wait: float = DEFAULT_LOCK_WAIT
    lock_timeout_ms: int | None = None
    statement_timeout_ms: int | None = None


def resolve_safety(
    explicit: Mapping[str, object],
    environ: Mapping[str, str],
    configured: Mapping[str, object],
) -> MigrationSafety:
    """The settings of one run: a command's own value, else the environment, else ``Migrate``.

    Each mapping may hold ``lock``, ``lock_wait``, ``lock_timeout`` and ``statement_timeout``;
    a value of None there means "not given". Raises ValueError naming a bad value.
    """
    from_environment = {
        "lock": environ.get(LOCK_ENV),
        "lock_wait": environ.get(LOCK_WAIT_ENV),
        "lock_timeout": environ.get(LOCK_TIMEOUT_ENV),
        "statement_timeout": environ.get(STATEMENT_TIMEOUT_ENV),
    }

    def pick(name: str) -> object:
        for source in (explicit, from_environment, configured):
            value = source.get(name)
            if value is not None and value != "":
                return value
        return None

    lock = _flag(pick("lock"), f"{LOCK_ENV} / lock")  # type: ignore[arg-type]
    wait = pick("lock_wait")
    wait_ms = parse_duration(wait, "the lock wait") if wait is not None else None  # type: ignore[arg-type]
    return MigrationSafety(
        lock=True if lock is None else lock,
        lock_wait=DEFAULT_LOCK_WAIT if wait is None else (wait_ms or 0) / 1000,
        lock_timeout_ms=parse_duration(pick("lock_timeout"), "the lock timeout"),  # type: ignore[arg-type]
        statement_timeout_ms=parse_duration(
            pick("statement_timeout"),  # type: ignore[arg-type]
            "the statement timeout",
        ),
    )


def timeout_statements(safety: MigrationSafety) -> list[str]:
    """The PostgreSQL ``SET LOCAL`` statements that put the timeouts on a transaction."""
    statements = []
    if safety.lock_timeout_ms is not None:
        statements.append(f"SET LOCAL lock_timeout = {int(safety.lock_timeout_ms)}")
    if safety.statement_timeout_ms is not None:
        statements.append(f"SET LOCAL statement_timeout = {int(safety.statement_timeout_ms)}")
    return statements


_QUALIFIED_NAME = r'((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)'
_LOCKED_TABLE_PATTERNS = [
    re.compile(
        r"^\s*(?:ALTER|DROP|TRUNCATE|LOCK)\s+(?:TABLE\s+)?(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?"
        + _QUALIFIED_NAME,
        re.IGNORECASE,
    ),
    re.compile(r"\bON\s+(?:ONLY\s+)?" + _QUALIFIED_NAME, re.IGNORECASE),
    re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+" + _QUALIFIED_NAME, re.IGNORECASE),
    re.compile(r"\bREFERENCES\s+" + _QUALIFIED_NAME, re.IGNORECASE),
]


def locked_table(statement: str | None) -> str | None:
    """The table a statement that waited for a lock works on, as written in it; None if unclear."""
    if not statement:
        return None
    for pattern in _LOCKED_TABLE_PATTERNS:
        match = pattern.search(statement)
        if match is not None:
            return re.sub(r"\s+", "", match.group(1))
    return None


@dataclass(frozen=True)
class BlockingSession:
    """A database session holding a lock that a migration statement waited for."""

    pid: int
    application: str | None
    state: str | None
    query_start: str | None
    query: str | None
    mode: str | None = None


def describe_lock_timeout(
    kind: str,
    milliseconds: int | None,
    table: str | None,
    database: str,
    blockers: list[BlockingSession],
    statement: str | None,
) -> str:
    """One line: which timeout fired, on which table, and who held the lock.

    ``kind`` is ``lock_timeout`` or ``statement_timeout``.
    """
    limit = f" ({describe_milliseconds(milliseconds)})" if milliseconds else ""
    on_table = f" on table {table}" if table else ""
    if kind == "lock_timeout":
        head = f"lock_timeout{limit} expired waiting for a lock{on_table} in database {database}"
    else:
        head = f"statement_timeout{limit} cancelled a statement{on_table} in database {database}"
    if blockers:
        head += "; blocked by " + "; ".join(_describe_session(session) for session in blockers)
    elif kind == "lock_timeout":
        head += "; the session holding it was gone when the timeout fired"
    if statement:
        head += f" (while running: {_one_line(statement, 120)})"
    return head


def _describe_session(session: BlockingSession) -> str:
    parts = [f"pid {session.pid}"]
    if session.application:
        parts.append(f"application {session.application!r}")
    if session.state:
        parts.append(session.state)
    if session.query_start:
        parts.append(f"query started {session.query_start}")
    if session.mode:
        parts.append(f"holding {session.mode}")
    text = ", ".join(parts)
    if session.query:
        text += f": {_one_line(session.query, 80)}"
    return text


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def waiting_message(database: str, seconds: float) -> str:
    """What a second upgrader says while it waits for the first."""
    return (
        f"Waiting for another migration of database {database} to finish "
        f"(the migration lock; up to {seconds:g} s)..."
    )


def wait_expired_message(database: str, seconds: float, holder: str | None = None) -> str:
    """The one-line error of an upgrader that waited for the lock in vain."""
    held = f" (held by {holder})" if holder else ""
    return (
        f"gave up after {seconds:g} s waiting for another migration of database {database} "
        f"to finish{held}; nothing was run. Wait longer with --lock-wait or {LOCK_WAIT_ENV}"
    )
