"""The Flask extension: ``Migrate`` and the object it leaves in ``app.extensions['migrate']``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

ConfigureCallback = Callable[["AlembicConfig"], "AlembicConfig"]


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
        from workbench.cli import db as db_group

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
