"""Verifying the history on scratch databases: one head, base to head, models match, up/down/up.

Runs inside a Flask app context (the child process) and never touches the real databases: the
app's engines are pointed at scratch databases made for the run and dropped after it.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from alembic import command as alembic_command
from alembic import util as alembic_util
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app

from workbench.core.preview import (
    describe_operations,
)
from workbench.core.secrets import mask_passwords, mask_url
from workbench.core.verify import (
    CheckResult,
    RevisionCheck,
    ScratchDatabases,
    ScratchInfo,
    VerifyReport,
)
from workbench.errors import WorkbenchError, describe_failure
from workbench.services.commands import (
    StepProgress,
    XArg,
    fresh_configure_args,
    known_passwords,
    migrate_extension,
    migration_config,
    migrations_dir_or_none,
    reports_failures,
    run_migration,
)
from workbench.services.review import no_bytecode


def _async_engine(url: Any, **options: Any) -> Any:
    """An async engine; SQLAlchemy's asyncio support (which needs greenlet) only loads for one."""
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(url, **options)


@contextmanager
def _engines_on_scratch(
    scratch: ScratchDatabases, multidb: bool
) -> Iterator[Callable[[], list[ScratchInfo]]]:
    """Point the app's migrated engines at scratch databases while the block runs.

    Flask-SQLAlchemy 3 creates its engines in ``init_app`` and env.py reads them from
    ``db.engines``, the extension's own dict for the app: its entries are swapped for
    engines on scratch databases and put back afterwards, so env.py, its hooks and the
    models run unchanged while no statement reaches a real database. The database URLs
    in the app's config are swapped too, for env.py files that read them instead. Each
    call of the yielded function points them at a fresh set of scratch databases.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engines = getattr(migrate_extension().db, "engines", None)
    if not isinstance(engines, MutableMapping):
        raise WorkbenchError(
            "verify needs the db object's engines by bind key (Flask-SQLAlchemy 3 or later)"
        )
    config = current_app.config
    original_engines = dict(engines)
    url_keys = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_BINDS")
    original_urls = {key: config[key] for key in url_keys if key in config}
    keys = [key for key in original_engines if multidb or key is None]
    made: list[Any] = []

    def fresh() -> list[ScratchInfo]:
        infos = []
        binds = dict(original_urls.get("SQLALCHEMY_BINDS") or {})
        for key in keys:
            original = original_engines[key]
            name = key or "default"
            url = scratch.create(original.url, name)
            is_async = hasattr(original, "sync_engine")
            engine = (_async_engine if is_async else create_engine)(url, poolclass=NullPool)
            made.append(engine)
            engines[key] = engine
            text = url.render_as_string(hide_password=False)
            if key is None:
                config["SQLALCHEMY_DATABASE_URI"] = text
            elif isinstance(binds.get(key), dict):
                binds[key] = {**binds[key], "url": text}
            else:
                binds[key] = text
            infos.append(ScratchInfo(name=name, dialect=url.get_backend_name(), url=mask_url(url)))
        if "SQLALCHEMY_BINDS" in original_urls:
            config["SQLALCHEMY_BINDS"] = binds
        return infos

    try:
        yield fresh
    finally:
        engines.update(original_engines)
        for key in url_keys:
            config.pop(key, None)
        config.update(original_urls)
        for engine in made:
            getattr(engine, "sync_engine", engine).dispose()


def _failure_line(exc: BaseException) -> str:
    """A failure inside a verify check, in one line with the failing statement."""
    return mask_passwords(describe_failure(exc, migrations_dir_or_none()), known_passwords())


def _move(config: AlembicConfig, script: ScriptDirectory, kind: str, target: str, **kw: Any) -> Any:
    """Upgrade or downgrade the (scratch) databases to a target, reusing one loaded history."""
    revs = script._upgrade_revs if kind == "upgrade" else script._downgrade_revs
    return run_migration(
        config,
        script,
        lambda rev: revs(target, rev),
        sql=False,
        starting_rev=None,
        destination=target,
        tag=None,
        **kw,
    )


def _single_head_check(script: ScriptDirectory) -> CheckResult:
    """One head, or the heads that need a merge."""
    heads = list(script.get_heads())
    if len(heads) <= 1:
        message = f"one head: {heads[0]}" if heads else "no revisions yet"
        return CheckResult("single-head", "passed", message)
    return CheckResult(
        "single-head", "failed", f"{len(heads)} heads: {', '.join(heads)}; merge them"
    )


def _upgrade_check(config: AlembicConfig, script: ScriptDirectory) -> CheckResult:
    """Upgrade empty databases from base to every head, naming the revision that fails."""
    running: list[str | None] = [None]

    def on_step(progress: StepProgress) -> None:
        running[0] = None if progress.done else progress.step.revision

    try:
        steps = _move(config, script, "upgrade", "heads", on_step=on_step)
    except Exception as exc:
        revision = running[0]
        where = f"upgrade to {revision} failed: " if revision else ""
        return CheckResult("upgrade", "failed", where + _failure_line(exc), revision=revision)
    applied = len({step.revision for step in steps})
    return CheckResult("upgrade", "passed", f"base to head: {applied} revision(s) applied")


def _models_check(config: AlembicConfig) -> CheckResult:
    """Autogenerate against the upgraded databases finds nothing (``check``)."""
    printed_to = config.stdout
    config.stdout = io.StringIO()  # check's "No new upgrade operations detected."
    try:
        with fresh_configure_args():
            alembic_command.check(config)
    except alembic_util.AutogenerateDiffsDetected as exc:
        found = [
            line
            for migration_script in exc.revision_context.generated_revisions
            for upgrade_ops in migration_script.upgrade_ops_list
            for line in describe_operations(upgrade_ops)
        ]
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        return CheckResult(
            "models-match", "failed", f"the models differ from the migrated schema: {shown}"
        )
    except Exception as exc:
        return CheckResult("models-match", "failed", _failure_line(exc))
    finally:
        config.stdout = printed_to
    return CheckResult("models-match", "passed", "autogenerate finds no difference")


def _up_down_up_check(config: AlembicConfig, script: ScriptDirectory) -> CheckResult:
    """From empty databases, each revision in turn: upgrade to it, one step down, up again.

    A merge steps down to one parent (Alembic unmerges it); any other revision uses
    ``<revision>@-1``, which leaves other branches alone.
    """
    checked: list[RevisionCheck] = []
    for revision_script in reversed(list(script.walk_revisions("base", "heads"))):
        revision = revision_script.revision
        parents = alembic_util.to_tuple(revision_script.down_revision) or ()
        down = parents[0] if len(parents) > 1 else f"{revision}@-1"
        for step, kind, target in (
            ("upgrade", "upgrade", revision),
            ("downgrade", "downgrade", down),
            ("upgrade again", "upgrade", revision),
        ):
            try:
                _move(config, script, kind, target)
            except Exception as exc:
                checked.append(
                    RevisionCheck(revision, passed=False, step=step, message=_failure_line(exc))
                )
                return CheckResult(
                    "up-down-up",
                    "failed",
                    f"{step} of {revision} failed",
                    revision=revision,
                    revisions=tuple(checked),
                )
        checked.append(RevisionCheck(revision, passed=True))
    return CheckResult(
        "up-down-up",
        "passed",
        f"{len(checked)} revision(s) upgraded, downgraded and upgraded again",
        revisions=tuple(checked),
    )


@reports_failures
def verify(
    directory: str | None = None,
    x_arg: XArg = None,
    *,
    on_check: Callable[[CheckResult], None] | None = None,
) -> VerifyReport:
    """Run the verify checks on scratch databases standing in for the app's; return the report.

    Checks after a failed upgrade are skipped; up/down/up runs on a second, fresh set of
    scratch databases. ``on_check`` hears of each check as it ends. Every scratch database
    is dropped at the end, also after a failure; the real ones are never connected to.
    """
    from workbench.project import is_multidb

    config = migration_config(directory, x_arg)
    script = ScriptDirectory.from_config(config)
    checks: list[CheckResult] = []

    def report(check: CheckResult) -> None:
        checks.append(check)
        if on_check is not None:
            on_check(check)

    with (
        no_bytecode(),
        tempfile.TemporaryDirectory(prefix="workbench-verify-") as folder,
        ScratchDatabases(folder) as scratch,
        _engines_on_scratch(scratch, is_multidb(script.dir)) as use_fresh_databases,
    ):
        report(_single_head_check(script))
        databases = use_fresh_databases()
        upgrade_check = _upgrade_check(config, script)
        report(upgrade_check)
        if upgrade_check.passed:
            report(_models_check(config))
            use_fresh_databases()
            report(_up_down_up_check(config, script))
        else:
            for name in ("models-match", "up-down-up"):
                report(CheckResult(name, "skipped", "skipped: the upgrade failed"))
    return VerifyReport(checks=tuple(checks), databases=tuple(databases))
