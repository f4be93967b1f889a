"""The migration workbench app, and the two ways in: ``make_app`` and ``run_workbench``.

``make_app`` is the one factory the CLI and the tests use; ``run_workbench`` is what
``flask db tui`` calls inside the Flask app's context.
"""

from __future__ import annotations

from typing import Any

from workbench.project import MigrationProject, load_project
from workbench.tui.operations import WorkbenchOperations
from workbench.tui.viewer import POLL_SECONDS


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
) -> WorkbenchApp:
    """Build the workbench for a project.

    ``app_import_path`` and ``project_folder`` (default: the current folder) tell the runner's
    child process how to load the Flask app, as ``flask`` did.
    """
    return WorkbenchApp(
        project,
        app_import_path=app_import_path,
        project_folder=project_folder,
        read_only=read_only,
        poll_seconds=poll_seconds,
    )


def run_workbench(
    app: Any, *, app_import_path: str | None, directory: str | None, read_only: bool
) -> None:
    """Describe the Flask app's project (inside its app context) and run the workbench on it."""
    project = load_project(app, directory)
    make_app(project, app_import_path=app_import_path, read_only=read_only).run()
