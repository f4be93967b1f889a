"""The migration project of a Flask app: its migrations folder and the databases it migrates.

This is the one place that reads the app (config, ``db``, the Migrate extension) for the
graph and status engine, so that ``workbench.core`` stays free of Flask.
"""

from __future__ import annotations

import configparser
import functools
import os
from dataclasses import dataclass
from typing import Any

from workbench.core.databases import DatabaseTarget
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import (
    PendingScan,
    ScriptConfig,
    read_script_config,
    scan_settings,
    start_scan,
)
from workbench.core.scan_cache import ScanCache, default_cache_path
from workbench.errors import WorkbenchError
from workbench.runtime.forking import Aside

EXTRA_DATABASES_KEY = "WORKBENCH_DATABASES"
DEFAULT_DIRECTORY = "migrations"
"""The migrations folder of ``Migrate(app, db)`` when it names none."""
SCAN_BESIDE = functools.partial(Aside, timeout=30.0)
"""Scans half of many unread files in a forked copy; after 30 s without its answer, here."""


@dataclass(frozen=True)
class MigrationProject:
    """Where an app's revision files live and which databases follow them."""

    directory: str
    version_locations: tuple[str, ...]
    recursive_version_locations: bool
    sourceless: bool
    multidb: bool
    targets: tuple[DatabaseTarget, ...]

    @property
    def folders(self) -> ScriptConfig:
        """Where the revision files live, as ``alembic.ini`` says."""
        return ScriptConfig(
            self.directory,
            self.version_locations,
            self.recursive_version_locations,
            self.sourceless,
        )

    def load_graph(self, early: PendingScan | None = None) -> RevisionGraph:
        """Scan the version folders and build the graph; unreadable files become diagnostics.

        ``early`` is a scan started before the app was loaded (``start_folder_scan``): its
        result is taken when it scanned exactly these folders, else it is stopped and the
        folders are scanned again.
        """
        folders = (self.version_locations, self.recursive_version_locations, self.sourceless)
        wanted = scan_settings(*folders, default_cache_path(self.version_locations))
        if early is not None and early.settings != wanted:
            early.close()
            early = None
        scanned = (early or _start_scan(*folders)).result()
        return build_graph(scanned.revisions, scanned.diagnostics)


def start_folder_scan(script_location: str) -> PendingScan | None:
    """Start scanning a migrations folder's revision files, before the app is even loaded.

    None when its ``alembic.ini`` cannot be read: the command reports that once it runs.
    """
    try:
        folders = read_folders(script_location)
    except WorkbenchError:
        return None
    return _start_scan(folders.version_locations, folders.recursive, folders.sourceless)


def _start_scan(
    version_locations: tuple[str, ...], recursive: bool, sourceless: bool
) -> PendingScan:
    """The product's scan: cached under the user's cache folder, shared with a forked copy."""
    cache_path = default_cache_path(version_locations)
    return start_scan(
        version_locations,
        recursive,
        sourceless,
        cache=ScanCache.load(cache_path) if cache_path else None,
        beside=SCAN_BESIDE,
    )


def load_project(app: Any, directory: str | None = None) -> MigrationProject:
    """Describe the app's migration project without importing any revision file.

    The version folders come from ``alembic.ini`` read with configparser: Alembic's own
    Config would load its runtime, which nothing here needs.
    """
    extension = migration_extension(app)
    script_location = str(directory or extension.directory)
    folders = read_folders(script_location)
    multidb = is_multidb(script_location)
    return MigrationProject(
        directory=folders.script_location,
        version_locations=folders.version_locations,
        recursive_version_locations=folders.recursive,
        sourceless=folders.sourceless,
        multidb=multidb,
        targets=tuple(database_targets(app, extension, multidb)),
    )


def read_folders(script_location: str) -> ScriptConfig:
    """The migrations folder and its version folders, from its ``alembic.ini``; no app needed."""
    require_migrations_folder(script_location)
    try:
        return read_script_config(
            os.path.join(script_location, "alembic.ini"), script_location=script_location
        )
    except (OSError, ValueError, configparser.Error) as exc:
        raise WorkbenchError(f"cannot read {script_location}/alembic.ini: {exc}") from exc


def migration_extension(app: Any) -> Any:
    """The app's ``Migrate`` state, ours or Flask-Migrate's: read by attributes, not class."""
    extension = app.extensions.get("migrate")
    if extension is None:
        raise WorkbenchError(
            f"the app {app.name!r} does not use Migrate: add `Migrate(app, db)` to it"
        )
    return extension


def require_migrations_folder(location: str) -> None:
    """Fail with the fix in the message when the migrations folder does not exist."""
    if not os.path.isdir(location):
        raise WorkbenchError(
            f"no migrations folder at {location!r}: run `flask db init` to create it"
        )


def is_multidb(script_location: str) -> bool:
    """True when the folder's revision template has one upgrade function per database."""
    template = os.path.join(script_location, "script.py.mako")
    try:
        with open(template, encoding="utf-8") as file:
            return "engine_name" in file.read()
    except OSError:
        return False


def database_targets(app: Any, extension: Any, multidb: bool) -> list[DatabaseTarget]:
    """The default database, each bind when the project migrates binds, and the extra ones."""
    configure_args = extension.configure_args
    version_table = configure_args.get("version_table") or "alembic_version"
    version_table_schema = configure_args.get("version_table_schema")
    engines = _engines(extension.db)
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


def _engines(db: Any) -> dict[str | None, Any]:
    """The app's engines by bind key (None is the default), for any Flask-SQLAlchemy version."""
    engines = getattr(db, "engines", None)
    if engines is not None:
        return dict(engines)
    return {None: db.get_engine()}
