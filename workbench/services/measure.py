"""Measuring what a revision's statements lock and rewrite, on scratch databases at its parent.

Scratch databases are made as ``verify`` makes them and upgraded to the revision's parent;
then the revision's upgrade runs with every statement it sends watched. On PostgreSQL each
statement runs in a transaction of its own, and before it ends ``pg_locks`` of the migrating
backend says what it locked and ``pg_class.relfilenode`` whether it rewrote a table; a
statement outside a transaction (``autocommit_block``) is made to wait on a lock held by a
second connection, which shows the lock it asks for. On MySQL/MariaDB every ALTER is tried with
``ALGORITHM=INSTANT``, then ``INPLACE``, then ``COPY``, each with the weakest ``LOCK`` first,
and the first the server accepts is kept. On SQLite a batch's copy of a table is reported.
The real databases are only connected to as ``verify`` does (to create and drop the scratch
ones beside them) and, for ``--rows-from``, to read row estimates in a read-only transaction.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.operations.base import AbstractOperations, BatchOperations
from alembic.script import ScriptDirectory

from workbench.core.lock_report import (
    LockReport,
    MeasuredStatement,
    TableLock,
    lock_mode_name,
    measured_review,
    strongest_mode,
)
from workbench.core.preview import Preview
from workbench.core.verify import ScratchDatabases, ScratchInfo
from workbench.errors import WorkbenchError
from workbench.project import LoadedProject, XArg, is_multidb
from workbench.services.commands import failure_line, reports_failures, run_migration
from workbench.services.review import no_bytecode, preview, review_revision, version_locations
from workbench.services.synthetic_rows import Progress, fill_tables, row_estimates

MAX_ROWS = 100_000
"""The most synthetic rows ``--rows-from`` puts in one scratch table."""
_WAIT_SECONDS = 10.0
"""How long a statement outside a transaction is held while the lock it asks for is read."""
_CATALOG_READ = re.compile(
    r"^\s*(?:PRAGMA\b|SHOW\b|SELECT\b.*\b(?:pg_catalog|information_schema|sqlite_master|"
    r"sqlite_schema|pg_class|pg_namespace)\b)",
    re.IGNORECASE | re.DOTALL,
)
_MYSQL_ALTER = re.compile(r"^\s*ALTER\s+TABLE\s+(?P<table>[`\w.]+)", re.IGNORECASE)
_MYSQL_INDEX = re.compile(
    r"^\s*(?:CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?|DROP\s+)INDEX\s+\S+\s+ON\s+"
    r"(?P<table>[`\w.]+)",
    re.IGNORECASE,
)
_ASYNC_NOTE = "timed only: locks are not read through an async driver"
_MYSQL_ATTEMPTS = (
    ("INSTANT", ("NONE",)),
    ("INPLACE", ("NONE", "SHARED", "EXCLUSIVE")),
    ("COPY", ("SHARED", "EXCLUSIVE")),
)
_MYSQL_ALGORITHM_REFUSED = 1846
_MYSQL_LOCK_REFUSED = 1845
_SQLITE_BATCH_COPY = re.compile(r'^\s*INSERT\s+INTO\s+"?_alembic_tmp_(?P<table>\w+)', re.I)
_POSTGRESQL_TABLES = """
    SELECT c.oid, CASE WHEN n.nspname = current_schema() THEN c.relname
                       ELSE n.nspname || '.' || c.relname END,
           c.relfilenode, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
"""
_POSTGRESQL_LOCKS = (
    "SELECT relation, mode FROM pg_locks WHERE pid = %s AND locktype = 'relation' AND {granted}"
)


@dataclasses.dataclass
class _Table:
    """A PostgreSQL table as it stood before a statement."""

    name: str
    relfilenode: int
    quoted: str


class _OpTracker:
    """Which op of the script is running: its path, as the recorded op tree has it.

    A ``batch_alter_table`` block counts as one top-level op, as in the recorded tree; when
    it ends, each op it holds runs as ``(block, n)``, and the copy of a table it recreates
    belongs to the block.
    """

    def __init__(self) -> None:
        self.count = 0
        self.current: tuple[int, ...] = ()
        self.measuring = False

    @contextmanager
    def op(self) -> Iterator[None]:
        """One top-level op runs while the block runs; nested ones belong to it."""
        if self.current or not self.measuring:
            yield
            return
        self.current = (self.count,)
        self.count += 1
        try:
            yield
        finally:
            self.current = ()

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Count the ops Alembic's ``Operations`` invoke while the block runs."""
        invoke = AbstractOperations.invoke
        batch_alter_table = AbstractOperations.batch_alter_table
        tracker = self

        def counted_invoke(operations: Any, operation: Any) -> Any:
            if isinstance(operations, BatchOperations):
                return invoke(operations, operation)
            with tracker.op():
                return invoke(operations, operation)

        @contextmanager
        def counted_batch(operations: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with tracker.op(), batch_alter_table(operations, *args, **kwargs) as batch:
                yield batch
                batch.impl.batch = _NumberedBatch(batch.impl.batch, tracker)

        AbstractOperations.invoke = counted_invoke  # type: ignore[method-assign]
        AbstractOperations.batch_alter_table = counted_batch  # type: ignore[method-assign]
        try:
            yield
        finally:
            AbstractOperations.invoke = invoke  # type: ignore[method-assign]
            AbstractOperations.batch_alter_table = batch_alter_table  # type: ignore[method-assign]


class _NumberedBatch(list[Any]):
    """A batch block's ops: while the block runs them in order, each is the running op."""

    def __init__(self, entries: list[Any], tracker: _OpTracker) -> None:
        super().__init__(entries)
        self.tracker = tracker

    def __iter__(self) -> Iterator[Any]:
        block = self.tracker.current
        try:
            for number, entry in enumerate(super().__iter__()):
                if block:
                    self.tracker.current = (*block, number)
                yield entry
        finally:
            self.tracker.current = block


class _Watch:
    """The statements one revision's upgrade sends, measured as they run, per database."""

    def __init__(self, databases: dict[str, str]) -> None:
        self.databases = databases
        self.tracker = _OpTracker()
        self.statements: dict[str, list[MeasuredStatement]] = {name: [] for name in databases}
        self.dialects: dict[str, str] = {}
        self.pending: dict[int, Callable[[], MeasuredStatement]] = {}
        self.monitors: dict[str, Any] = {}
        self.waits: list[_LockWait] = []

    def database_of(self, connection: Any) -> str | None:
        """The migrated database a connection goes to, by its scratch database's name."""
        return next(
            (
                name
                for name, database in self.databases.items()
                if database == connection.engine.url.database
            ),
            None,
        )

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Watch every engine's statements while the block runs."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.before, retval=True)
        event.listen(Engine, "after_cursor_execute", self.after)
        try:
            with self.tracker.installed():
                yield
        finally:
            event.remove(Engine, "before_cursor_execute", self.before)
            event.remove(Engine, "after_cursor_execute", self.after)
            for waited in self.waits:  # a statement that failed while held: let its tables go
                waited.stop()
            for monitor in self.monitors.values():
                with contextlib.suppress(Exception):
                    monitor.close()

    def before(
        self,
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        """Get ready to measure a statement of the revision (MySQL: run its ALTER here)."""
        database = self.database_of(connection) if self.tracker.measuring else None
        if database is None or _CATALOG_READ.match(statement):
            return statement, parameters
        dialect = connection.dialect.name
        if getattr(connection.dialect, "is_mariadb", False):
            dialect = "mariadb"
        self.dialects[database] = dialect
        path = self.tracker.current
        if connection.dialect.is_async:
            self.pending[id(cursor)] = _timed(statement, path, note=_ASYNC_NOTE)
        elif dialect == "postgresql":
            self.pending[id(cursor)] = self._postgresql(connection, cursor, statement, path)
        elif dialect in ("mysql", "mariadb"):
            probed = _MySQLProbe(cursor.connection, statement, parameters, path).run()
            if probed is not None:
                self.statements[database].append(probed)
                return "DO 0", parameters
            self.pending[id(cursor)] = _timed(statement, path)
        else:
            self.pending[id(cursor)] = _timed(statement, path, sqlite=True)
        return statement, parameters

    def after(self, connection: Any, cursor: Any, *args: Any) -> None:
        """Finish measuring the statement that just ran."""
        finish = self.pending.pop(id(cursor), None)
        database = self.database_of(connection)
        if finish is not None and database is not None:
            self.statements[database].append(finish())

    def _postgresql(
        self, connection: Any, cursor: Any, statement: str, path: tuple[int, ...]
    ) -> Callable[[], MeasuredStatement]:
        """Measure a PostgreSQL statement: locks from ``pg_locks``, rewrites from relfilenodes."""
        dbapi = cursor.connection
        if dbapi.autocommit:
            tables = _postgresql_tables(dbapi)
            waited = _LockWait(self._monitor(connection), _backend_pid(dbapi), tables)
            self.waits.append(waited)
            waited.start()

            def finish_waited() -> MeasuredStatement:
                ended = time.perf_counter()
                waited.stop()
                locks = [TableLock(tables[oid].name, mode) for oid, mode in waited.seen]
                return MeasuredStatement(
                    sql=_shown(statement),
                    seconds=ended - waited.released_at,
                    op_index=path,
                    locks=tuple(locks),
                    rewritten=_rewritten(tables, _postgresql_tables(dbapi)),
                    note="outside a transaction: the lock it waited for" if locks else None,
                )

            return finish_waited
        dbapi.commit()  # each statement in a transaction of its own: its locks alone
        tables = _postgresql_tables(dbapi)
        started = time.perf_counter()

        def finish() -> MeasuredStatement:
            seconds = time.perf_counter() - started
            with dbapi.cursor() as reading:
                reading.execute(_POSTGRESQL_LOCKS.format(granted="granted"), (_backend_pid(dbapi),))
                held = reading.fetchall()
            modes: dict[int, list[str]] = {}
            for oid, mode in held:
                if oid in tables:
                    modes.setdefault(oid, []).append(mode)
            locks = [
                TableLock(tables[oid].name, lock_mode_name(strongest_mode(found)))
                for oid, found in modes.items()
            ]
            return MeasuredStatement(
                sql=_shown(statement),
                seconds=seconds,
                op_index=path,
                locks=tuple(sorted(locks, key=lambda lock: lock.table)),
                rewritten=_rewritten(tables, _postgresql_tables(dbapi)),
            )

        return finish

    def _monitor(self, connection: Any) -> Any:
        """A second connection to the same scratch database, in autocommit mode.

        Its pool's wrapper is kept (and closed at the end), so the pool never lends it out.
        """
        key = str(connection.engine.url)
        if key not in self.monitors:
            self.monitors[key] = connection.engine.raw_connection()
            self.monitors[key].driver_connection.autocommit = True
        return self.monitors[key].driver_connection


class _LockWait:
    """Holds every table of a second connection while a statement outside a transaction starts.

    The statement then waits for the first lock it needs, which ``pg_locks`` shows as not
    granted; that mode is noted and the tables are let go at once (or when the statement
    needed none of them).
    """

    def __init__(self, monitor: Any, pid: int, tables: dict[int, _Table]) -> None:
        self.monitor = monitor
        self.pid = pid
        self.tables = tables
        self.seen: list[tuple[int, str]] = []
        self.done = threading.Event()
        self.released_at = time.perf_counter()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        """Lock the tables, then watch for the statement's wait in a thread."""
        if not self.tables:
            return
        self.monitor.autocommit = False
        names = ", ".join(table.quoted for table in self.tables.values())
        with self.monitor.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        self.thread.start()

    def _watch(self) -> None:
        """Poll for the waiting lock until it shows, then release the tables."""
        deadline = time.perf_counter() + _WAIT_SECONDS
        query = _POSTGRESQL_LOCKS.format(granted="NOT granted")
        try:
            with self.monitor.cursor() as cursor:
                while not self.done.is_set() and time.perf_counter() < deadline:
                    cursor.execute(query, (self.pid,))
                    waiting = [(oid, mode) for oid, mode in cursor.fetchall() if oid in self.tables]
                    if waiting:
                        self.seen = [(oid, lock_mode_name(mode)) for oid, mode in waiting]
                        break
                    time.sleep(0.001)
        finally:
            self.released_at = time.perf_counter()
            self.monitor.rollback()
            self.monitor.autocommit = True

    def stop(self) -> None:
        """The statement ended: stop watching (the tables are released by then)."""
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()


class _MySQLProbe:
    """An ALTER on MySQL/MariaDB tried with the cheapest algorithm and lock first."""

    def __init__(self, dbapi: Any, statement: str, parameters: Any, path: tuple[int, ...]):
        self.dbapi = dbapi
        self.statement = statement
        self.parameters = parameters
        self.path = path

    def run(self) -> MeasuredStatement | None:
        """Run the first variant the server accepts; None when the statement is no ALTER.

        A refusal for any other reason than the algorithm or the lock leaves the statement
        to run as written, so its own error is the one reported.
        """
        alter = _MYSQL_ALTER.match(self.statement)
        index = _MYSQL_INDEX.match(self.statement)
        if (alter is None and index is None) or "ALGORITHM" in self.statement.upper():
            return None
        table = (alter or index).group("table").replace("`", "")  # type: ignore[union-attr]
        separator = ", " if alter is not None else " "
        before = self._table_id(table)
        for algorithm, levels in _MYSQL_ATTEMPTS:
            for level in levels:
                sql = f"{self.statement}{separator}ALGORITHM={algorithm}{separator}LOCK={level}"
                started = time.perf_counter()
                try:
                    with self.dbapi.cursor() as cursor:
                        cursor.execute(sql, self.parameters)  # as SQLAlchemy sends it
                except Exception as exc:
                    code = exc.args[0] if exc.args else None
                    if code == _MYSQL_ALGORITHM_REFUSED:
                        break
                    if code == _MYSQL_LOCK_REFUSED:
                        continue
                    return None
                seconds = time.perf_counter() - started
                after = self._table_id(table)
                rebuilt = algorithm == "COPY" if before is None else before != after
                return MeasuredStatement(
                    sql=_shown(self.statement),
                    seconds=seconds,
                    op_index=self.path,
                    locks=(TableLock(table, level),),
                    rewritten=(table,) if rebuilt else (),
                    algorithm=algorithm,
                    lock_level=level,
                )
        return None

    def _table_id(self, table: str) -> int | None:
        """InnoDB's id of a table: a new id means the table was rebuilt (None if unreadable)."""
        name = table.rsplit(".", 1)[-1]
        for catalog in ("INNODB_SYS_TABLES", "INNODB_TABLES"):
            try:
                with self.dbapi.cursor() as cursor:
                    cursor.execute(
                        f"SELECT TABLE_ID FROM information_schema.{catalog} "
                        "WHERE NAME = CONCAT(DATABASE(), '/', %s)",
                        (name,),
                    )
                    row = cursor.fetchone()
                return row[0] if row else None
            except Exception:
                continue
        return None


def _timed(
    statement: str, path: tuple[int, ...], *, sqlite: bool = False, note: str | None = None
) -> Callable[[], MeasuredStatement]:
    """Measure a statement's time only (SQLite: and the table a batch copies)."""
    started = time.perf_counter()
    copied = _SQLITE_BATCH_COPY.match(statement) if sqlite else None
    if copied:
        note = "batch mode copies the table into a new one (SQLite locks the whole database)"

    def finish() -> MeasuredStatement:
        return MeasuredStatement(
            sql=_shown(statement),
            seconds=time.perf_counter() - started,
            op_index=path,
            rewritten=(copied.group("table"),) if copied else (),
            note=note,
        )

    return finish


def _postgresql_tables(dbapi: Any) -> dict[int, _Table]:
    """Every user table of the database, by oid, with its relfilenode."""
    with dbapi.cursor() as cursor:
        cursor.execute(_POSTGRESQL_TABLES)
        return {oid: _Table(name, node, quoted) for oid, name, node, quoted in cursor.fetchall()}


def _backend_pid(dbapi: Any) -> int:
    """The server process of a PostgreSQL connection."""
    with dbapi.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _rewritten(before: dict[int, _Table], after: dict[int, _Table]) -> tuple[str, ...]:
    """The tables whose relfilenode changed: PostgreSQL wrote them anew."""
    return tuple(
        sorted(
            table.name
            for oid, table in before.items()
            if oid in after and after[oid].relfilenode != table.relfilenode
        )
    )


def _shown(statement: str) -> str:
    """A statement on one line."""
    return " ".join(statement.split())


def _move(
    project: LoadedProject, config: AlembicConfig, script: ScriptDirectory, target: str
) -> None:
    """Upgrade the scratch databases to a target."""
    run_migration(
        project,
        config,
        script,
        lambda rev: script._upgrade_revs(target, rev),
        sql=False,
        starting_rev=None,
        destination=target,
        tag=None,
    )


@contextmanager
def _upgrade_measured(module: Any, watch: _Watch) -> Iterator[None]:
    """Measure statements only while the revision's own ``upgrade()`` runs."""
    upgrade = module.upgrade

    @functools.wraps(upgrade)
    def measured_upgrade(*args: Any, **kwargs: Any) -> Any:
        watch.tracker.measuring, watch.tracker.count = True, 0
        try:
            return upgrade(*args, **kwargs)
        finally:
            watch.tracker.measuring = False

    module.upgrade = measured_upgrade
    try:
        yield
    finally:
        module.upgrade = upgrade


@reports_failures
def measure_locks(
    project: LoadedProject,
    revision: str = "head",
    x_arg: XArg = None,
    *,
    script: str = "",
    rows_from: str | None = None,
    on_progress: Progress | None = None,
) -> tuple[LockReport, ...]:
    """Run a revision's upgrade on scratch databases standing at its parent; measure each
    statement it sends.

    ``script`` is the text of a revision not written yet (a review's): it is measured as if
    it were in the history, and ``revision`` is then its own. With ``rows_from`` (the URL of
    the real default database, only read) the scratch tables are first filled with as many
    synthetic rows as that database estimates it holds, at most ``MAX_ROWS`` each;
    ``on_progress`` hears how the filling goes. Returns one report per migrated database;
    every scratch database is dropped at the end.
    """
    estimates = row_estimates(rows_from) if rows_from is not None else None
    config = project.alembic_config(x_arg)
    with tempfile.TemporaryDirectory(prefix="workbench-locks-") as folder:
        directory = ScriptDirectory.from_config(config)
        if script:
            revision = _unwritten_revision(directory, config, script, folder)
        with no_bytecode():
            found = directory.get_revision(revision)
        if found is None:
            raise WorkbenchError(f"No revision file indicated by symbol '{revision}'")
        return _measure(project, config, directory, found, folder, estimates, on_progress)


def _unwritten_revision(
    directory: ScriptDirectory, config: AlembicConfig, script: str, folder: str
) -> str:
    """Put a script's text in a version folder of its own, added to the history; its id."""
    tree = ast.parse(script)
    revision = next(
        (
            node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(name, ast.Name) and name.id == "revision" for name in node.targets)
            and isinstance(node.value, ast.Constant)
        ),
        None,
    )
    if not isinstance(revision, str):
        raise WorkbenchError("the script has no revision id to measure it by")
    versions = Path(folder, "versions")
    versions.mkdir()
    (versions / f"{revision}_measured.py").write_text(script, encoding="utf-8")
    directory.version_locations = [*version_locations(config, directory), str(versions)]
    return revision


def _measure(
    project: LoadedProject,
    config: AlembicConfig,
    script: Any,
    found: Any,
    folder: str,
    estimates: dict[str, int] | None,
    on_progress: Progress | None,
) -> tuple[LockReport, ...]:
    """Bring scratch databases to a revision's parent, fill them, measure the revision."""
    parents = found._normalized_down_revisions
    with (
        no_bytecode(),
        ScratchDatabases(folder) as scratch,
        project.on_scratch(scratch, is_multidb(script.dir)) as use_fresh_databases,
    ):
        databases: list[ScratchInfo] = use_fresh_databases()
        watch = _Watch({info.name: _database_of(info) for info in databases})
        try:
            for parent in parents:
                _move(project, config, script, parent)
        except Exception as exc:
            raise WorkbenchError(
                f"cannot bring a scratch database to {', '.join(parents)}: "
                f"{failure_line(project, exc)}"
            ) from exc
        rows: dict[str, int] = {}
        if estimates is not None:
            rows = _fill(project, scratch, databases[0], estimates, on_progress)
        try:
            with watch.listening(), _upgrade_measured(found.module, watch):
                _move(project, config, script, found.revision)
        except Exception as exc:
            filled = ", ".join(f"{table}: {count}" for table, count in sorted(rows.items()))
            synthetic = f" with synthetic rows ({filled})" if filled else ""
            raise WorkbenchError(
                f"{found.revision} failed on a scratch database{synthetic} (the real ones are "
                f"not touched): {failure_line(project, exc)}"
            ) from exc
    return tuple(
        LockReport(
            revision=found.revision,
            database=info.name,
            dialect=watch.dialects.get(info.name, info.dialect),
            statements=_with_lines(watch.statements[info.name], found, watch.dialects),
            rows=rows if info is databases[0] else {},
        )
        for info in databases
    )


def _with_lines(
    statements: list[MeasuredStatement], found: Any, dialects: dict[str, str]
) -> tuple[MeasuredStatement, ...]:
    """The statements with the script lines of the ops that sent them, where they are found.

    The upgrade is recorded offline and its ops located as the review locates its findings,
    so a finding and a measured statement of the same call share a line.
    """
    from workbench.core.findings import Finding, Severity
    from workbench.core.review import locate_lines, record_operations
    from workbench.core.review.optree import walk

    try:
        text = Path(found.path).read_text(encoding="utf-8")
        recorded = record_operations(found.module.upgrade, next(iter(dialects.values())))
    except Exception:  # a multidb upgrade(engine_name), a file gone: no lines, paths still
        return tuple(statements)
    leaves = [Finding("measured", Severity.INFO, "", op_index=item.path) for item in walk(recorded)]
    lines = locate_lines(leaves, recorded, text)
    lines_of: dict[tuple[int, ...], list[int]] = {}
    for leaf, line in lines.items():
        lines_of.setdefault(leaf.op_index, []).append(line)
        if len(leaf.op_index) > 1:  # a block's own statements (a table copy): its every line
            lines_of.setdefault(leaf.op_index[:1], []).append(line)
    return tuple(
        dataclasses.replace(statement, lines=tuple(sorted(lines_of.get(statement.op_index, ()))))
        for statement in statements
    )


def _fill(
    project: LoadedProject,
    scratch: ScratchDatabases,
    info: ScratchInfo,
    estimates: dict[str, int],
    on_progress: Progress | None,
) -> dict[str, int]:
    """Fill one scratch database's tables with synthetic rows (the version table left alone)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(info.url)
    for server, database in scratch.created:
        if database == url.database:
            url = server.set(database=database)
    version_tables = frozenset(target.version_table for target in project.describe().targets)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return fill_tables(connection, estimates, MAX_ROWS, version_tables, on_progress)
    finally:
        engine.dispose()


def _database_of(info: ScratchInfo) -> str | None:
    """The database name of a scratch database's URL (a file's path on SQLite)."""
    from sqlalchemy.engine import make_url

    return make_url(info.url).database


def review_measured(
    project: LoadedProject,
    revision: str | None = None,
    x_arg: XArg = None,
    *,
    head: str = "head",
    with_sql: bool = False,
    rows_from: str | None = None,
    on_progress: Progress | None = None,
) -> tuple[Preview, tuple[LockReport, ...]]:
    """A revision's review (without one: the pending change's, on ``head``) with its lock and
    rewrite guesses replaced by measurements."""
    if revision is None:
        review = preview(project, head=head, x_arg=x_arg, with_sql=with_sql)
        if review.script is None:
            return review, ()
        measured = {"script": review.script}
    else:
        review = review_revision(project, revision, x_arg=x_arg, with_sql=with_sql)
        measured = {"revision": review.revision or revision}
    reports = measure_locks(
        project, x_arg=x_arg, rows_from=rows_from, on_progress=on_progress, **measured
    )
    return measured_review(review, reports), reports
