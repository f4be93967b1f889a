"""The SQL a revision runs, rendered offline where Alembic can, else on scratch SQLite files.

Offline (``--sql``) mode cannot render a batch operation on SQLite: the batch must reflect the
table it recreates. Such revisions are run instead against a scratch SQLite file standing at
the revision's parents, and the statements the upgrade sends are captured, so the SQL shown is
what the upgrade would run. The scratch files live in one temporary folder per process (a
long-lived child keeps them between requests) and are never the user's databases; copies of
the states reached are kept, so that the next revision usually starts one step away.

Like ``commands``, every function runs inside a Flask app context.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from workbench.core.files import FileIdentity, revision_file_identities
from workbench.errors import WorkbenchError
from workbench.project import LoadedProject, is_multidb
from workbench.services.commands import (
    MigrationStep,
    XArg,
    _check_target,
    _split_range,
    migration_step,
    reports_failures,
    run_migration,
)

NEEDS_CONNECTION = "requires a live database connection"
"""Alembic's words when offline mode cannot render a batch operation (SQLite)."""
SNAPSHOTS_KEPT = 256
"""States of a scratch database kept as file copies, the least recently used dropped first."""
SECTION = "-- Database: "
SCRATCH_REASON = "offline mode cannot render a batch on SQLite"

_READS = re.compile(r"^\s*(SELECT\b|PRAGMA\s+[\w.]+\s*\(|PRAGMA\s+[\w.]+\s*$)", re.IGNORECASE)
"""Statements that only read (reflection, the version table): not part of what is shown."""


@dataclass(frozen=True)
class DatabaseDialect:
    """A migrated database: its name (``default`` or the bind's) and its dialect."""

    name: str
    dialect: Any
    version_options: Mapping[str, str] = field(default_factory=dict)
    """``version_table`` and ``version_table_schema`` as env.py configures them."""

    @property
    def engine_name(self) -> str:
        """The name env.py gives ``run_migrations(engine_name=...)``: "" for the default."""
        return "" if self.name == "default" else self.name


def project_databases(
    project: LoadedProject, script: ScriptDirectory
) -> tuple[list[DatabaseDialect], bool]:
    """The migrated databases with their dialects, read without connecting; and multidb."""
    multidb = is_multidb(script.dir)
    targets = {target.name: target for target in project.describe().targets}
    databases = []
    for name, dialect in project.dialects(multidb):
        target = targets.get(name)
        options = {}
        if target is not None:
            options["version_table"] = target.version_table
            if target.version_table_schema:
                options["version_table_schema"] = target.version_table_schema
        databases.append(DatabaseDialect(name, dialect, options))
    return databases, multidb


def sql_literal(value: Any) -> str:
    """A parameter as an SQL literal, as SQLite reads it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"X'{bytes(value).hex()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def inline_parameters(statement: str, parameters: Any) -> str:
    """The statement with its ``?`` parameters written as literals (quoted text left alone)."""
    if not parameters:
        return statement
    if isinstance(parameters, dict):
        return statement  # named parameters are not SQLite's paramstyle; shown as sent
    values = iter(parameters)
    parts: list[str] = []
    quote: str | None = None
    for character in statement:
        if quote is not None:
            if character == quote:
                quote = None
            parts.append(character)
        elif character in "'\"`":
            quote = character
            parts.append(character)
        elif character == "?":
            try:
                parts.append(sql_literal(next(values)))
            except StopIteration:
                parts.append(character)
        else:
            parts.append(character)
    return "".join(parts)


class StatementCapture:
    """Keeps what a connection sends while capturing: each statement, parameters inlined."""

    def __init__(self) -> None:
        self.capturing = False
        self.statements: list[str] = []

    def __call__(
        self,
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not self.capturing or _READS.match(statement):
            return
        rows = parameters if executemany else [parameters]
        for row in rows or [()]:
            self.statements.append(inline_parameters(statement.strip(), row))

    @contextlib.contextmanager
    def on(self) -> Iterator[list[str]]:
        """Capture within the block; the statements captured so far."""
        self.capturing = True
        try:
            yield self.statements
        finally:
            self.capturing = False


class ScratchDatabases:
    """Temporary SQLite files standing at chosen revisions, one line of states per database.

    ``file_at`` gives a private copy standing at given heads, reached from the nearest state
    kept that is an ancestor (or from an empty file) one revision at a time; every state
    passed on the way is kept as a file copy, up to ``SNAPSHOTS_KEPT``.
    """

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="workbench-scratch-"))
        self._snapshots: OrderedDict[tuple[str, tuple[str, ...]], Path] = OrderedDict()
        self._serial = 0
        self._lock = threading.Lock()
        self._generation = _GENERATION[0]
        self._depths: dict[tuple[str, ...], int] = {}

    def close(self) -> None:
        """Remove every scratch file."""
        shutil.rmtree(self._folder, ignore_errors=True)
        self._snapshots.clear()

    def new_file(self) -> Path:
        """A new, empty scratch file name."""
        self._serial += 1
        return self._folder / f"scratch-{self._serial}.db"

    def file_at(
        self,
        config: Any,
        script: ScriptDirectory,
        database: DatabaseDialect,
        heads: Sequence[str],
    ) -> Path:
        """A private scratch file of ``database`` standing at ``heads`` (empty: base)."""
        wanted = _state(heads)
        with self._lock:
            if self._generation != _GENERATION[0]:
                self._forget_states()
            start, source = self._nearest(script, database.name, wanted)
            working = self.new_file()
            if source is not None:
                shutil.copyfile(source, working)
            if start == wanted:
                return working
            steps = list(script._upgrade_revs(wanted, start or None))
            with scratch_connection(working) as (connection, _capture):
                for step in steps:
                    run_steps(config, script, connection, [step], database)
                    connection.commit()
                    state = _state(current_heads(connection, database))
                    self._keep(database.name, state, working)
            return working

    def _forget_states(self) -> None:
        """Drop every kept state: the revision files they were built from have changed."""
        for path in self._snapshots.values():
            path.unlink(missing_ok=True)
        self._snapshots.clear()
        self._depths.clear()
        self._generation = _GENERATION[0]

    def keep(self, database: str, heads: Sequence[str], path: Path) -> None:
        """Keep a copy of a file known to stand at ``heads``."""
        with self._lock:
            self._keep(database, _state(heads), path)

    def _keep(self, database: str, state: tuple[str, ...], path: Path) -> None:
        key = (database, state)
        if key in self._snapshots:
            self._snapshots.move_to_end(key)
            return
        copy = self.new_file()
        shutil.copyfile(path, copy)
        self._snapshots[key] = copy
        while len(self._snapshots) > SNAPSHOTS_KEPT:
            _key, dropped = self._snapshots.popitem(last=False)
            dropped.unlink(missing_ok=True)

    def _nearest(
        self, script: ScriptDirectory, database: str, wanted: tuple[str, ...]
    ) -> tuple[tuple[str, ...], Path | None]:
        """The kept state closest below ``wanted`` (most ancestors), and its file."""
        if (database, wanted) in self._snapshots:
            self._snapshots.move_to_end((database, wanted))
            return wanted, self._snapshots[database, wanted]
        if not wanted:
            return (), None
        ancestors = _ancestors(script, wanted)
        best: tuple[int, tuple[str, ...], Path | None] = (0, (), None)
        for (name, state), path in self._snapshots.items():
            if name != database or not state or not set(state) <= ancestors:
                continue
            if state not in self._depths:
                self._depths[state] = len(_ancestors(script, state))
            depth = self._depths[state]
            if depth > best[0]:
                best = (depth, state, path)
        return best[1], best[2]


def _state(heads: Sequence[str] | str | None) -> tuple[str, ...]:
    """Heads as a sorted tuple, the key of a state."""
    if heads is None:
        return ()
    if isinstance(heads, str):
        return (heads,)
    return tuple(sorted(heads))


def _ancestors(script: ScriptDirectory, heads: Sequence[str]) -> set[str]:
    """The revisions at or below ``heads``."""
    return {
        revision.revision
        for revision in script.revision_map.iterate_revisions(tuple(heads), "base")
        if revision is not None
    }


@contextlib.contextmanager
def scratch_connection(path: Path) -> Iterator[tuple[Any, StatementCapture]]:
    """A connection to a scratch file, with a capture listening to what it sends."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    sa.event.listen(engine, "connect", _without_durability)
    capture = StatementCapture()
    try:
        with engine.connect() as connection:
            sa.event.listen(connection, "before_cursor_execute", capture)
            yield connection, capture
    finally:
        engine.dispose()


def _without_durability(dbapi_connection: Any, record: Any) -> None:
    """A scratch file need not survive a crash: no sync to disk, the journal in memory."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.close()


def current_heads(connection: Any, database: DatabaseDialect) -> tuple[str, ...]:
    """The heads a scratch file's version table holds."""
    from alembic.runtime.migration import MigrationContext

    opts = dict(database.version_options)
    return tuple(MigrationContext.configure(connection, opts=opts).get_current_heads())


def run_steps(
    config: Any,
    script: ScriptDirectory,
    connection: Any,
    steps: Sequence[Any],
    database: DatabaseDialect,
    *,
    multidb: bool | None = None,
) -> None:
    """Run Alembic revision steps on a connection, with the version table env.py configures."""
    if multidb is None:
        multidb = is_multidb(script.dir)
    with EnvironmentContext(config, script, fn=lambda rev, context: list(steps)) as env:
        env.configure(connection=connection, **database.version_options)
        with env.begin_transaction():
            if multidb:
                env.run_migrations(engine_name=database.engine_name)
            else:
                env.run_migrations()


def run_function(connection: Any, function: Callable[[], Any]) -> None:
    """Call a script's ``upgrade``/``downgrade`` function with ``op`` bound to a connection."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection)
    with Operations.context(context):
        function()


def format_statements(statements: Sequence[str]) -> str:
    """Captured statements as a script, each ended by ``;`` as offline mode writes them."""
    return "".join(f"{statement.rstrip().rstrip(';')};\n\n" for statement in statements)


_SCRATCH: ScratchDatabases | None = None


def scratch_databases() -> ScratchDatabases:
    """This process's scratch databases, made on first use and removed at exit."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = ScratchDatabases()
        atexit.register(_SCRATCH.close)
    return _SCRATCH


def _range(revision: str) -> tuple[tuple[str, ...], str]:
    """``a,b:target`` as (starting heads, target); no start means base."""
    if ":" not in revision:
        return (), revision
    start, target = revision.split(":", 1)
    return tuple(part.strip() for part in start.split(",") if part.strip()), target


@dataclass(frozen=True)
class MigrationSql:
    """The SQL an upgrade or a downgrade runs, and its steps (one list for every database)."""

    text: str
    steps: tuple[MigrationStep, ...] = ()
    ran_on_scratch: bool = False
    """Whether the run went to scratch databases (offline mode could not render it)."""


StepsFrom = Callable[[tuple[str, ...]], list[Any]]
"""Alembic's steps of one run, from the heads a database stands on when it starts."""


def upgrade_steps(script: ScriptDirectory, target: str, heads: Any) -> list[Any]:
    """Alembic's steps from ``heads`` to ``target``; one step, found at once, for a revision
    upgraded from exactly its parents (Alembic's own planning walks the whole history)."""
    from alembic.runtime.migration import MigrationStep as AlembicStep

    try:
        revision = script.revision_map.get_revision(target)
    except Exception:
        revision = None  # "heads", "branch@head"...: Alembic plans those
    parents = () if revision is None else tuple(revision._normalized_down_revisions)
    if revision is not None and parents and set(_state(heads)) == set(parents):
        return [AlembicStep.upgrade_from_script(script.revision_map, revision)]
    return list(script._upgrade_revs(target, heads))


def scratch_run_sql(
    project: LoadedProject,
    config: Any,
    script: ScriptDirectory,
    start: Sequence[str],
    target: str,
    steps_from: StepsFrom,
) -> MigrationSql:
    """The SQL of a run from ``start`` towards ``target``, run on scratch databases.

    SQLite databases run the steps on a scratch file standing at ``start``; another
    database (a server in a project that also has SQLite) renders offline, as env.py would.
    """
    databases, multidb = project_databases(project, script)
    scratch = scratch_databases()
    sections = []
    steps: list[MigrationStep] = []
    for database in databases:
        run_args = {"engine_name": database.engine_name} if multidb else {}
        steps.extend(migration_step(step.info, run_args) for step in steps_from(tuple(start)))
        if database.dialect.name == "sqlite":
            text = _sqlite_sql(config, script, scratch, database, start, steps_from, multidb)
        else:
            text = _offline_sql(config, script, database, start, target, steps_from, multidb)
        sections.append(f"{SECTION}{database.name}\n{text}" if multidb else text)
    return MigrationSql("".join(sections), tuple(steps), ran_on_scratch=True)


def _sqlite_sql(
    config: Any,
    script: ScriptDirectory,
    scratch: ScratchDatabases,
    database: DatabaseDialect,
    start: Sequence[str],
    steps_from: StepsFrom,
    multidb: bool,
) -> str:
    """Run the steps on a scratch copy standing at ``start``, capturing the statements."""
    working = scratch.file_at(config, script, database, start)
    standing = ", ".join(start) or "base"
    parts = [f"-- run on a scratch copy standing at {standing} ({SCRATCH_REASON})\n\n"]
    with scratch_connection(working) as (connection, capture):
        for step in steps_from(tuple(start)):
            capture.statements = []
            with capture.on():
                run_steps(config, script, connection, [step], database, multidb=multidb)
            connection.commit()
            parts.append(f"-- Running {step.short_log}\n\n{format_statements(capture.statements)}")
        heads = current_heads(connection, database)
    scratch.keep(database.name, heads, working)
    working.unlink(missing_ok=True)
    return "".join(parts)


def _offline_sql(
    config: Any,
    script: ScriptDirectory,
    database: DatabaseDialect,
    start: Sequence[str],
    target: str,
    steps_from: StepsFrom,
    multidb: bool,
) -> str:
    """The offline SQL of one database's run, as env.py's offline mode renders it."""
    buffer = io.StringIO()
    with EnvironmentContext(
        config,
        script,
        fn=lambda rev, context: steps_from(_state(rev)),
        as_sql=True,
        starting_rev=tuple(start) or None,
        destination_rev=target,
    ) as env:
        env.configure(
            dialect_name=database.dialect.name,
            output_buffer=buffer,
            literal_binds=True,
            **database.version_options,
        )
        with env.begin_transaction():
            if multidb:
                env.run_migrations(engine_name=database.engine_name)
            else:
                env.run_migrations()
    return buffer.getvalue()


@reports_failures
def upgrade_sql(
    project: LoadedProject,
    revision: str = "head",
    tag: str | None = None,
    x_arg: XArg = None,
) -> MigrationSql:
    """The SQL an upgrade runs (``<from>:<to>``): offline where Alembic can render it.

    A batch on SQLite cannot be rendered offline; then the upgrade runs on scratch
    databases standing at ``<from>`` and the statements it sends are what is returned.
    """
    config = project.alembic_config(x_arg)
    start, end = _range(revision)
    script = script_directory(config, [*start, end])
    starting_rev, target = _split_range(revision, True)
    _check_target(script, target)

    def steps_from(heads: tuple[str, ...]) -> list[Any]:
        return upgrade_steps(script, target, heads or None)

    return _run_sql(
        project, config, script, ("upgrade", revision, target), starting_rev, steps_from, tag
    )


@reports_failures
def downgrade_sql(
    project: LoadedProject,
    revision: str = "-1",
    tag: str | None = None,
    x_arg: XArg = None,
) -> MigrationSql:
    """The SQL a downgrade runs (``<from>:<to>``; ``-1`` is ``head:-1``), as ``upgrade_sql``.

    A batch on SQLite runs on scratch databases standing at ``<from>``.
    """
    if revision == "-1":
        revision = "head:-1"
    config = project.alembic_config(x_arg)
    start = _range(revision)[0]
    if not start:
        raise WorkbenchError("downgrade with --sql requires <fromrev>:<torev>")
    script = script_directory(config, start)
    starting_rev, target = _split_range(revision, True)
    _check_target(script, target)

    def steps_from(heads: tuple[str, ...]) -> list[Any]:
        return list(script._downgrade_revs(target, heads))

    return _run_sql(
        project, config, script, ("downgrade", revision, target), starting_rev, steps_from, tag
    )


def _run_sql(
    project: LoadedProject,
    config: Any,
    script: ScriptDirectory,
    run: tuple[str, str, str],
    starting_rev: str | tuple[str, ...] | None,
    steps_from: StepsFrom,
    tag: str | None,
) -> MigrationSql:
    """A run's SQL through env.py's offline mode, else (a batch on SQLite) on scratch databases.

    ``run`` is the action, the revision range as given, and its target.
    """
    action, revision, target = run
    key = (script.dir, action, revision)
    if key not in _NEEDS_SCRATCH:
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                steps = run_migration(
                    project,
                    config,
                    script,
                    lambda rev: steps_from(_state(rev)),
                    sql=True,
                    starting_rev=starting_rev,
                    destination=target,
                    tag=tag,
                )
            return MigrationSql(buffer.getvalue(), tuple(steps))
        except Exception as exc:
            if NEEDS_CONNECTION not in str(exc):
                raise
        _NEEDS_SCRATCH.add(key)
    start = _resolved(script, _range(revision)[0])
    return scratch_run_sql(project, config, script, start, target, steps_from)


def _resolved(script: ScriptDirectory, heads: Sequence[str]) -> tuple[str, ...]:
    """Revision ids for names such as ``head`` (a scratch state is keyed by ids)."""
    if not heads:
        return ()
    return tuple(each.revision for each in script.revision_map.get_revisions(tuple(heads)) if each)


_NEEDS_SCRATCH: set[tuple[str, str, str]] = set()
"""Runs offline mode could not render in this process: the next time goes to scratch at once."""


class _LoadedScripts:
    """A folder's ``ScriptDirectory`` with every revision loaded, and its files' stamp."""

    def __init__(
        self,
        script: ScriptDirectory,
        stamp: dict[str, FileIdentity],
        folder_times: tuple[tuple[str, int], ...],
    ) -> None:
        self.script = script
        self.stamp = stamp
        self.folder_times = folder_times


_LOADED: dict[tuple[str, ...], _LoadedScripts] = {}
_GENERATION = [0]
"""Counts the times kept revisions were loaded again: the scratch states built before are stale."""


def script_directory(config: Any, revisions: Sequence[str] = ()) -> ScriptDirectory:
    """The folder's ``ScriptDirectory``, its revisions loaded once per process and kept.

    Alembic imports every revision file to build its map (seconds for thousands); a child
    that serves many requests keeps the map. Each request looks at the version folders'
    modification times (a file added, removed or renamed changes them) and at the files of
    ``revisions`` before it stats every file: a file changed in place with the same header
    gets its module loaded again, anything else loads the whole map again.
    """
    fresh = ScriptDirectory.from_config(config)
    folders = list(fresh._version_locations)
    key = (fresh.dir, *folders)
    loaded = _LOADED.get(key)
    folder_times = _folder_times(folders, fresh.recursive_version_locations)
    if (
        loaded is not None
        and loaded.folder_times == folder_times
        and not any(_file_changed(loaded, revision) for revision in revisions)
    ):
        return loaded.script
    stamp = revision_file_identities(folders, fresh.recursive_version_locations)
    if loaded is not None and set(loaded.stamp) == set(stamp):
        changed = [path for path, identity in stamp.items() if loaded.stamp[path] != identity]
        if _reload_modules(loaded.script, changed):
            loaded.stamp, loaded.folder_times = stamp, folder_times
            _GENERATION[0] += bool(changed)
            return loaded.script
    fresh.revision_map.get_revisions("heads")  # loads every revision now
    _GENERATION[0] += loaded is not None
    _LOADED[key] = _LoadedScripts(fresh, stamp, folder_times)
    return fresh


def _file_changed(loaded: _LoadedScripts, revision: str) -> bool:
    """Whether a kept revision's file changed on disk since it was loaded (one stat)."""
    import os

    try:
        found = loaded.script.revision_map.get_revision(revision)
    except Exception:
        return False  # "base", or a name the map does not know: no file to look at
    if found is None:
        return False
    try:
        info = os.stat(found.path)
    except OSError:
        return True
    return loaded.stamp.get(found.path) != (info.st_mtime_ns, info.st_size, info.st_ino)


def _folder_times(folders: Sequence[str], recursive: bool) -> tuple[tuple[str, int], ...]:
    """Each version folder's modification time (and its subfolders' when recursive)."""
    import os

    times = []
    pending = list(folders)
    while pending:
        folder = pending.pop()
        try:
            times.append((folder, os.stat(folder).st_mtime_ns))
            if recursive:
                pending.extend(
                    entry.path
                    for entry in os.scandir(folder)
                    if entry.is_dir() and entry.name != "__pycache__"
                )
        except OSError:
            times.append((folder, -1))
    return tuple(sorted(times))


_HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


def _reload_modules(script: ScriptDirectory, paths: Sequence[str]) -> bool:
    """Load the changed files' modules again; False when a header changed (reload the map)."""
    import os

    from alembic.util import load_python_file

    by_path = {
        each.path: each
        for each in script.revision_map._revision_map.values()
        if each is not None and hasattr(each, "path")
    }
    for path in paths:
        known = by_path.get(path)
        if known is None:
            return False
        try:
            module = load_python_file(os.path.dirname(path), os.path.basename(path))
        except Exception:
            return False
        if any(
            getattr(module, name, None) != getattr(known.module, name, None)
            for name in _HEADER_NAMES
        ):
            return False
        known.module = module
    return True


def scratch_script_sql(
    project: LoadedProject,
    config: Any,
    script: ScriptDirectory,
    database: DatabaseDialect,
    module: Any,
    upgrade_function: str,
    downgrade_function: str,
) -> tuple[str, str]:
    """The SQL a script's upgrade and downgrade functions send, run on a scratch SQLite file.

    The file stands at the script's ``down_revision``; the upgrade runs first, then the
    downgrade on what it left. The version table is not touched (the script is run alone).
    """
    known = project_databases(project, script)[0]
    database = next((each for each in known if each.name == database.name), database)
    parents = module.down_revision
    if isinstance(parents, str):
        parents = (parents,)
    working = scratch_databases().file_at(config, script, database, tuple(parents or ()))
    try:
        with scratch_connection(working) as (connection, capture):
            upgrade_text = _captured(connection, capture, getattr(module, upgrade_function))
            downgrade = getattr(module, downgrade_function, None)
            downgrade_text = "" if downgrade is None else _captured(connection, capture, downgrade)
    finally:
        working.unlink(missing_ok=True)
    return upgrade_text, downgrade_text


def _captured(connection: Any, capture: StatementCapture, function: Callable[[], Any]) -> str:
    """The statements a script function sends, or a comment saying why it could not run."""
    capture.statements = []
    try:
        with capture.on() as statements:
            run_function(connection, function)
        connection.commit()
    except Exception as exc:
        connection.rollback()
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        done = format_statements(capture.statements)
        return f"{done}-- cannot run {function.__name__}() on a scratch database: {reason}\n"
    return format_statements(statements)
