"""What a migration project is, whatever hosts it: its folders, its databases, how env.py runs.

Two views of one project. ``MigrationProject`` is its description: where the revision files
live and which databases follow them; plain data, cheap to build (no revision file and no
Alembic runtime imported) and small enough to send between processes. ``LoadedProject`` is the
project loaded in this process, where its env.py can run: it makes Alembic ``Config`` objects,
hands env.py a hook for each applied step, knows its databases' passwords and dialects and
can point them at scratch databases. ``workbench.project.flask`` implements both for a Flask
app with ``Migrate``; services take a ``LoadedProject`` and never see what hosts it.
"""

from __future__ import annotations

import abc
import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.core import graph as graph_module
from workbench.core import layout as layout_module
from workbench.core import scan as scan_module
from workbench.core import scanned as scanned_module
from workbench.core.databases import DatabaseTarget
from workbench.core.files import FileIdentity
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.layout import from_kept_record, kept_record
from workbench.core.scan import (
    Beside,
    PendingScan,
    ScriptConfig,
    read_script_config,
    scan_settings,
    start_scan,
)
from workbench.core.scan_cache import ScanCache, default_cache_path
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from workbench.core.verify import ScratchDatabases, ScratchInfo


def scan_beside(work: Callable[[], bytes]) -> Beside:
    """Scans half of many unread files in a forked copy; after 30 s without its answer, here.

    The forking machinery is imported only when a scan has that many files to read.
    """
    from workbench.runtime.forking import Aside

    return Aside(work, timeout=30.0)


XArg = str | Iterable[str] | None
"""``-x`` values for env.py: one, several, or none."""

VersionApplied = Callable[..., None]
"""An ``on_version_apply`` callback: ``(ctx, step, heads, run_args)`` as Alembic calls it."""


class MigrationProject(NamedTuple):
    """Where a project's revision files live and which databases follow them."""

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

    @property
    def migrated_targets(self) -> tuple[DatabaseTarget, ...]:
        """The databases the project migrates (not those it only watches)."""
        return tuple(target for target in self.targets if not target.read_only)

    def load_graph(
        self,
        early: PendingScan | None = None,
        identities: Mapping[str, FileIdentity] | None = None,
    ) -> RevisionGraph:
        """Scan the version folders and build the graph; unreadable files become diagnostics.

        ``early`` is a scan started before the project was loaded (``start_folder_scan``): its
        result is taken when it scanned exactly these folders, else it is stopped and the
        folders are scanned again. ``identities`` are files' identities just read (a stat
        walk of the folders): the scan's cache takes them as they are.
        """
        folders = (self.version_locations, self.recursive_version_locations, self.sourceless)
        wanted = scan_settings(*folders, default_cache_path(self.version_locations))
        if early is not None and early.settings != wanted:
            early.close()
            early = None
        pending = early or _start_scan(*folders, identities)
        if pending.recalled is not None:
            return from_kept_record(pending.recalled)
        scanned = pending.result()
        graph = build_graph(scanned.revisions, scanned.diagnostics)
        pending.keep(lambda: kept_record(graph))
        return graph


def start_folder_scan(script_location: str) -> PendingScan | None:
    """Start scanning a migrations folder's revision files, before its project is even loaded.

    None when its ``alembic.ini`` cannot be read: the command reports that once it runs.
    """
    try:
        folders = read_folders(script_location)
    except WorkbenchError:
        return None
    return _start_scan(folders.version_locations, folders.recursive, folders.sourceless)


def _start_scan(
    version_locations: tuple[str, ...],
    recursive: bool,
    sourceless: bool,
    identities: Mapping[str, FileIdentity] | None = None,
) -> PendingScan:
    """The product's scan: cached under the user's cache folder, shared with a forked copy.

    The cache also keeps the graph built from the scan, laid out (``load_graph``).
    """
    cache_path = default_cache_path(version_locations)
    return start_scan(
        version_locations,
        recursive,
        sourceless,
        cache=ScanCache.load(cache_path, identities, _graph_code()) if cache_path else None,
        beside=scan_beside,
    )


@functools.cache
def _graph_code() -> tuple[object, ...] | None:
    """What builds and lays out a kept graph: each module's file and its identity (None: unknown).

    A kept graph is worked out by this code from the files; other code (an upgrade, an edit of
    a checkout) may work out another, so it is never served to it. Read once per process, as
    the modules were imported: a file edited while a workbench runs is not the code it runs.
    """
    stamps: list[object] = []
    for path in (
        scan_module.__file__,
        scanned_module.__file__,
        graph_module.__file__,
        layout_module.__file__,
    ):
        try:
            status = os.stat(path or "")
        except OSError:
            return None
        stamps.append((path, status.st_mtime_ns, status.st_size))
    return tuple(stamps)


class LoadedProject(abc.ABC):
    """A migration project loaded in this process: its env.py can run here, through Alembic.

    ``directory`` is the migrations folder (Alembic's ``script_location``) the project's
    commands work on; it need not exist yet (``init`` creates it).
    """

    directory: str

    @abc.abstractmethod
    def describe(self) -> MigrationProject:
        """The project's folders and databases; fails in one line when the folder is missing."""

    @abc.abstractmethod
    def alembic_config(self, x_arg: XArg = None, opts: Sequence[str] = ()) -> AlembicConfig:
        """The Alembic Config of the migrations folder, with ``-x`` values and flags set.

        ``opts`` names flags set on ``cmd_opts`` (``autogenerate``). The folder must exist.
        """

    @abc.abstractmethod
    def init_config(self, template_directory: str | None) -> AlembicConfig:
        """The Config that creates the migrations folder, templates read from the folder given."""

    @abc.abstractmethod
    def version_apply_hook(self, callback: VersionApplied) -> AbstractContextManager[None]:
        """While the block runs, env.py calls ``callback`` after each applied step too.

        The hook is installed for one command: one command's hooks never leak into the next
        one run in the same process.
        """

    @abc.abstractmethod
    def passwords(self) -> list[str]:
        """The passwords of the project's database URLs, so that no message shows them."""

    @abc.abstractmethod
    def dialects(self, multidb: bool) -> list[tuple[str, Any]]:
        """(name, SQLAlchemy dialect) of each migrated database, without connecting.

        Only the default database unless ``multidb``.
        """

    def migration_settings(self) -> Mapping[str, Any]:
        """The project's own migration lock and timeout settings (``lock``, ``lock_wait``,
        ``lock_timeout``, ``statement_timeout``); none unless the project sets them."""
        return {}

    @abc.abstractmethod
    def on_scratch(
        self, scratch: ScratchDatabases, multidb: bool
    ) -> AbstractContextManager[Callable[[], list[ScratchInfo]]]:
        """Point the migrated databases at scratch ones while the block runs.

        Each call of the function it yields makes a fresh set, created by ``scratch``, and
        says which; the real databases come back at the end of the block.
        """


def read_folders(script_location: str, init_command: str | None = None) -> ScriptConfig:
    """The migrations folder and its version folders, from its ``alembic.ini``.

    Read with configparser: Alembic's own Config would load its runtime, which nothing here
    needs. ``init_command``, when given, is the command that creates a missing folder.
    """
    import configparser

    require_migrations_folder(script_location, init_command)
    try:
        return read_script_config(
            os.path.join(script_location, "alembic.ini"), script_location=script_location
        )
    except (OSError, ValueError, configparser.Error) as exc:
        raise WorkbenchError(f"cannot read {script_location}/alembic.ini: {exc}") from exc


def require_migrations_folder(location: str, init_command: str | None = None) -> None:
    """Fail in one line when the migrations folder does not exist, with the fix when known."""
    if not os.path.isdir(location):
        fix = f": run `{init_command}` to create it" if init_command else ""
        raise WorkbenchError(f"no migrations folder at {location!r}{fix}")


def is_multidb(script_location: str) -> bool:
    """True when the folder's revision template has one upgrade function per database."""
    template = os.path.join(script_location, "script.py.mako")
    try:
        with open(template, encoding="utf-8") as file:
            return "engine_name" in file.read()
    except OSError:
        return False
