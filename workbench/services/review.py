"""Reviewing a migration before it runs: the autogenerate preview and the review of a script.

Like ``commands``, each function takes the loaded project first (in the child process, or in
the CLI's), returns data and raises ``WorkbenchError``; nothing here writes into the project.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script, ScriptDirectory

from workbench.core.collector import collector_paused
from workbench.core.findings import Finding, Severity
from workbench.core.preview import (
    DatabasePreview,
    FixRequest,
    Preview,
    describe_operations,
    render_sql,
)
from workbench.errors import WorkbenchError
from workbench.project import LoadedProject, XArg, is_multidb
from workbench.runtime.forking import Aside
from workbench.services.commands import (
    failure_line,
    fresh_configure_args,
    new_revision_values,
    reports_failures,
    scripts_list,
)
from workbench.services.scratch_sql import (
    NEEDS_CONNECTION,
    DatabaseDialect,
    scratch_script_sql,
    script_directory,
)

_ASIDE_SECONDS = 30.0
"""How long a preview waits for the downgrades' SQL from its forked copy before rendering it."""


class _AutogenerateWatch:
    """A ``process_revision_directives`` hook noting what each compared database looks like.

    Alembic calls it once per database, before env.py's own hook, while the connection is
    open: the review context (tables before the migration) and, on SQLite, the tables a batch
    would recreate are read here. The op tree is read from ``directives`` once env.py ended,
    after every hook had its say. A failure here is kept, not raised, so that ``migrate``
    writes its revision whatever becomes of the review.
    """

    def __init__(self, *, with_sql: bool) -> None:
        self.with_sql = with_sql
        self.databases: dict[str, _DatabaseSeen] = {}
        self.directives: list[Any] = []
        self.failure: Exception | None = None
        self.reflected: list[tuple[Any, Any]] = []

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        self.directives = directives
        reflected = {
            (table.schema, table.name): table
            for bind, table in self.reflected
            if bind is context.bind
        }
        try:
            self.databases[context.opts.get("upgrade_token") or "upgrades"] = _DatabaseSeen.read(
                context, directives, reflected, with_sql=self.with_sql
            )
        except Exception as exc:
            self.failure = self.failure or exc

    @contextmanager
    def recording_reflection(self) -> Iterator[None]:
        """Keep each table autogenerate reflects, with the connection it came from.

        On SQLite the offline SQL needs the tables a batch recreates as they stand; the ones
        autogenerate compared are those, so they are kept rather than reflected again.
        """
        from sqlalchemy import Table, event

        def record(inspector: Any, table: Any, column_info: Any) -> None:
            if not self.reflected or self.reflected[-1][1] is not table:
                self.reflected.append((inspector.bind, table))

        if not self.with_sql:
            yield
            return
        event.listen(Table, "column_reflect", record)
        try:
            yield
        finally:
            event.remove(Table, "column_reflect", record)

    def raise_failure(self) -> None:
        """Raise what went wrong while a database was read, if anything did."""
        if self.failure is not None:
            raise self.failure


@dataclass(frozen=True)
class _DatabaseSeen:
    """One database as autogenerate compared it."""

    dialect: Any
    review_context: Any
    tables_before: dict[tuple[str | None, str], Any]
    metadata: Any

    @classmethod
    def read(
        cls,
        context: Any,
        directives: list[Any],
        reflected: Mapping[tuple[str | None, str], Any],
        *,
        with_sql: bool,
    ) -> _DatabaseSeen:
        """Read a database through the migration context autogenerate compared it with.

        ``with_sql`` also gathers what rendering the SQL offline needs: the tables a batch
        recreates, from ``reflected`` (autogenerate's own reflection) where it has them.
        """
        from workbench.core.review import ReviewContext

        batch = bool(context.opts.get("render_as_batch"))
        if context.bind is not None:
            review_context = ReviewContext.from_connection(context.bind, render_as_batch=batch)
        else:
            review_context = ReviewContext(dialect=context.dialect.name, render_as_batch=batch)
        return cls(
            dialect=context.dialect,
            review_context=review_context,
            tables_before=_tables_to_copy(
                context, directives, review_context.existing_tables, reflected
            )
            if with_sql
            else {},
            metadata=context.opts.get("target_metadata"),
        )

    def table_before(self, schema: str | None, name: str) -> Any:
        """The table as the database holds it now, if it was read."""
        return self.tables_before.get((schema, name))

    def table_after(self, schema: str | None, name: str) -> Any:
        """The table as the models define it: its shape once the upgrade ran."""
        metadatas = self.metadata if isinstance(self.metadata, (list, tuple)) else [self.metadata]
        key = f"{schema}.{name}" if schema else name
        return next(
            (md.tables[key] for md in metadatas if md is not None and key in md.tables), None
        )


def _tables_to_copy(
    context: Any,
    directives: list[Any],
    existing: frozenset[str] | None,
    reflected: Mapping[tuple[str | None, str], Any],
) -> dict[tuple[str | None, str], Any]:
    """The tables a batch would recreate as they stand: on SQLite, with a connection only.

    Offline SQL cannot reflect a table, so a batch that recreates one needs it handed over.
    Those autogenerate already reflected are reused; any other is reflected now.
    """
    from alembic.operations.ops import ModifyTableOps
    from sqlalchemy import MetaData

    if context.bind is None or context.dialect.name != "sqlite" or not directives:
        return {}
    tables: dict[tuple[str | None, str], Any] = {}
    missing: dict[str | None, list[str]] = {}
    for operation in directives[0].upgrade_ops_list[-1].ops:
        name, schema = getattr(operation, "table_name", None), getattr(operation, "schema", None)
        key = f"{schema}.{name}" if schema else name
        if isinstance(operation, ModifyTableOps) and (existing is None or key in existing):
            if (schema, name) in reflected:
                tables[(schema, name)] = reflected[(schema, name)]
            else:
                missing.setdefault(schema, []).append(name)
    metadata = MetaData()
    for schema, names in missing.items():
        metadata.reflect(context.bind, schema=schema, only=names)
    return {**{(table.schema, table.name): table for table in metadata.tables.values()}, **tables}


def _database_name(upgrade_token: str) -> str:
    """The database an upgrade token names: "users_upgrades" is "users"; the rest "default"."""
    return upgrade_token.removesuffix("upgrades").removesuffix("_") or "default"


def _upgrade_function(upgrade_token: str) -> str:
    """The script function holding a token's ops: upgrade() or upgrade_<name>() (multidb)."""
    prefix = upgrade_token.removesuffix("upgrades")
    return f"upgrade_{prefix.removesuffix('_')}" if prefix else "upgrade"


def _findings(
    upgrade_ops: Any,
    downgrade_ops: Any,
    context: Any,
    script: str,
    function: str,
    database: str,
) -> tuple[Finding, ...]:
    """The review of one database's operations, acknowledged findings left out, with lines."""
    from workbench.core.review import locate_lines, review_operations, unacknowledged

    found = unacknowledged(review_operations(upgrade_ops, context, downgrade_ops), script)
    lines = locate_lines(found, upgrade_ops, script, function)
    return tuple(
        dataclasses.replace(finding, line=lines.get(finding), database=database)
        for finding in found
    )


def _database_previews(
    watch: _AutogenerateWatch, migration_script: Any, script: str, *, with_sql: bool
) -> tuple[DatabasePreview, ...]:
    """Each compared database's part of a preview: SQL (when asked) and findings.

    The downgrades' SQL is rendered aside, on another core, while the upgrades' SQL and the
    findings are made here: on SQLite both directions recreate tables, which is most of the
    cost of a preview's SQL.
    """
    compared = [
        (upgrade_ops, downgrade_ops, watch.databases[upgrade_ops.upgrade_token])
        for upgrade_ops, downgrade_ops in zip(
            migration_script.upgrade_ops_list, migration_script.downgrade_ops_list, strict=True
        )
        if upgrade_ops.upgrade_token in watch.databases
    ]

    def downgrades_sql() -> list[str]:
        return [
            render_sql(
                downgrade_ops.ops,
                seen.dialect,
                batch=seen.review_context.render_as_batch,
                copy_from=seen.table_after,
            )
            for _, downgrade_ops, seen in compared
        ]

    with Aside(downgrades_sql, timeout=_ASIDE_SECONDS) if with_sql else nullcontext() as aside:
        previews = [
            DatabasePreview(
                name=_database_name(upgrade_ops.upgrade_token),
                dialect=seen.dialect.name,
                upgrade_sql=render_sql(
                    upgrade_ops.ops,
                    seen.dialect,
                    batch=seen.review_context.render_as_batch,
                    copy_from=seen.table_before,
                )
                if with_sql
                else "",
                operations=describe_operations(upgrade_ops),
                findings=_findings(
                    upgrade_ops,
                    downgrade_ops,
                    seen.review_context,
                    script,
                    _upgrade_function(upgrade_ops.upgrade_token),
                    _database_name(upgrade_ops.upgrade_token),
                ),
            )
            for upgrade_ops, downgrade_ops, seen in compared
        ]
        if aside is None:
            return tuple(previews)
        return tuple(
            dataclasses.replace(preview, downgrade_sql=sql)
            for preview, sql in zip(previews, aside.result(), strict=True)
        )


def _apply_fixes(
    migration_script: Any, watch: _AutogenerateWatch, fixes: Sequence[FixRequest]
) -> None:
    """Rewrite the op trees with each requested fix in turn, before the script is rendered.

    Each fix names a finding of the trees the previous fixes left; one that no longer
    matches (autogenerate's output changed since) is an error, not silently skipped.
    """
    from workbench.core.review import apply_rewrite, review_operations

    upgrades = list(migration_script.upgrade_ops_list)
    downgrades = list(migration_script.downgrade_ops_list)
    for fix in fixes:
        index = next(
            (
                number
                for number, upgrade_ops in enumerate(upgrades)
                if _database_name(upgrade_ops.upgrade_token) == fix.database
            ),
            None,
        )
        seen = watch.databases.get(upgrades[index].upgrade_token) if index is not None else None
        if index is None or seen is None:
            raise WorkbenchError(f"no changes for database {fix.database!r} to fix")
        found = review_operations(upgrades[index], seen.review_context, downgrades[index])
        finding = next(
            (
                finding
                for finding in found
                if finding.rule == fix.rule
                and tuple(finding.op_index) == fix.op_index
                and finding.rewrite_available
            ),
            None,
        )
        if finding is None:
            raise WorkbenchError(
                f"the {fix.rule} fix no longer applies: the models or the database changed"
            )
        upgrades[index], downgrades[index] = apply_rewrite(
            upgrades[index], downgrades[index], finding
        )
    migration_script.upgrade_ops = upgrades
    migration_script.downgrade_ops = downgrades


def version_locations(config: AlembicConfig, script: ScriptDirectory) -> list[str]:
    """The folders revision files live in, absolute."""
    locations = config.get_version_locations_list() or [os.path.join(script.dir, "versions")]
    return [os.path.abspath(location) for location in locations]


def _destination(script: ScriptDirectory, migration_script: Any, locations: list[str]) -> str:
    """The folder ``migrate`` would write the revision into, checked as Alembic checks it."""
    if migration_script.version_path is not None:
        folder = os.path.abspath(migration_script.version_path)
        if folder not in locations:
            raise WorkbenchError(
                f"Path {migration_script.version_path} is not represented in current "
                "version locations"
            )
        return folder
    if len(locations) == 1:
        return locations[0]
    for head in script.revision_map.get_revisions(migration_script.head):
        if isinstance(head, Script):
            return os.path.dirname(os.path.abspath(head.path))
    raise WorkbenchError("Multiple version locations present, please specify --version-path")


@contextmanager
def no_bytecode() -> Iterator[None]:
    """Import revision files without writing ``__pycache__`` into the project."""
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = previous


@reports_failures
def preview(
    project: LoadedProject,
    message: str | None = None,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
    *,
    with_sql: bool = True,
    fixes: Sequence[FixRequest] = (),
) -> Preview:
    """Autogenerate what ``migrate`` would write, through env.py and its hooks; write nothing.

    Alembic renders the script into a throwaway version folder added to the project's (so
    the template, the post-write hooks and the parent revision are the real ones) and the
    text is read back; the op tree is then reviewed and its SQL rendered for each database.
    ``fixes`` (findings offering a rewrite, named by database, rule and ``op_index``) are
    applied first, in order. Returns a preview without script when autogenerate finds no
    change.
    """
    from alembic.autogenerate import RevisionContext

    config = project.alembic_config(x_arg, ["autogenerate"])
    template_message = new_revision_values(config, message, rev_id, branch_label)
    script = ScriptDirectory.from_config(config)
    locations = version_locations(config, script)
    watch = _AutogenerateWatch(with_sql=with_sql)
    command_args = {
        "message": template_message,
        "autogenerate": True,
        "sql": False,
        "head": head,
        "splice": splice,
        "branch_label": branch_label,
        "version_path": version_path,
        "rev_id": rev_id,
        "depends_on": None,
    }
    revision_context = RevisionContext(
        config, script, command_args, process_revision_directives=watch
    )

    def retrieve_migrations(rev: Any, context: Any) -> list[Any]:
        revision_context.run_autogenerate(rev, context)
        return []

    with (
        collector_paused(),
        tempfile.TemporaryDirectory(prefix="workbench-preview-") as scratch,
        no_bytecode(),
        fresh_configure_args(project),
    ):
        script.version_locations = [*locations, scratch]
        with (
            EnvironmentContext(
                config,
                script,
                fn=retrieve_migrations,
                template_args=revision_context.template_args,
                revision_context=revision_context,
            ),
            watch.recording_reflection(),
        ):
            script.run_env()
        watch.raise_failure()
        if not revision_context.generated_revisions:
            return Preview(revision=None, message=message, script=None, path=None)
        migration_script = revision_context.generated_revisions[0]
        _apply_fixes(migration_script, watch, fixes)
        folder = _destination(script, migration_script, locations)
        for generated in revision_context.generated_revisions:
            generated.version_path = scratch
        written = next(revision_context.generate_scripts())
        if written is None:
            raise WorkbenchError("the revision template rendered no revision")
        text = Path(written.path).read_text(encoding=script.output_encoding)
    return Preview(
        revision=migration_script.rev_id,
        message=message,
        script=text,
        path=os.path.join(folder, os.path.basename(written.path)),
        databases=_database_previews(watch, migration_script, text, with_sql=with_sql),
    )


@reports_failures
def migrate_reviewed(
    project: LoadedProject,
    message: str | None = None,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> tuple[list[Script], Preview | None]:
    """``migrate``, and the review of the script it wrote (None when it wrote none).

    The review reads the op tree autogenerate built for the file, so nothing is compared
    twice; a review that fails says so in a finding rather than failing the written migration.
    """
    config = project.alembic_config(x_arg, ["autogenerate"])
    template_message = new_revision_values(config, message, rev_id, branch_label)
    watch = _AutogenerateWatch(with_sql=False)
    with collector_paused(), fresh_configure_args(project):
        result = alembic_command.revision(
            config,
            template_message,
            autogenerate=True,
            sql=sql,
            head=head,
            splice=splice,
            branch_label=branch_label,
            version_path=version_path,
            rev_id=rev_id,
            process_revision_directives=watch,
        )
    scripts = scripts_list(result)
    if not scripts or not watch.directives:
        return scripts, None
    written = scripts[0]
    text = None
    try:
        text = Path(written.path).read_text(encoding="utf-8")
        watch.raise_failure()
        databases = _database_previews(watch, watch.directives[0], text, with_sql=False)
    except Exception as exc:
        failure = Finding(
            rule="review-failed",
            severity=Severity.INFO,
            message=f"the review could not run: {failure_line(project, exc)}",
        )
        databases = (DatabasePreview(name="default", dialect="", findings=(failure,)),)
    review = Preview(
        revision=written.revision,
        message=message,
        script=text,
        path=os.path.abspath(written.path),
        databases=databases,
    )
    return scripts, review


def _record(
    project: LoadedProject, module: Any, function: str, dialect: str, *, required: bool
) -> Any:
    """The ops a script function issues, recorded offline; None when it is missing.

    A required function (the upgrade) that cannot be recorded is a one-line error; another
    (the downgrade) is then None, as the upgrade is what the rules judge.
    """
    from workbench.core.review import record_operations

    run = getattr(module, function, None)
    if run is None:
        return None
    try:
        return record_operations(run, dialect)
    except Exception as exc:
        if not required:
            return None
        reason = failure_line(project, exc)
        raise WorkbenchError(f"cannot record {function}() offline: {reason}") from exc


def _review_module(
    project: LoadedProject, config: AlembicConfig, module: Any, text: str, *, with_sql: bool
) -> tuple[DatabasePreview, ...]:
    """Each database's review of a loaded revision script, its ops recorded offline."""
    from workbench.core.review import ReviewContext

    multidb = is_multidb(ScriptDirectory.from_config(config).dir)
    databases = []
    for name, dialect in project.dialects(multidb):
        suffix = f"_{'' if name == 'default' else name}" if multidb else ""
        upgrade_ops = _record(project, module, f"upgrade{suffix}", dialect.name, required=True)
        if upgrade_ops is None:
            continue
        downgrade_ops = _record(project, module, f"downgrade{suffix}", dialect.name, required=False)
        upgrade_sql = downgrade_sql = ""
        if with_sql:
            upgrade_sql = render_sql(upgrade_ops.ops, dialect, batch=False)
            if downgrade_ops is not None:
                downgrade_sql = render_sql(downgrade_ops.ops, dialect, batch=False)
            if dialect.name == "sqlite" and NEEDS_CONNECTION in upgrade_sql + downgrade_sql:
                upgrade_sql, downgrade_sql = scratch_script_sql(
                    project,
                    config,
                    script_directory(config),
                    DatabaseDialect(name, dialect),
                    module,
                    f"upgrade{suffix}",
                    f"downgrade{suffix}",
                )
        databases.append(
            DatabasePreview(
                name=name,
                dialect=dialect.name,
                upgrade_sql=upgrade_sql,
                downgrade_sql=downgrade_sql,
                operations=describe_operations(upgrade_ops),
                findings=_findings(
                    upgrade_ops,
                    downgrade_ops,
                    ReviewContext(dialect=dialect.name),
                    text,
                    f"upgrade{suffix}",
                    name,
                ),
            )
        )
    return tuple(databases)


@reports_failures
def review_revision(
    project: LoadedProject,
    revision: str = "head",
    x_arg: XArg = None,
    *,
    with_sql: bool = True,
) -> Preview:
    """Review an existing revision file with the rules ``migrate``'s output gets.

    Its ``upgrade()`` (``upgrade_<bind>()`` in a multidb project) is run against a recorder,
    offline, for each database's dialect; no database is connected to. What stood in the
    database before the revision is unknown, so every table it does not create counts as
    existing.
    """
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    with no_bytecode():
        found = script.get_revision(revision)
    if found is None:
        raise WorkbenchError(f"No revision file indicated by symbol '{revision}'")
    text = Path(found.path).read_text(encoding=script.output_encoding)
    return Preview(
        revision=found.revision,
        message=found.doc,
        script=text,
        path=os.path.abspath(found.path),
        databases=_review_module(project, config, found.module, text, with_sql=with_sql),
    )


@reports_failures
def review_script(
    project: LoadedProject,
    script: str = "",
    path: str | None = None,
    x_arg: XArg = None,
    *,
    with_sql: bool = True,
) -> Preview:
    """Review a revision script's text (one being edited) as ``review_revision`` does a file.

    ``path`` is where the script is or would be written; it is only reported back.
    """
    config = project.alembic_config(x_arg)
    module = types.ModuleType("workbench_reviewed_script")
    module.__file__ = path or "<script>"
    exec(compile(script, module.__file__, "exec"), module.__dict__)
    docstring = (module.__doc__ or "").strip()
    return Preview(
        revision=getattr(module, "revision", None),
        message=docstring.splitlines()[0] if docstring else None,
        script=script,
        path=path,
        databases=_review_module(project, config, module, script, with_sql=with_sql),
    )
