"""``python -m workbench demo``: make (or reopen) the demo project, say where it is, open it."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.demo.build import DemoProject
from workbench.errors import WorkbenchError

DEFAULT_FOLDER = "workbench-demo"


def open_workbench(folder: Path) -> None:
    """Open the workbench on a demo project the way ``cd <folder> && flask db tui`` does.

    The workbench's child processes load the app from ``FLASK_APP`` in the current folder, so
    this process moves into the project and names its app the same way.
    """
    from flask.cli import NoAppException, ScriptInfo

    try:
        from workbench.tui.app import run_workbench
    except ImportError as exc:
        raise WorkbenchError(f"cannot open the workbench: {exc}") from exc
    os.chdir(folder)
    os.environ["FLASK_APP"] = "app"
    try:
        app = ScriptInfo(app_import_path="app").load_app()
    except NoAppException as exc:
        raise WorkbenchError(exc.format_message()) from exc
    from workbench.project.flask import FlaskProject

    with app.app_context():
        project = FlaskProject(app).describe()
        run_workbench(
            project, command_group=f"{flask_command()} db", app_import_path="app", read_only=False
        )


def summary(demo: DemoProject) -> Sequence[str]:
    """The lines printed once the demo is ready: where it is, how it was made, how to open it."""
    folder = demo.folder
    made = {
        "created": f"Created the demo project in {folder}",
        "rebuilt": f"Rebuilt the demo project in {folder} (the previous one is deleted)",
        "reopened": (
            f"Reopening the demo project in {folder} as it was left "
            "(--rebuild makes it again from scratch)"
        ),
    }[demo.made]
    return (made, f"Open it with: cd {shlex.quote(str(folder))} && {flask_command()} db tui")


def flask_command() -> str:
    """How to run this Python's ``flask`` from any shell, as printed for the user to type.

    The ``flask`` on the shell's PATH may be another environment's (or none, when the venv is
    not activated), so the hint names this environment's own unless PATH finds that one.
    """
    beside = Path(sys.executable).parent / "flask"
    if beside.is_file() and os.access(beside, os.X_OK):
        on_path = shutil.which("flask")
        if on_path is not None and Path(on_path).resolve() == beside.resolve():
            return "flask"
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m flask"
