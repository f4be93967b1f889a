"""The Flask extension: ``Migrate``, the object it leaves in ``app.extensions['migrate']``, and
Flask-Migrate's module functions (``upgrade()``...), each run on the active app's project.

The functions load the use cases (and Alembic's runtime with them) on first call.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

ConfigureCallback = Callable[["AlembicConfig"], "AlembicConfig"]
XArg = str | Iterable[str] | None


class MigrateConfig:
    """What ``app.extensions['migrate']`` holds: env.py files read these attributes by name."""

    def __init__(self, migrate: Migrate, db: Any, **configure_args: Any) -> None:
        self.migrate = migrate
        self.db = db
        self.directory = migrate.directory
        self.configure_args = configure_args

    @property
    def metadata(self) -> Any:
        """The default metadata; kept because old env.py files read it."""
        return self.db.metadata


class Migrate:
    """Flask-Migrate's ``Migrate`` with the same arguments, defaults and behaviour.

    Four keyword arguments of its own guard ``upgrade``, ``downgrade`` and ``stamp`` in deploys:
    ``migration_lock`` (default True: one migration at a time per database, a second one waits
    for the first), ``lock_wait`` (seconds it waits, default 300), and on PostgreSQL
    ``lock_timeout`` / ``statement_timeout`` (seconds, or ``"5s"``, ``"500ms"``) for the
    migration's own statements. Environment variables and command options override them.
    """

    def __init__(
        self,
        app: Any = None,
        db: Any = None,
        directory: str | os.PathLike[str] = "migrations",
        command: str = "db",
        compare_type: bool = True,
        render_as_batch: bool = True,
        *,
        migration_lock: bool = True,
        lock_wait: float | str | None = None,
        lock_timeout: float | str | None = None,
        statement_timeout: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        self.configure_callbacks: list[ConfigureCallback] = []
        self.migration_safety: dict[str, Any] = {
            "lock": migration_lock,
            "lock_wait": lock_wait,
            "lock_timeout": lock_timeout,
            "statement_timeout": statement_timeout,
        }
        self.db = db
        self.command = command
        self.directory = str(directory)
        self.alembic_ctx_kwargs: dict[str, Any] = kwargs
        self.alembic_ctx_kwargs["compare_type"] = compare_type
        self.alembic_ctx_kwargs["render_as_batch"] = render_as_batch
        if app is not None and db is not None:
            self.init_app(app, db, directory)

    def init_app(
        self,
        app: Any,
        db: Any = None,
        directory: str | os.PathLike[str] | None = None,
        command: str | None = None,
        compare_type: bool | None = None,
        render_as_batch: bool | None = None,
        *,
        migration_lock: bool | None = None,
        lock_wait: float | str | None = None,
        lock_timeout: float | str | None = None,
        statement_timeout: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        """Attach to an app (application factories call this) and register the command group."""
        from workbench.cli.flask_group import db as db_group

        given = {
            "lock": migration_lock,
            "lock_wait": lock_wait,
            "lock_timeout": lock_timeout,
            "statement_timeout": statement_timeout,
        }
        self.migration_safety.update(
            {key: value for key, value in given.items() if value is not None}
        )
        self.db = db or self.db
        self.command = command or self.command
        self.directory = str(directory or self.directory)
        self.alembic_ctx_kwargs.update(kwargs)
        if compare_type is not None:
            self.alembic_ctx_kwargs["compare_type"] = compare_type
        if render_as_batch is not None:
            self.alembic_ctx_kwargs["render_as_batch"] = render_as_batch
        if not hasattr(app, "extensions"):
            app.extensions = {}
        app.extensions["migrate"] = MigrateConfig(self, self.db, **self.alembic_ctx_kwargs)
        app.cli.add_command(db_group, name=self.command)

    def configure(self, callback: ConfigureCallback) -> ConfigureCallback:
        """Register a callback that receives and returns the Alembic Config of every command."""
        self.configure_callbacks.append(callback)
        return callback

    def call_configure_callbacks(self, config: AlembicConfig) -> AlembicConfig:
        """Run the registered callbacks in order, each on the previous one's result."""
        for callback in self.configure_callbacks:
            config = callback(config)
        return config

    def get_config(
        self,
        directory: str | os.PathLike[str] | None = None,
        x_arg: str | Iterable[str] | None = None,
        opts: Iterable[str] | None = None,
    ) -> AlembicConfig:
        """The Alembic Config for the migrations folder, with ``-x`` values and flags set.

        Each ``-x`` value is added exactly once (Flask-Migrate added group values twice).
        """
        from workbench.project.config import Config

        directory = str(self.directory if directory is None else directory)
        config = Config(os.path.join(directory, "alembic.ini"))
        config.set_main_option("script_location", directory)
        if config.cmd_opts is None:
            config.cmd_opts = argparse.Namespace()
        for opt in opts or ():
            setattr(config.cmd_opts, opt, True)
        if not hasattr(config.cmd_opts, "x"):
            values = [x_arg] if isinstance(x_arg, str) else list(x_arg or ())
            config.cmd_opts.x = values
        return self.call_configure_callbacks(config)


def _project(directory: str | os.PathLike[str] | None) -> Any:
    """The migration project of the app whose context is active, in the folder given."""
    from workbench.errors import WorkbenchError, describe_failure
    from workbench.project.flask import FlaskProject

    try:
        return FlaskProject.current(directory)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise WorkbenchError(describe_failure(exc)) from exc


def _commands() -> Any:
    """The use cases behind the functions below, imported on use: they load Alembic's runtime."""
    from workbench.services import commands

    return commands


def list_templates() -> list[tuple[str, str]]:
    """List the templates ``init`` can use, with their one-line synopsis."""
    return _commands().list_templates()


def init(
    directory: str | None = None,
    multidb: bool = False,
    template: str | None = None,
    package: bool = False,
) -> str:
    """Create a new migrations folder from a template; returns its path."""
    return _commands().init(_project(directory), multidb, template, package)


def revision(
    directory: str | None = None,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> list[Any]:
    """Create a new revision file; returns the scripts written (none if nothing changed)."""
    return _commands().revision(
        _project(directory),
        message,
        autogenerate,
        sql,
        head,
        splice,
        branch_label,
        version_path,
        rev_id,
        x_arg,
    )


def migrate(
    directory: str | None = None,
    message: str | None = None,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> list[Any]:
    """Autogenerate a revision from the models (``revision`` with autogenerate)."""
    return _commands().migrate(
        _project(directory), message, sql, head, splice, branch_label, version_path, rev_id, x_arg
    )


def edit(directory: str | None = None, revision: str = "current", x_arg: XArg = None) -> list[Any]:
    """Open the revision's file in the user's editor; returns the scripts opened."""
    return _commands().edit(_project(directory), revision, x_arg)


def merge(
    directory: str | None = None,
    revisions: str | Sequence[str] = "",
    message: str | None = None,
    branch_label: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
) -> Any:
    """Create a revision that merges the given revisions; returns it."""
    return _commands().merge(_project(directory), revisions, message, branch_label, rev_id, x_arg)


def upgrade(
    directory: str | None = None,
    revision: str = "head",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    **lock_settings: Any,
) -> list[Any]:
    """Upgrade the database(s) to a later revision; returns the steps applied.

    ``lock_settings``: ``migration_lock``, ``lock_wait``, ``lock_timeout``,
    ``statement_timeout``, as the command's options (over the environment and ``Migrate``).
    """
    return _commands().upgrade(_project(directory), revision, sql, tag, x_arg, **lock_settings)


def downgrade(
    directory: str | None = None,
    revision: str = "-1",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    **lock_settings: Any,
) -> list[Any]:
    """Revert the database(s) to an earlier revision; returns the steps reverted."""
    return _commands().downgrade(_project(directory), revision, sql, tag, x_arg, **lock_settings)


def stamp(
    directory: str | None = None,
    revision: str | Sequence[str] = "head",
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
    x_arg: XArg = None,
    **lock_settings: Any,
) -> list[Any]:
    """Set the version table to the given revision(s) without running migrations."""
    return _commands().stamp(_project(directory), revision, sql, tag, purge, x_arg, **lock_settings)


def show(directory: str | None = None, revision: str = "head", x_arg: XArg = None) -> list[Any]:
    """Print and return the revision(s) a symbol denotes (``current`` reads the database)."""
    return _commands().show(_project(directory), revision, x_arg)


def history(
    directory: str | None = None,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
    x_arg: XArg = None,
) -> list[Any]:
    """Print and return the revisions in a range, newest first."""
    return _commands().history(_project(directory), rev_range, verbose, indicate_current, x_arg)


def heads(
    directory: str | None = None,
    verbose: bool = False,
    resolve_dependencies: bool = False,
    x_arg: XArg = None,
) -> list[Any]:
    """Print and return the head revisions of the migrations folder."""
    return _commands().heads(_project(directory), verbose, resolve_dependencies, x_arg)


def branches(directory: str | None = None, verbose: bool = False, x_arg: XArg = None) -> list[Any]:
    """Print and return the branch points: revisions with more than one child."""
    return _commands().branches(_project(directory), verbose, x_arg)


def current(directory: str | None = None, verbose: bool = False, x_arg: XArg = None) -> list[str]:
    """Print and return the revision(s) each database stands on."""
    return _commands().current(_project(directory), verbose, x_arg)


def check(directory: str | None = None, x_arg: XArg = None) -> None:
    """Raise when the models differ from what the migrations build; print a line when they match."""
    _commands().check(_project(directory), x_arg)
