"""Squash: collapse REVISION and everything below it into one baseline, proven on scratch databases.

Runs inside a Flask app context. The plan is read from the files, the graph and every known
database's version table; the baseline is rendered by Alembic's autogenerate from the schema a
scratch database has after the old revisions ran (per database engine, on its dialect); the
proof runs the baseline on a second scratch database and compares both schemas, reflection
plus the dialect's catalog. The real databases are never migrated.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from workbench.core import squash as squashing
from workbench.core.databases import DEFAULT_TIMEOUT, database_status, sync_url
from workbench.core.files import FileChangedError, OpenedFile, open_file, save_if_unchanged
from workbench.core.gitinfo import uncommitted_changes
from workbench.core.identifiers import docstring_text
from workbench.core.squash import (
    Proof,
    Refusal,
    SchemaDifference,
    SchemaSnapshot,
    SquashOutcome,
    SquashPlan,
)
from workbench.core.verify import ScratchDatabases
from workbench.errors import WorkbenchError
from workbench.project import LoadedProject, XArg, is_multidb
from workbench.services.commands import reports_failures
from workbench.services.review import no_bytecode
from workbench.services.verify import _move

_SERIAL_DEFAULT = re.compile(r"^nextval\('(?:[\w\"]+\.)?\"?([\w$]+)\"?'::regclass\)$")
_SPACES = re.compile(r"\s+")
_IGNORED_CHANGES = re.compile(r"(^|/)__pycache__/|\.py[co]$")


@dataclass(frozen=True)
class PreparedSquash:
    """A plan with the squashed files as they were read (the write checks them unchanged)."""

    plan: SquashPlan
    opened: Mapping[str, OpenedFile]
    version_table: str = "alembic_version"


@dataclass(frozen=True)
class Baseline:
    """The baseline's source and the proof that it builds what the old revisions built."""

    text: str
    proof: Proof


@reports_failures
def prepare(
    project: LoadedProject, revision: str, timeout: float = DEFAULT_TIMEOUT
) -> PreparedSquash:
    """Plan the squash of ``revision``: files, positions, refusals, what cannot be carried."""
    described = project.describe()
    graph = described.load_graph()
    statuses = database_status(described.targets, graph, timeout)
    plan = squashing.plan_squash(graph, revision, statuses)
    opened: dict[str, OpenedFile] = {}
    uncarried: list[squashing.Uncarried] = []
    for item in plan.squashed:
        path = plan.paths[item]
        opened[path] = open_file(path)
        shown = os.path.relpath(path)
        uncarried += squashing.find_uncarried(item, shown, opened[path].text)
    plan = plan.with_uncarried(uncarried)
    refusals: list[Refusal] = []
    notes: list[str] = []
    for folder in described.version_locations if plan.squashed else ():
        changes = uncommitted_changes(folder)
        if changes is None:
            notes.append(
                f"{os.path.relpath(folder)} is not in a git work tree: the removed files "
                "are kept nowhere"
            )
            continue
        changes = [path for path in changes if not _IGNORED_CHANGES.search(path)]
        if changes:
            shown = ", ".join(changes[:5]) + (
                f" and {len(changes) - 5} more" if changes[5:] else ""
            )
            refusals.append(
                Refusal(
                    f"the versions folder {os.path.relpath(folder)} has uncommitted changes "
                    f"({shown}): commit or stash them first; --yes does not skip this"
                )
            )
    version_table = next((target.version_table for target in described.targets), "alembic_version")
    plan = plan.with_refusals(refusals).with_notes(notes)
    return PreparedSquash(plan, opened, version_table)


@reports_failures
def build_baseline(
    project: LoadedProject,
    prepared: PreparedSquash,
    message: str | None = None,
    x_arg: XArg = None,
) -> Baseline:
    """Render the baseline from a scratch database upgraded to REVISION, and prove it.

    One scratch set is upgraded through the old revisions (env.py, as ``upgrade`` runs);
    each of its databases is reflected and rendered by Alembic's autogenerate against an
    empty second scratch set, on that database's dialect. The baseline then runs on the
    second set, both are compared, and its downgrade must leave that set empty.
    """
    plan = prepared.plan
    if plan.refused:
        raise WorkbenchError("the squash is refused: " + plan.refusals[0].describe())
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    multidb = is_multidb(script.dir)
    version_table = prepared.version_table
    with (
        no_bytecode(),
        tempfile.TemporaryDirectory(prefix="workbench-squash-") as folder,
        ScratchDatabases(folder) as scratch,
        project.on_scratch(scratch, multidb) as fresh,
        _own_engines(scratch) as engines_of,
    ):
        names = [info.name for info in sorted(fresh(), key=lambda info: info.name != "default")]
        old_engines = engines_of(names)
        try:
            _move(project, config, script, "upgrade", plan.revision)
        except Exception as exc:
            raise WorkbenchError(
                f"upgrading a scratch database to {plan.revision} failed: {exc}"
            ) from exc
        fresh()
        new_engines = engines_of(names)
        rendered = {
            name: _render_database(old_engines[name], new_engines[name], version_table)
            for name in old_engines
        }
        text = _baseline_text(config, script, plan, message, rendered, multidb)
        proof = _prove(text, plan, old_engines, new_engines, version_table, multidb)
    return Baseline(text, proof)


def _synchronous_off(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


@contextmanager
def _own_engines(
    scratch: ScratchDatabases,
) -> Iterator[Callable[[list[str]], dict[str, Any]]]:
    """Engines of this module's own on the scratch databases ``scratch`` makes next.

    Each call of the yielded function returns, by database name, a synchronous engine on the
    newest scratch database made for that name (SQLite without fsync); all are disposed at
    the end.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    made: dict[str, Any] = {}
    engines: list[Any] = []
    create = scratch.create

    def recording(real_url: Any, name: str) -> Any:
        url = create(real_url, name)
        made[name] = url
        return url

    scratch.create = recording  # type: ignore[method-assign]

    def engines_of(names: list[str]) -> dict[str, Any]:
        found = {}
        for name in names:
            url = sync_url(made[name])
            if url is None:
                raise WorkbenchError(
                    f"cannot read database {name} for the baseline: no synchronous driver "
                    f"installed for {made[name].get_backend_name()} (install psycopg or PyMySQL)"
                )
            engine = create_engine(url, poolclass=NullPool)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _synchronous_off)
            engines.append(engine)
            found[name] = engine
        return found

    try:
        yield engines_of
    finally:
        scratch.create = create  # type: ignore[method-assign]
        for engine in engines:
            engine.dispose()


@reports_failures
def write_squash(prepared: PreparedSquash, baseline: Baseline) -> SquashOutcome:
    """Write the baseline over REVISION's file and remove the other squashed files.

    Every squashed file must still be as it was read; otherwise nothing is written.
    """
    plan = prepared.plan
    if plan.refused or not baseline.proof.passed:
        raise WorkbenchError("the squash is refused or unproven; nothing was written")
    for path, opened in prepared.opened.items():
        try:
            current = open_file(path)
        except FileNotFoundError as exc:
            raise WorkbenchError(f"{path} was deleted since the plan; nothing written") from exc
        if current.text != opened.text:
            raise WorkbenchError(f"{path} changed on disk since the plan; nothing was written")
    try:
        save_if_unchanged(prepared.opened[plan.baseline_path], baseline.text)
    except FileChangedError as exc:
        raise WorkbenchError(str(exc)) from exc
    for path in plan.removed_paths:
        os.remove(path)
    return SquashOutcome(plan.revision, plan.baseline_path, plan.removed_paths)


@reports_failures
def squash_report(
    project: LoadedProject,
    revision: str,
    message: str | None = None,
    write: bool = False,
    x_arg: XArg = None,
) -> squashing.SquashReport:
    """Plan and prove the squash (and write it, when asked and the proof passes), as a report."""
    prepared = prepare(project, revision)
    plan = prepared.plan
    lines = tuple(squashing.plan_lines(plan)) if plan.squashed else ()
    if plan.refused:
        refusals = tuple(refusal.describe() for refusal in plan.refusals)
        return squashing.SquashReport(plan.revision, lines, refusals)
    baseline = build_baseline(project, prepared, message, x_arg)
    written = None
    if write and baseline.proof.passed:
        outcome = write_squash(prepared, baseline)
        written = (
            f"Wrote the baseline {outcome.revision} to {os.path.relpath(outcome.baseline_path)}; "
            f"removed {len(outcome.removed)} file(s)."
        )
    proof = tuple(squashing.proof_lines(baseline.proof))
    return squashing.SquashReport(
        plan.revision, lines, proof=proof, passed=baseline.proof.passed, written=written
    )


@dataclass
class _Rendered:
    """One database's baseline functions, as lines of Python, and what they import."""

    upgrade: list[str]
    downgrade: list[str]
    imports: set[str]


def _render_database(old_engine: Any, new_engine: Any, version_table: str) -> _Rendered:
    """Autogenerate the ops that create the old database's schema on the empty new one."""
    from alembic.autogenerate import produce_migrations, render_python_code
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData, event

    engine = getattr(old_engine, "sync_engine", old_engine)
    target = getattr(new_engine, "sync_engine", new_engine)
    dialect = engine.dialect.name
    metadata = MetaData()
    serial_sequences: set[str] = set()

    def column_reflect(inspector: Any, table: Any, column: dict[str, Any]) -> None:
        default = column.get("default")
        match = _SERIAL_DEFAULT.match(default or "") if dialect == "postgresql" else None
        if match and match.group(1) == f"{table.name}_{column['name']}_seq":
            serial_sequences.add(match.group(1))
            column["default"] = None

    event.listen(metadata, "column_reflect", column_reflect)
    prologue: list[str] = []
    epilogue: list[str] = []
    after_tables: list[str] = []
    with engine.connect() as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metadata.reflect(connection, only=lambda name, _: name != version_table)
        if dialect == "postgresql":
            enums = _pg_enums(connection)
            for table in metadata.tables.values():
                for column in table.columns:
                    if getattr(column.type, "name", None) in enums and hasattr(
                        column.type, "create_type"
                    ):
                        column.type.create_type = False
            for name, labels in enums.items():
                values = ", ".join(repr(label) for label in labels)
                prologue.append(f"postgresql.ENUM({values}, name={name!r}).create(op.get_bind())")
                epilogue.append(f"postgresql.ENUM(name={name!r}).drop(op.get_bind())")
            for name, options in _pg_sequences(connection, serial_sequences).items():
                prologue.append(
                    f"op.execute(sa.schema.CreateSequence(sa.Sequence({name!r}{options})))"
                )
                epilogue.insert(0, f"op.execute(sa.schema.DropSequence(sa.Sequence({name!r})))")
        if dialect in ("mysql", "mariadb"):
            _drop_foreign_key_indexes(metadata)
        if dialect == "sqlite":
            known = {index.name for table in metadata.tables.values() for index in table.indexes}
            for name, sql in _sqlite_indexes(connection):
                if name not in known:
                    after_tables.append(f"op.execute({sql!r})")
    with target.connect() as connection:
        context = MigrationContext.configure(connection, opts={"target_metadata": metadata})
        migration = produce_migrations(context, metadata)
        upgrade = _lines(render_python_code(migration.upgrade_ops, migration_context=context))
        downgrade = _lines(render_python_code(migration.downgrade_ops, migration_context=context))
    if prologue or after_tables:
        upgrade = [*prologue, *_without_pass(upgrade), *after_tables]
    if epilogue:
        downgrade = [*_without_pass(downgrade), *epilogue]
    body = "\n".join(upgrade + downgrade)
    imports = {
        f"from sqlalchemy.dialects import {module}"
        for module in ("postgresql", "mysql", "sqlite")
        if f"{module}." in body
    }
    return _Rendered(upgrade, downgrade, imports)


def _lines(rendered: str) -> list[str]:
    """Alembic's rendered body (indented but for its first line) as unindented lines."""
    return [line.removeprefix("    ") for line in ("    " + rendered).splitlines()]


def _without_pass(lines: list[str]) -> list[str]:
    return [line for line in lines if line.strip() != "pass"]


def _pg_enums(connection: Any) -> dict[str, list[str]]:
    """The enum types of the current schema, with their labels in order."""
    rows = connection.exec_driver_sql(
        "SELECT t.typname, e.enumlabel FROM pg_type t"
        " JOIN pg_enum e ON e.enumtypid = t.oid"
        " JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder"
    )
    enums: dict[str, list[str]] = {}
    for name, label in rows:
        enums.setdefault(name, []).append(label)
    return enums


def _pg_sequences(connection: Any, skip: set[str]) -> dict[str, str]:
    """Standalone sequences (not a serial's or identity's) and their options, rendered."""
    rows = connection.exec_driver_sql(
        "SELECT s.sequencename, s.start_value, s.increment_by, s.min_value, s.max_value, s.cycle"
        " FROM pg_sequences s JOIN pg_class c ON c.relname = s.sequencename"
        " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname"
        " WHERE s.schemaname = current_schema() AND NOT EXISTS ("
        "SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))"
    )
    found = {}
    for name, start, increment, minimum, maximum, cycle in rows:
        if name in skip:
            continue
        found[name] = (
            f", start={start}, increment={increment}, minvalue={minimum}, maxvalue={maximum}"
            f", cycle={bool(cycle)}"
        )
    return found


def _drop_foreign_key_indexes(metadata: Any) -> None:
    """MySQL makes an index for each foreign key; rendering it too would create it twice."""
    for table in metadata.tables.values():
        keys = {
            constraint.name: [column.name for column in constraint.columns]
            for constraint in table.foreign_key_constraints
        }
        for index in list(table.indexes):
            if index.name in keys and [column.name for column in index.columns] == keys[index.name]:
                table.indexes.discard(index)


def _sqlite_indexes(connection: Any) -> list[tuple[str, str]]:
    """Every explicitly created SQLite index with its CREATE statement."""
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
    )
    return [(name, sql) for name, sql in rows]


def _baseline_text(
    config: AlembicConfig,
    script: ScriptDirectory,
    plan: SquashPlan,
    message: str | None,
    rendered: Mapping[str, _Rendered],
    multidb: bool,
) -> str:
    """The baseline file, rendered through the project's own ``script.py.mako``."""
    from alembic.util import format_as_comma
    from mako.template import Template

    count = len(plan.squashed)
    message = message or f"baseline: {count} revision(s) squashed up to {plan.revision}"
    comment = squashing.uncarried_comment(plan.not_carried)
    values: dict[str, Any] = {}
    for number, (name, body) in enumerate(rendered.items()):
        upgrade = [*body.upgrade, *(comment if number == 0 else [])]
        token = "" if name == "default" else name
        values[f"{token}_upgrades"] = "\n    ".join(upgrade)
        values[f"{token}_downgrades"] = "\n    ".join(body.downgrade)
    if not multidb:
        values["upgrades"] = values.pop("_upgrades", "pass")
        values["downgrades"] = values.pop("_downgrades", "pass")
    imports = sorted({line for body in rendered.values() for line in body.imports})
    template = Template(filename=os.path.join(script.dir, "script.py.mako"))
    return template.render_unicode(
        up_revision=plan.revision,
        down_revision=None,
        branch_labels=tuple(plan.branch_labels) or None,
        depends_on=None,
        create_date=datetime.datetime.now(),
        comma=format_as_comma,
        message=docstring_text(message, script.output_encoding),
        imports="\n".join(imports),
        config=config,
        **values,
    )


def _prove(
    text: str,
    plan: SquashPlan,
    old_engines: Mapping[str, Any],
    new_engines: Mapping[str, Any],
    version_table: str,
    multidb: bool,
) -> Proof:
    """Run the baseline on the empty databases, compare them with the old path's, downgrade."""
    namespace: dict[str, Any] = {"__name__": "workbench_squash_baseline"}
    exec(compile(text, plan.baseline_path, "exec"), namespace)
    differences: list[SchemaDifference] = []
    compared = 0
    for name in old_engines:
        token = "" if name == "default" else name
        upgrade = namespace[f"upgrade_{token}"] if multidb else namespace["upgrade"]
        downgrade = namespace[f"downgrade_{token}"] if multidb else namespace["downgrade"]
        try:
            _run_ops(new_engines[name], upgrade)
        except Exception as exc:
            return Proof(tuple(old_engines), compared, error=f"[{name}] the baseline fails: {exc}")
        old = schema_snapshot(old_engines[name], version_table)
        new = schema_snapshot(new_engines[name], version_table)
        compared += len(old)
        differences += squashing.compare_schemas(name, old, new)
        try:
            _run_ops(new_engines[name], downgrade)
        except Exception as exc:
            return Proof(
                tuple(old_engines),
                compared,
                error=f"[{name}] the baseline's downgrade fails: {exc}",
            )
        left = schema_snapshot(new_engines[name], version_table)
        differences += squashing.left_after_downgrade(name, left)
    return squashing.judge(differences, plan.uncarried, tuple(old_engines), compared)


def _run_ops(engine: Any, function: Callable[[], None]) -> None:
    """Run a baseline function on a database, in one transaction, with ``op`` bound to it."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    engine = getattr(engine, "sync_engine", engine)
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        with Operations.context(context):
            function()


def schema_snapshot(engine: Any, version_table: str = "alembic_version") -> SchemaSnapshot:
    """A database's schema as comparable text: reflection plus the dialect's catalog."""
    from sqlalchemy import inspect

    engine = getattr(engine, "sync_engine", engine)
    snapshot: dict[tuple[str, str], str] = {}
    with engine.connect() as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dialect = connection.dialect
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            if table == version_table:
                continue
            snapshot[("table", table)] = table
            for column in inspector.get_columns(table):
                kind = column["type"].compile(dialect=dialect)
                default = _normal(str(column.get("default")))
                null = "NULL" if column["nullable"] else "NOT NULL"
                snapshot[("column", f"{table}.{column['name']}")] = (
                    f"{kind} {null} default={default}"
                )
            primary = inspector.get_pk_constraint(table)
            if primary.get("constrained_columns"):
                snapshot[("primary key", table)] = (
                    f"{primary.get('name')} ({', '.join(primary['constrained_columns'])})"
                )
            for key in inspector.get_foreign_keys(table):
                name = key.get("name") or ",".join(key["constrained_columns"])
                snapshot[("foreign key", f"{table}.{name}")] = (
                    f"({', '.join(key['constrained_columns'])}) -> {key['referred_table']}"
                    f"({', '.join(key['referred_columns'])})"
                    f" {sorted(key.get('options', {}).items())}"
                )
            for unique in inspector.get_unique_constraints(table):
                name = unique.get("name") or ",".join(unique["column_names"])
                snapshot[("unique", f"{table}.{name}")] = ", ".join(unique["column_names"])
            for check in _checks(inspector, table):
                name = check.get("name") or _normal(check["sqltext"])
                snapshot[("check", f"{table}.{name}")] = _normal(check["sqltext"])
            for index in inspector.get_indexes(table):
                columns = [
                    column if column is not None else expression
                    for column, expression in zip(
                        index["column_names"],
                        index.get("expressions") or index["column_names"],
                        strict=False,
                    )
                ]
                options = sorted(
                    (key, str(value)) for key, value in (index.get("dialect_options") or {}).items()
                )
                unique = "UNIQUE " if index.get("unique") else ""
                snapshot[("index", f"{table}.{index['name']}")] = (
                    f"{unique}({', '.join(str(column) for column in columns)}) {options}"
                )
        snapshot.update(_catalog(connection, dialect.name, version_table))
    return snapshot


def _checks(inspector: Any, table: str) -> list[dict[str, Any]]:
    try:
        return list(inspector.get_check_constraints(table))
    except NotImplementedError:
        return []


def _normal(text: str) -> str:
    """SQL text compared without layout or quoting differences."""
    return _SPACES.sub(" ", text.replace('"', "").replace("`", "")).strip()


def _catalog(connection: Any, dialect: str, version_table: str) -> dict[tuple[str, str], str]:
    """What reflection misses, read from the dialect's catalog."""
    from sqlalchemy import text

    queries: list[tuple[str, str]] = []
    if dialect == "sqlite":
        queries = [
            (
                "",
                "SELECT CASE type WHEN 'index' THEN 'index sql' ELSE type END, name, sql"
                " FROM sqlite_master"
                " WHERE type IN ('index', 'view', 'trigger') AND sql IS NOT NULL"
                " AND tbl_name <> :version_table",
            )
        ]
    elif dialect == "postgresql":
        queries = [
            (
                "index sql",
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename <> :version_table",
            ),
            (
                "view",
                "SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema()",
            ),
            (
                "materialized view",
                "SELECT matviewname, definition FROM pg_matviews"
                " WHERE schemaname = current_schema()",
            ),
            (
                "enum",
                "SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)"
                " FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid"
                " JOIN pg_namespace n ON n.oid = t.typnamespace"
                " WHERE n.nspname = current_schema() GROUP BY t.typname",
            ),
            (
                "sequence",
                "SELECT sequencename, concat_ws(' ', data_type, start_value,"
                " increment_by, min_value, max_value, cycle) FROM pg_sequences"
                " WHERE schemaname = current_schema()",
            ),
            (
                "function",
                "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid)"
                " || ')', pg_get_functiondef(p.oid) FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p')"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid"
                " AND d.deptype = 'e')",
            ),
            (
                "trigger",
                "SELECT t.tgname || ' on ' || c.relname, pg_get_triggerdef(t.oid)"
                " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
                " AND c.relname <> :version_table",
            ),
        ]
    elif dialect in ("mysql", "mariadb"):
        queries = [
            (
                "view",
                "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS"
                " WHERE TABLE_SCHEMA = DATABASE()",
            ),
            (
                "function",
                "SELECT ROUTINE_NAME, CONCAT(ROUTINE_TYPE, ' ', ROUTINE_DEFINITION)"
                " FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
            ),
            (
                "trigger",
                "SELECT CONCAT(TRIGGER_NAME, ' on ', EVENT_OBJECT_TABLE),"
                " CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ', ACTION_STATEMENT)"
                " FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
            ),
        ]
    found: dict[tuple[str, str], str] = {}
    database = connection.engine.url.database or ""
    for fixed_kind, query in queries:
        for row in connection.execute(text(query), {"version_table": version_table}):
            kind, name, definition = (fixed_kind, *row) if fixed_kind else row
            found[(kind, str(name))] = _normal(str(definition)).replace(f"{database}.", "")
    return found
