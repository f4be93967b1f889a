"""The use cases behind Flask-Migrate's verbs, over a loaded migration project.

Each takes the project first (``workbench.project.LoadedProject``), prints what Alembic's
command prints, returns its result as data and raises ``WorkbenchError`` on failure (never
exits), so the CLI, the workbench's child process and Flask-Migrate's module functions
(``workbench.extension``) can all call it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from alembic import command as alembic_command
from alembic import util as alembic_util
from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script, ScriptDirectory

from workbench.core.editor import EditorError, open_in_editor
from workbench.core.identifiers import UnsafeValue, check_new_revision, docstring_text
from workbench.core.locks import MigrationSafety, resolve_safety
from workbench.core.secrets import mask_passwords
from workbench.errors import WorkbenchError, describe_failure
from workbench.project import LoadedProject, XArg
from workbench.project.config import Config
from workbench.services.offline_folder import env_py_working_folder

P = ParamSpec("P")
R = TypeVar("R")

_RELATIVE_TARGET = re.compile(r"(^|@)[+-]\d+$")


@dataclass(frozen=True)
class MigrationStep:
    """One revision applied, reverted or stamped on one database."""

    revision: str | None
    kind: Literal["upgrade", "downgrade", "stamp"]
    source_revisions: tuple[str, ...]
    destination_revisions: tuple[str, ...]
    database: str | None


@dataclass(frozen=True)
class StepProgress:
    """A step about to run (``done`` false) or just applied, numbered within its database's run.

    Reported live to an ``on_step`` callback so that a long upgrade can show "3 of 12".
    """

    step: MigrationStep
    number: int
    total: int
    done: bool


StepCallback = Callable[[StepProgress], None]


def reports_failures(function: Callable[P, R]) -> Callable[P, R]:
    """Turn any failure inside a command into a ``WorkbenchError`` with a one-line message.

    The command's project, its first argument, tells which passwords no message may show.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        project = args[0] if args else kwargs.get("project")
        if not isinstance(project, LoadedProject):
            project = None
        with warnings.catch_warnings(record=True) as warned:
            try:
                result = function(*args, **kwargs)
            except WorkbenchError as exc:
                _warn_again(warned)
                passwords = project.passwords() if project is not None else []
                raise WorkbenchError(mask_passwords(str(exc), passwords)) from exc
            except BrokenPipeError:
                raise
            except Exception as exc:
                broken = broken_history_line(project) if _raised_loading_revisions(exc) else None
                if broken is None:  # else the line says what Alembic's warnings said
                    _warn_again(warned)
                raise WorkbenchError(broken or failure_line(project, exc)) from exc
        _warn_again(warned)
        return result

    return wrapper


def _warn_again(warned: Sequence[warnings.WarningMessage]) -> None:
    """Show the warnings a command gave, as they would have shown uncaught."""
    for warning in warned:
        warnings.showwarning(
            warning.message, warning.category, warning.filename, warning.lineno, warning.file
        )


def _raised_loading_revisions(exc: BaseException) -> bool:
    """True when Alembic failed while reading the revision files (its ``alembic.script``)."""
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__", "").startswith("alembic.script"):
            return True
        trace = trace.tb_next
    return False


def broken_history_line(project: LoadedProject | None) -> str | None:
    """What in the files keeps Alembic from loading the history, when the scan finds it.

    Alembic's own words for it are a bare ``KeyError: 'deadbeef'`` after a warning; the scan
    names the file and what is wrong with it. None when the files look loadable.
    """
    from workbench.core.verdict import refusals, summary

    if project is None:
        return None
    try:
        broken = refusals(project.describe().load_graph().diagnostics)
    except Exception:
        return None
    if not broken:
        return None
    first = broken[0]
    line = f"the revision history is broken, Alembic cannot load it ({summary(broken)}): "
    line += f"{first.path}: {first.message}" if first.path else first.message
    return mask_passwords(line, project.passwords())


def failure_line(project: LoadedProject | None, exc: BaseException) -> str:
    """A failure in one line, located in the migrations folder, with no password in it."""
    if project is None:
        return mask_passwords(describe_failure(exc))
    return mask_passwords(describe_failure(exc, project.directory), project.passwords())


def migration_step(info: Any, run_args: dict[str, Any]) -> MigrationStep:
    """Our record of an Alembic ``MigrationInfo`` run with env.py's ``run_migrations`` args."""
    if info.is_stamp:
        kind: Literal["upgrade", "downgrade", "stamp"] = "stamp"
    else:
        kind = "upgrade" if info.is_upgrade else "downgrade"
    return MigrationStep(
        revision=info.up_revision_id,
        kind=kind,
        source_revisions=tuple(info.source_revision_ids),
        destination_revisions=tuple(info.destination_revision_ids),
        database=run_args.get("engine_name"),
    )


@contextmanager
def fresh_configure_args(
    project: LoadedProject, on_applied: Callable[[MigrationStep], None] | None = None
) -> Iterator[list[MigrationStep]]:
    """Run one command's env.py with its own configure args, recording each step applied."""
    steps: list[MigrationStep] = []

    def record_step(ctx: Any, step: Any, heads: set[str], run_args: dict[str, Any]) -> None:
        steps.append(migration_step(step, run_args))
        if on_applied is not None:
            on_applied(steps[-1])

    with project.version_apply_hook(record_step):
        yield steps


def _check_target(script: ScriptDirectory, target: str | Sequence[str]) -> None:
    """Resolve a revision argument before env.py runs, so a bad one fails with nothing done."""
    targets = [target] if isinstance(target, str) else list(target)
    for name in targets:
        if not name or name in ("base", "heads") or _RELATIVE_TARGET.search(name):
            continue
        script.get_revisions(name)


def scripts_list(result: Script | Sequence[Script | None] | None) -> list[Script]:
    """Alembic returns one script, a list or None; callers get a list."""
    if result is None:
        return []
    if isinstance(result, Script):
        return [result]
    return [script for script in result if script is not None]


def _current_revisions(config: AlembicConfig, script: ScriptDirectory) -> tuple[str, ...]:
    """The revisions the project's databases stand on, read through env.py, changing nothing."""
    return tuple(revision for run in _currents_by_run(config, script) for revision in run)


def _currents_by_run(config: AlembicConfig, script: ScriptDirectory) -> list[tuple[str, ...]]:
    """What each database env.py runs on stands on, in the order env.py runs them."""
    runs: list[tuple[str, ...]] = []

    def collect(rev: Any, context: Any) -> list[Any]:
        runs.append(tuple(rev or ()))
        return []

    with EnvironmentContext(config, script, fn=collect, dont_mutate=True):
        script.run_env()
    return runs


def new_revision_values(
    config: AlembicConfig, message: str | None, rev_id: str | None, branch_label: str | None
) -> str | None:
    """Check the id and label typed for a new revision; return the message as templates need it.

    Raises ``WorkbenchError`` (nothing written) for an unsafe id or label, an id the history
    already has or a label it already uses. The message comes back escaped for the docstring
    the template puts it in, so any message gives a file Alembic loads and reads back as typed.
    """
    try:
        check_new_revision(rev_id, branch_label)
    except UnsafeValue as exc:
        raise WorkbenchError(str(exc)) from exc
    script = ScriptDirectory.from_config(config)
    if rev_id is not None or branch_label is not None:
        ids: dict[str, str] = {}
        labels: dict[str, str] = {}
        for sc in script.walk_revisions():
            ids[sc.revision] = os.path.relpath(sc.path)
            for label in alembic_util.to_tuple(getattr(sc.module, "branch_labels", None)) or ():
                labels[label] = sc.revision
        try:
            check_new_revision(rev_id, branch_label, ids, labels)
        except UnsafeValue as exc:
            raise WorkbenchError(str(exc)) from exc
    return None if message is None else docstring_text(message, script.output_encoding)


@reports_failures
def list_templates() -> list[tuple[str, str]]:
    """List the templates ``init`` can use, with their one-line synopsis."""
    config = Config()
    template_root = config.get_template_directory()
    templates = []
    config.print_stdout("Available templates:\n")
    for name in sorted(os.listdir(template_root)):
        readme = os.path.join(template_root, name, "README")
        if not os.path.isfile(readme):
            continue
        with open(readme, encoding="utf-8") as file:
            synopsis = file.readline().strip()
        templates.append((name, synopsis))
        config.print_stdout("%s - %s", name, synopsis)
    return templates


@reports_failures
def init(
    project: LoadedProject,
    multidb: bool = False,
    template: str | None = None,
    package: bool = False,
) -> str:
    """Create a new migrations folder from a template; returns its path."""
    template_directory = None
    if template is not None and ("/" in template or "\\" in template):
        template_directory, template = os.path.split(template)
    config = project.init_config(template_directory)
    if template is None:
        template = "flask-multidb" if multidb else "flask"
    alembic_command.init(config, project.directory, template=template, package=package)
    return project.directory


def init_from_alembic_template(
    project: LoadedProject, directory: str, template: str = "generic", package: bool = False
) -> None:
    """``alembic init``: a migrations folder at ``directory`` from one of Alembic's templates.

    Nothing of the project runs (it does not exist yet), so Alembic's refusal (a folder that is
    not empty, an unknown template) or the file system's is told as it is, in one line.
    """
    config = project.init_config(None)
    try:
        alembic_command.init(config, directory, template=template, package=package)
    except (alembic_util.CommandError, OSError) as exc:
        raise WorkbenchError(str(exc)) from exc


@reports_failures
def revision(
    project: LoadedProject,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> list[Script]:
    """Create a new revision file; returns the scripts written (none if nothing changed)."""
    config = project.alembic_config(x_arg, ["autogenerate"] if autogenerate else ())
    message = new_revision_values(config, message, rev_id, branch_label)
    with fresh_configure_args(project):
        result = alembic_command.revision(
            config,
            message,
            autogenerate=autogenerate,
            sql=sql,
            head=head,
            splice=splice,
            branch_label=branch_label,
            version_path=version_path,
            rev_id=rev_id,
        )
    return scripts_list(result)


def migrate(
    project: LoadedProject,
    message: str | None = None,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> list[Script]:
    """Autogenerate a revision from the models (``revision`` with autogenerate)."""
    return revision(
        project,
        message,
        autogenerate=True,
        sql=sql,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
        x_arg=x_arg,
    )


@reports_failures
def edit(project: LoadedProject, revision: str = "current", x_arg: XArg = None) -> list[Script]:
    """Open the revision's file in the user's editor; returns the scripts opened."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    if revision == "current":
        with fresh_configure_args(project):
            current = _current_revisions(config, script)
        if not current:
            raise WorkbenchError("No current revisions")
        scripts = [sc for sc in script.get_revisions(current) if sc is not None]
    else:
        scripts = [sc for sc in script.get_revisions(revision) if sc is not None]
    if not scripts:
        raise WorkbenchError(f"No revision files indicated by symbol '{revision}'")
    for sc in scripts:
        try:
            open_in_editor(sc.path)
        except EditorError as exc:
            raise WorkbenchError(str(exc)) from exc
    return scripts


@reports_failures
def merge(
    project: LoadedProject,
    revisions: str | Sequence[str] = "",
    message: str | None = None,
    branch_label: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> Script:
    """Create a revision that merges the given revisions; returns it."""
    config = project.alembic_config(x_arg)
    message = new_revision_values(config, message, rev_id, branch_label)
    with fresh_configure_args(project):
        result = alembic_command.merge(
            config, revisions, message=message, branch_label=branch_label, rev_id=rev_id
        )
    if result is None:
        raise WorkbenchError("the merge revision was not written")
    return result


class _StepCounter:
    """Numbers each database's steps and reports every step as it starts and once applied.

    env.py names the database only in its ``run_migrations(engine_name=...)`` call, so that
    call is watched to name a step before it runs; on_version_apply reports it once applied.
    The last step begun is kept: when the run fails, it is the step that failed.
    """

    def __init__(self, on_step: StepCallback | None) -> None:
        self.on_step = on_step
        self.run_args: dict[str, Any] = {}
        self.number = 0
        self.total = 0
        self.started: MigrationStep | None = None

    def watch(self, environment: EnvironmentContext) -> None:
        """Note the args of env.py's ``context.run_migrations`` calls on this environment."""
        run_migrations = environment.run_migrations

        def run_migrations_noting_args(**kw: Any) -> None:
            self.run_args = kw
            run_migrations(**kw)

        # entering the environment installs its attributes as ``alembic.context``'s functions
        environment.run_migrations = run_migrations_noting_args  # type: ignore[method-assign]

    def announce(self, planned: Sequence[Any]) -> Iterator[Any]:
        """Hand Alembic one database's steps, reporting each just before it runs."""
        self.number, self.total = 0, len(planned)
        for step in planned:
            self.number += 1
            self.started = migration_step(step.info, self.run_args)
            if self.on_step is not None:
                self.on_step(StepProgress(self.started, self.number, self.total, done=False))
            yield step

    def applied(self, step: MigrationStep) -> None:
        """Report the step that just ran."""
        if self.on_step is not None:
            self.on_step(StepProgress(step, self.number, self.total, done=True))


def run_migration(
    project: LoadedProject,
    config: AlembicConfig,
    script: ScriptDirectory,
    steps_of: Callable[[Any], Any],
    *,
    sql: bool,
    starting_rev: str | tuple[str, ...] | None,
    destination: Any,
    tag: str | None,
    purge: bool = False,
    on_step: StepCallback | None = None,
    safety: MigrationSafety | None = None,
) -> list[MigrationStep]:
    """Run env.py once with a step function and return the steps it applied.

    Unless ``safety`` turns it off, the migration lock of every database the project migrates
    is taken first (a second run waits for the first, then finds nothing left to do), and on
    PostgreSQL its lock and statement timeouts are set on the migration's transactions.
    A failure once a step has begun says where it happened and, read from every database's
    version table after it, where each database now stands.
    """
    from workbench.services.locks import TimeoutWatch, migration_locks

    safety = MigrationSafety() if safety is None else safety
    counter = _StepCounter(on_step)

    def work(rev: Any, context: Any) -> Any:
        return counter.announce(steps_of(rev))

    with fresh_configure_args(project, counter.applied) as steps:
        environment = EnvironmentContext(
            config,
            script,
            fn=work,
            as_sql=sql,
            starting_rev=starting_rev,
            destination_rev=destination,
            tag=tag,
            purge=purge,
        )
        counter.watch(environment)
        if not sql:
            TimeoutWatch(safety).watch(environment)
        locks = (
            migration_locks(project.describe().migrated_targets, safety.lock_wait)
            if safety.lock and not sql
            else contextlib.nullcontext()
        )
        working_folder = env_py_working_folder(config, script) if sql else contextlib.nullcontext()
        try:
            with locks, environment, working_folder:
                script.run_env()
        except Exception as exc:
            if sql or counter.started is None:
                raise
            failure = failure_line(project, exc)
            standing = standing_after_failure(project, steps, counter.started)
            raise WorkbenchError(f"{failure}. {standing}") from exc
    return steps


def migration_safety(
    project: LoadedProject,
    migration_lock: bool | None = None,
    lock_wait: float | str | None = None,
    lock_timeout: float | str | None = None,
    statement_timeout: float | str | None = None,
) -> MigrationSafety:
    """The lock and timeouts of one run: these arguments, else the environment, else ``Migrate``.

    The environment variables are ``WORKBENCH_MIGRATION_LOCK`` (0 turns the lock off),
    ``WORKBENCH_LOCK_WAIT``, ``WORKBENCH_LOCK_TIMEOUT`` and ``WORKBENCH_STATEMENT_TIMEOUT``.
    """
    configured = project.migration_settings()
    explicit = {
        "lock": migration_lock,
        "lock_wait": lock_wait,
        "lock_timeout": lock_timeout,
        "statement_timeout": statement_timeout,
    }
    try:
        return resolve_safety(explicit, os.environ, configured)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from exc


def standing_after_failure(
    project: LoadedProject, applied: Sequence[MigrationStep], failed: MigrationStep
) -> str:
    """Where each migrated database stands after a failed run, as its version table says.

    The log has already said ``Running upgrade -> x`` for every step begun; where the version
    table does not hold what the log announced, this says whether the database rolled the run
    back (transactional DDL: PostgreSQL) or may have kept some of it (SQLite, MySQL, MariaDB
    commit DDL as it runs).
    """
    from workbench.core.databases import read_versions

    targets = project.describe().migrated_targets
    parts = []
    for reading in read_versions(targets):
        name = reading.target.name
        if reading.error is not None:
            parts.append(f"{name}: its version table could not be read ({reading.error})")
            continue
        current = set(reading.revisions)
        text = f"{name} is at {', '.join(reading.revisions) or 'base (empty version table)'}"
        transactional, backend = _ddl_behaviour(reading.target.url)
        logged = [step for step in applied if _database_name(step) == name]
        unrecorded = bool(logged) and not set(logged[-1].destination_revisions) <= current
        ids = ", ".join(str(step.revision) for step in logged)
        if unrecorded and transactional:
            text += f" (the run was rolled back: {ids}, logged above as run, did not happen)"
        elif unrecorded:
            text += (
                f" (the log shows {ids} as run, which its version table does not record:"
                f" {backend} commits DDL as it runs, so some of it may be kept)"
            )
        if _database_name(failed) == name:
            kept = "nothing it ran is kept" if transactional else "what it ran may be kept"
            text += f"; {failed.revision} failed partway ({kept})"
        parts.append(text)
    return "After the failure: " + "; ".join(parts) + "."


def _database_name(step: MigrationStep) -> str:
    """The name of the database a step ran on (env.py says ``""`` or nothing for the default)."""
    return step.database or "default"


def _ddl_behaviour(url: Any) -> tuple[bool, str]:
    """Whether Alembic runs DDL in a transaction on this database, and its backend's name."""
    from alembic.ddl.impl import DefaultImpl
    from sqlalchemy.engine import make_url

    try:
        dialect = make_url(url).get_dialect()()
        return DefaultImpl.get_by_dialect(dialect).transactional_ddl, dialect.name
    except Exception:
        return False, "this database"


def _split_range(revision: str, sql: bool) -> tuple[str | tuple[str, ...] | None, str]:
    """Split ``start:end``, which only offline (``--sql``) mode accepts.

    The start may name several revisions, ``a,b:merge``: the offline run then starts from
    both heads, which is how a merge revision's own SQL is rendered without its parents'.
    """
    if ":" not in revision:
        return None, revision
    if not sql:
        raise WorkbenchError("Range revision not allowed")
    start, end = revision.split(":", 1)
    if "," in start:
        return tuple(part.strip() for part in start.split(",") if part.strip()), end
    return start or None, end


@reports_failures
def upgrade(
    project: LoadedProject,
    revision: str = "head",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    *,
    on_step: StepCallback | None = None,
    migration_lock: bool | None = None,
    lock_wait: float | str | None = None,
    lock_timeout: float | str | None = None,
    statement_timeout: float | str | None = None,
) -> list[MigrationStep]:
    """Upgrade the database(s) to a later revision; returns the steps applied.

    ``on_step`` hears of every step as it starts and once applied, while env.py runs.
    ``migration_lock``, ``lock_wait``, ``lock_timeout`` and ``statement_timeout`` override
    the environment and ``Migrate``'s settings (see ``migration_safety``).
    """
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    starting_rev, target = _split_range(revision, sql)
    _check_target(script, target)
    return run_migration(
        project,
        config,
        script,
        lambda rev: script._upgrade_revs(target, rev),
        sql=sql,
        starting_rev=starting_rev,
        destination=target,
        tag=tag,
        on_step=on_step,
        safety=migration_safety(
            project, migration_lock, lock_wait, lock_timeout, statement_timeout
        ),
    )


@reports_failures
def downgrade(
    project: LoadedProject,
    revision: str = "-1",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    *,
    on_step: StepCallback | None = None,
    migration_lock: bool | None = None,
    lock_wait: float | str | None = None,
    lock_timeout: float | str | None = None,
    statement_timeout: float | str | None = None,
) -> list[MigrationStep]:
    """Revert the database(s) to an earlier revision; returns the steps reverted.

    ``on_step`` hears of every step as it starts and once applied, while env.py runs.
    ``migration_lock``, ``lock_wait``, ``lock_timeout`` and ``statement_timeout`` override
    the environment and ``Migrate``'s settings (see ``migration_safety``).
    """
    config = project.alembic_config(x_arg)
    if sql and revision == "-1":
        revision = "head:-1"
    script = ScriptDirectory.from_config(config)
    starting_rev, target = _split_range(revision, sql)
    if sql and starting_rev is None:
        raise WorkbenchError("downgrade with --sql requires <fromrev>:<torev>")
    _check_target(script, target)
    return run_migration(
        project,
        config,
        script,
        lambda rev: script._downgrade_revs(target, rev),
        sql=sql,
        starting_rev=starting_rev,
        destination=target,
        tag=tag,
        on_step=on_step,
        safety=migration_safety(
            project, migration_lock, lock_wait, lock_timeout, statement_timeout
        ),
    )


@reports_failures
def stamp(
    project: LoadedProject,
    revision: str | Sequence[str] = "head",
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
    x_arg: XArg = None,
    *,
    on_step: StepCallback | None = None,
    migration_lock: bool | None = None,
    lock_wait: float | str | None = None,
    lock_timeout: float | str | None = None,
    statement_timeout: float | str | None = None,
) -> list[MigrationStep]:
    """Set the version table to the given revision(s) without running migrations.

    ``on_step`` hears of every version-table change as it starts and once applied.
    The lock settings are those of ``upgrade``.
    """
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    starting_rev = None
    destinations = []
    for name in alembic_util.to_list(revision):
        start, target = _split_range(name, sql)
        if start is not None:
            if starting_rev not in (None, start):
                raise WorkbenchError(
                    "Stamp operation with --sql only supports a single starting revision at a time"
                )
            starting_rev = start
        destinations.append(target)
    _check_target(script, destinations)
    return run_migration(
        project,
        config,
        script,
        lambda rev: script._stamp_revs(tuple(destinations), rev),
        sql=sql,
        starting_rev=starting_rev,
        destination=tuple(destinations),
        tag=tag,
        purge=purge,
        on_step=on_step,
        safety=migration_safety(
            project, migration_lock, lock_wait, lock_timeout, statement_timeout
        ),
    )


@reports_failures
def show(project: LoadedProject, revision: str = "head", x_arg: XArg = None) -> list[Script]:
    """Print and return the revision(s) a symbol denotes (``current`` reads the database)."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    if revision == "current":
        with fresh_configure_args(project):
            names: Any = _current_revisions(config, script)
    else:
        names = revision
    scripts = [sc for sc in script.get_revisions(names) if sc is not None]
    for sc in scripts:
        config.print_stdout(sc.log_entry)
    return scripts


@reports_failures
def history(
    project: LoadedProject,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
    x_arg: XArg = None,
) -> list[Script]:
    """Print and return the revisions in a range, newest first."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    if rev_range is not None:
        if ":" not in rev_range:
            raise WorkbenchError("History range requires [start]:[end], [start]:, or :[end]")
        base, head = rev_range.strip().split(":", 1)
    else:
        base = head = ""
    runs: list[tuple[str, ...]] = [()]
    needs_database = (
        indicate_current
        or "current" in (base, head)
        or alembic_util.asbool(config.get_alembic_option("revision_environment"))
    )
    if needs_database:  # as Alembic does: the history once for each database env.py runs on
        with fresh_configure_args(project):
            runs = _currents_by_run(config, script)
    scripts: dict[str, Script] = {}
    for current in runs:
        lower: str | tuple[str, ...] = current if base == "current" else base
        upper: str | tuple[str, ...] = current if head == "current" else head
        for sc in script.walk_revisions(base=lower or "base", head=upper or "heads"):
            if indicate_current:
                sc._db_current_indicator = sc.revision in current
            config.print_stdout(
                sc.cmd_format(
                    verbose=verbose, include_branches=True, include_doc=True, include_parents=True
                )
            )
            scripts.setdefault(sc.revision, sc)
    return list(scripts.values())


@reports_failures
def heads(
    project: LoadedProject,
    verbose: bool = False,
    resolve_dependencies: bool = False,
    x_arg: XArg = None,
) -> list[Script]:
    """Print and return the head revisions of the migrations folder."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    if resolve_dependencies:
        found = script.get_revisions("heads")
    else:
        found = script.get_revisions(script.get_heads())
    scripts = [sc for sc in found if sc is not None]
    for sc in scripts:
        config.print_stdout(sc.cmd_format(verbose, include_branches=True, tree_indicators=False))
    return scripts


@reports_failures
def branches(project: LoadedProject, verbose: bool = False, x_arg: XArg = None) -> list[Script]:
    """Print and return the branch points: revisions with more than one child."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    points = []
    for sc in script.walk_revisions():
        if not sc.is_branch_point:
            continue
        points.append(sc)
        indent = " " * len(str(sc.revision))
        children = "\n".join(
            f"{indent} -> "
            + script.get_revision(child).cmd_format(
                False, include_branches=True, include_doc=verbose
            )
            for child in sc.nextrev
        )
        config.print_stdout("%s\n%s\n", sc.cmd_format(verbose, include_branches=True), children)
    return points


@reports_failures
def current(project: LoadedProject, verbose: bool = False, x_arg: XArg = None) -> list[str]:
    """Print and return the revision(s) each database stands on."""
    config = project.alembic_config(x_arg)
    script = ScriptDirectory.from_config(config)
    found: list[str] = []

    def display(rev: Any, context: Any) -> list[Any]:
        if verbose:
            config.print_stdout(
                "Current revision(s) for %s:",
                alembic_util.obfuscate_url_pw(context.connection.engine.url),
            )
        for sc in script.get_all_current(rev):
            if sc is not None:
                config.print_stdout(sc.cmd_format(verbose))
                found.append(sc.revision)
        return []

    with (
        fresh_configure_args(project),
        EnvironmentContext(config, script, fn=display, dont_mutate=True),
    ):
        script.run_env()
    return found


@reports_failures
def check(project: LoadedProject, x_arg: XArg = None) -> None:
    """Raise when the models differ from what the migrations build; print a line when they match."""
    config = project.alembic_config(x_arg)
    with fresh_configure_args(project):
        alembic_command.check(config)
