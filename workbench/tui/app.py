"""The migration workbench app, and the ways in: ``make_app``, ``run_workbench``, ``run_preloaded``.

``make_app`` is the one factory the CLI and the tests use; ``run_workbench`` is what
``flask db tui`` calls on the project it described, and ``run_preloaded`` what it calls
with what its forked child loaded (``workbench.tui.prefork``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.core.databases import DatabaseStatus
from workbench.project import MigrationProject
from workbench.tui.crash import run_app
from workbench.tui.history import History
from workbench.tui.operations import WorkbenchOperations
from workbench.tui.viewer import POLL_SECONDS

if TYPE_CHECKING:
    from workbench.tui.prefork import Preloaded


class WorkbenchApp(WorkbenchOperations):
    """The migration workbench for one project: the viewer plus the writing actions."""

    CSS_PATH = "workbench.tcss"


def make_app(
    project: MigrationProject,
    *,
    app_import_path: str | None = None,
    project_folder: str | None = None,
    read_only: bool = False,
    poll_seconds: float = POLL_SECONDS,
    history: History | None = None,
    statuses: Sequence[DatabaseStatus] | None = None,
) -> WorkbenchApp:
    """Build the workbench for a project.

    ``app_import_path`` and ``project_folder`` (default: the current folder) tell the runner's
    child process how to load the Flask app, as ``flask`` did. A ``history`` (and the
    ``statuses`` read on it) already loaded are shown at once, instead of read after mounting.
    """
    return WorkbenchApp(
        project,
        app_import_path=app_import_path,
        project_folder=project_folder,
        read_only=read_only,
        poll_seconds=poll_seconds,
        history=history,
        statuses=statuses,
    )


def run_workbench(
    project: MigrationProject, *, app_import_path: str | None, read_only: bool
) -> None:
    """Run the workbench on a project described in this process.

    A crash raises ``WorkbenchError`` naming the log file that holds its traceback.
    """
    run_app(lambda: make_app(project, app_import_path=app_import_path, read_only=read_only))


def run_preloaded(preloaded: Preloaded, *, app_import_path: str | None, read_only: bool) -> None:
    """Run the workbench on the project, history and statuses a forked child loaded.

    A crash raises ``WorkbenchError`` naming the log file that holds its traceback.
    """
    run_app(
        lambda: make_app(
            preloaded.project,
            app_import_path=app_import_path,
            read_only=read_only,
            history=preloaded.history,
            statuses=preloaded.statuses,
        )
    )
