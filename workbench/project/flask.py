"""The migration project of a Flask app: Migrate's folder, the app's engines and binds, its Config.

The one place below the faces that reads the app (its config, ``db``, the Migrate extension
state, ours or Flask-Migrate's, read by attributes), so that services and ``workbench.core``
stay free of Flask.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workbench.core.databases import DatabaseTarget
from workbench.errors import WorkbenchError
from workbench.project import (
    LoadedProject,
    MigrationProject,
    VersionApplied,
    XArg,
    is_multidb,
    read_folders,
    require_migrations_folder,
)

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from workbench.core.verify import ScratchDatabases, ScratchInfo

EXTRA_DATABASES_KEY = "WORKBENCH_DATABASES"
DEFAULT_DIRECTORY = "migrations"
"""The migrations folder of ``Migrate(app, db)`` when it names none."""
INIT_COMMAND = "flask db init"
"""The command that creates a missing migrations folder."""
URL_KEYS = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_BINDS")
"""Where Flask-SQLAlchemy reads the database URLs from the app's config."""


class FlaskProject(LoadedProject):
    """The migration project of a Flask app that uses ``Migrate``, inside its app context.

    ``directory`` is the migrations folder given (``-d``), else Migrate's.
    """

    def __init__(self, app: Any, directory: str | os.PathLike[str] | None = None) -> None:
        self.app = app
        self.extension = migration_extension(app)
        self.directory = str(directory or self.extension.directory)

    @classmethod
    def current(cls, directory: str | os.PathLike[str] | None = None) -> FlaskProject:
        """The project of the app whose context is active."""
        from flask import current_app

        return cls(current_app._get_current_object(), directory)

    def describe(self) -> MigrationProject:
        """The folders from ``alembic.ini`` and the app's databases; no revision file imported."""
        folders = read_folders(self.directory, INIT_COMMAND)
        multidb = is_multidb(self.directory)
        return MigrationProject(
            directory=folders.script_location,
            version_locations=folders.version_locations,
            recursive_version_locations=folders.recursive,
            sourceless=folders.sourceless,
            multidb=multidb,
            targets=tuple(database_targets(self.app, self.extension, multidb)),
        )

    def alembic_config(self, x_arg: XArg = None, opts: Sequence[str] = ()) -> AlembicConfig:
        """Migrate's Config of the folder (its configure callbacks run), which must exist."""
        config = self.extension.migrate.get_config(
            self.directory, x_arg=x_arg, opts=list(opts) or None
        )
        location = config.get_main_option("script_location")
        if location and ":" not in location:
            require_migrations_folder(location, INIT_COMMAND)
        return config

    def init_config(self, template_directory: str | None) -> AlembicConfig:
        """The Config ``flask db init`` creates the folder with, Migrate's callbacks applied."""
        from workbench.project.config import Config

        config = Config(template_directory=template_directory)
        config.set_main_option("script_location", self.directory)
        config.config_file_name = os.path.join(self.directory, "alembic.ini")
        return self.extension.migrate.call_configure_callbacks(config)

    @contextmanager
    def version_apply_hook(self, callback: VersionApplied) -> Iterator[None]:
        """Give env.py a private copy of Migrate's configure args, ``callback`` added to them.

        env.py files may store hooks in the dict they receive; a copy keeps one command's
        hooks from leaking into the next one run in the same process.
        """
        shared: dict[str, Any] = self.extension.configure_args
        user_callbacks = shared.get("on_version_apply") or ()
        if callable(user_callbacks):
            user_callbacks = (user_callbacks,)
        self.extension.configure_args = {
            **shared,
            "on_version_apply": [*user_callbacks, callback],
        }
        try:
            yield
        finally:
            self.extension.configure_args = shared

    def migration_settings(self) -> Mapping[str, Any]:
        """What ``Migrate(migration_lock=..., lock_wait=..., lock_timeout=...)`` was given."""
        return dict(getattr(self.extension.migrate, "migration_safety", None) or {})

    def passwords(self) -> list[str]:
        """Passwords of the app's configured database URLs."""
        from sqlalchemy.engine import make_url

        config = self.app.config
        urls: list[Any] = [config.get("SQLALCHEMY_DATABASE_URI")]
        binds = config.get("SQLALCHEMY_BINDS") or {}
        for bind in binds.values():
            urls.append(bind.get("url") if isinstance(bind, dict) else bind)
        passwords = []
        for url in urls:
            try:
                password = make_url(url).password if url else None
            except Exception:
                password = None
            if password:
                passwords.append(str(password))
        return passwords

    def dialects(self, multidb: bool) -> list[tuple[str, Any]]:
        """(name, dialect) of the default engine, and of each bind's when ``multidb``."""
        return [
            (key or "default", engine.dialect)
            for key, engine in engines_by_bind(self.extension.db).items()
            if key is None or multidb
        ]

    @contextmanager
    def on_scratch(
        self, scratch: ScratchDatabases, multidb: bool
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

        from workbench.core.secrets import mask_url
        from workbench.core.verify import ScratchInfo

        engines = getattr(self.extension.db, "engines", None)
        if not isinstance(engines, MutableMapping):
            raise WorkbenchError(
                "verify needs the db object's engines by bind key (Flask-SQLAlchemy 3 or later)"
            )
        config = self.app.config
        original_engines = dict(engines)
        original_urls = {key: config[key] for key in URL_KEYS if key in config}
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
                infos.append(
                    ScratchInfo(name=name, dialect=url.get_backend_name(), url=mask_url(url))
                )
            if "SQLALCHEMY_BINDS" in original_urls:
                config["SQLALCHEMY_BINDS"] = binds
            return infos

        try:
            yield fresh
        finally:
            engines.update(original_engines)
            for key in URL_KEYS:
                config.pop(key, None)
            config.update(original_urls)
            for engine in made:
                getattr(engine, "sync_engine", engine).dispose()


def load_app(app_import_path: str | None) -> Any:
    """Load the app as the ``flask`` command does: ``--app``, ``FLASK_APP``, ``wsgi.py``/``app.py``.

    How a child process, started in the project folder, finds the app it runs env.py in.
    """
    from flask.cli import NoAppException, ScriptInfo

    info = ScriptInfo(app_import_path=app_import_path or os.environ.get("FLASK_APP") or None)
    try:
        return info.load_app()
    except NoAppException as exc:
        raise WorkbenchError(exc.format_message()) from exc


def _async_engine(url: Any, **options: Any) -> Any:
    """An async engine; SQLAlchemy's asyncio support (which needs greenlet) only loads for one."""
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(url, **options)


def migration_extension(app: Any) -> Any:
    """The app's ``Migrate`` state, ours or Flask-Migrate's: read by attributes, not class."""
    extension = app.extensions.get("migrate")
    if extension is None:
        raise WorkbenchError(
            f"the app {app.name!r} does not use Migrate: add `Migrate(app, db)` to it"
        )
    return extension


def database_targets(app: Any, extension: Any, multidb: bool) -> list[DatabaseTarget]:
    """The default database, each bind when the project migrates binds, and the extra ones."""
    configure_args = extension.configure_args
    version_table = configure_args.get("version_table") or "alembic_version"
    version_table_schema = configure_args.get("version_table_schema")
    engines = engines_by_bind(extension.db)
    bind_names = [name for name in engines if name is not None] if multidb else []
    targets = [
        DatabaseTarget(
            name=name or "default",
            url=engines[name].url,
            version_table=version_table,
            version_table_schema=version_table_schema,
        )
        for name in [None, *bind_names]
        if name in engines
    ]
    extra = app.config.get(EXTRA_DATABASES_KEY) or {}
    if not isinstance(extra, dict):
        raise WorkbenchError(f"{EXTRA_DATABASES_KEY} must be a dict of name to database URL")
    taken = {target.name for target in targets}
    for name, url in extra.items():
        if name in taken:
            raise WorkbenchError(f"{EXTRA_DATABASES_KEY} names {name!r}, already a database")
        targets.append(
            DatabaseTarget(
                name=str(name),
                url=url,
                version_table=version_table,
                version_table_schema=version_table_schema,
                read_only=True,
            )
        )
    return targets


def engines_by_bind(db: Any) -> dict[str | None, Any]:
    """The app's engines by bind key (None is the default), for any Flask-SQLAlchemy version."""
    engines = getattr(db, "engines", None)
    if engines is not None:
        return dict(engines)
    return {None: db.get_engine()}
