"""Scratch tables at production size: row estimates read from a real database, synthetic rows.

A lock report on empty tables says what a statement locks, not for how long. With
``--rows-from`` the target database's own row estimates are read (``pg_class.reltuples``,
``information_schema.TABLES.TABLE_ROWS``; on SQLite a count) in a read-only transaction, and
each scratch table is filled with that many made-up rows, capped, in dependency order, so the
measured times mean something. Nothing is ever written to the database the estimates come from.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from workbench.core.secrets import mask_passwords
from workbench.errors import WorkbenchError

BATCH_ROWS = 5_000
"""Rows inserted per statement, and how often the progress is told."""

_POSTGRESQL_ESTIMATES = """
    SELECT CASE WHEN n.nspname = current_schema() THEN c.relname
                ELSE n.nspname || '.' || c.relname END,
           c.reltuples::bigint
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%%'
"""
_MYSQL_ESTIMATES = (
    "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
)

Progress = Callable[[str, int, int], None]
"""Told ``(table, rows inserted so far, rows to insert)`` as a table fills."""


def row_estimates(url: str) -> dict[str, int]:
    """How many rows each table of a database holds, as the server estimates them; read-only.

    A table PostgreSQL never analyzed has no estimate (-1) and counts as empty.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except Exception as exc:
        raise WorkbenchError(f"--rows-from is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                rows = connection.exec_driver_sql(_POSTGRESQL_ESTIMATES).all()
            elif backend in ("mysql", "mariadb"):
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                rows = connection.exec_driver_sql(_MYSQL_ESTIMATES).all()
            elif backend == "sqlite":
                connection.exec_driver_sql("PRAGMA query_only = ON")
                names = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                ).scalars()
                rows = [
                    (name, connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar())
                    for name in list(names)
                ]
            else:
                raise WorkbenchError(f"--rows-from cannot read row estimates of {backend}")
            connection.rollback()
    except WorkbenchError:
        raise
    except Exception as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
        raise WorkbenchError(mask_passwords(f"cannot read row estimates: {detail[0]}")) from exc
    finally:
        engine.dispose()
    return {name: max(int(count or 0), 0) for name, count in rows}


def fill_tables(
    connection: Any,
    estimates: Mapping[str, int],
    cap: int,
    skip: frozenset[str],
    on_progress: Progress | None = None,
) -> dict[str, int]:
    """Fill the tables of a scratch database with synthetic rows; how many each got.

    Tables are filled parents first; an autoincrement key is left to the server, so a
    foreign key points at ids 1 to N of its parent. A table with a NOT NULL column no value
    can be made for is left empty (and not listed).
    """
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(connection)
    filled: dict[str, int] = {}
    for table in metadata.sorted_tables:
        wanted = min(estimates.get(table.name, 0), cap)
        if wanted <= 0 or table.name in skip:
            continue
        makers = _column_values(table, filled)
        if makers is None:
            continue
        for start in range(0, wanted, BATCH_ROWS):
            numbers = range(start + 1, min(start + BATCH_ROWS, wanted) + 1)
            connection.execute(
                table.insert(),
                [{name: make(number) for name, make in makers.items()} for number in numbers],
            )
            if on_progress is not None:
                on_progress(table.name, numbers[-1], wanted)
        filled[table.name] = wanted
    connection.commit()
    return filled


def _column_values(table: Any, filled: Mapping[str, int]) -> dict[str, Callable[[int], Any]] | None:
    """How to make each column's value of row ``n``; None when a NOT NULL one cannot be made."""
    makers: dict[str, Callable[[int], Any]] = {}
    for column in table.columns:
        if _server_key(table, column):
            continue
        if column.foreign_keys:
            parent = next(iter(column.foreign_keys)).column.table.name
            count = filled.get(parent, 0)
            if count:
                makers[column.name] = lambda number, count=count: (number - 1) % count + 1
                continue
        elif column.server_default is not None and column.nullable:
            continue
        else:
            maker = _value_maker(column)
            if maker is not None:
                makers[column.name] = maker
                continue
        if not column.nullable:
            return None
        makers[column.name] = lambda number: None
    return makers


def _server_key(table: Any, column: Any) -> bool:
    """True for a table's one integer primary key column, which the server numbers."""
    if not column.primary_key or len(table.primary_key.columns) != 1:
        return False
    try:
        return column.autoincrement in (True, "auto") and column.type.python_type is int
    except NotImplementedError:
        return False


def _value_maker(column: Any) -> Callable[[int], Any] | None:
    """A value of row ``n`` for a column's type (unique where the type allows); None if unknown."""
    enums = getattr(column.type, "enums", None)
    if enums:
        return lambda number: enums[number % len(enums)]
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    length = getattr(column.type, "length", None) or 255
    makers: dict[type, Callable[[int], Any]] = {
        bool: lambda number: number % 2 == 0,
        int: lambda number: number,
        float: float,
        decimal.Decimal: decimal.Decimal,
        str: lambda number: f"r{number}"[:length],
        datetime.datetime: lambda number: (
            datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=number)
        ),
        datetime.date: lambda number: (
            datetime.date(2000, 1, 1) + datetime.timedelta(days=number % 36_500)
        ),
        datetime.time: lambda number: datetime.time(number % 24, number % 60),
        datetime.timedelta: lambda number: datetime.timedelta(seconds=number),
        uuid.UUID: lambda number: uuid.UUID(int=number),
        bytes: lambda number: number.to_bytes(8, "big"),
        dict: lambda number: {},
        list: lambda number: [],
    }
    return makers.get(kind)
