"""The plain commands stay light: Textual is imported by the TUI only."""

from __future__ import annotations

import ast
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

import workbench.cli
from workbench.core.databases import DatabaseTarget

FLASK_MIGRATE_SUBCOMMANDS = {
    "list-templates",
    "init",
    "revision",
    "migrate",
    "edit",
    "merge",
    "upgrade",
    "downgrade",
    "show",
    "history",
    "heads",
    "branches",
    "current",
    "stamp",
    "check",
}

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


def imported_modules(importtime_stderr: str) -> set[str]:
    """The modules named in ``python -X importtime`` output."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime_stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }


def is_textual(module: str) -> bool:
    return module == "textual" or module.startswith("textual.")


def test_importing_workbench_does_not_import_textual(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, workbench, workbench.cli, workbench.services.commands,"
            " workbench.extension;"
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'textual'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


FLASK_REPORTING_LOADED_MODULES = """\
import atexit
import sys

from flask.cli import main


def report():
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("textual", "workbench"))
    print("loaded:", loaded, file=sys.stderr)


atexit.register(report)
sys.argv = ["flask", *sys.argv[1:]]
main()
"""


@SQLITE_ONLY
def test_plain_commands_do_not_import_textual(make_project):
    project = make_project()
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    for command in (["--help"], ["heads"], ["history"]):
        timed = project.db(*command, python_options=["-X", "importtime"])
        modules = imported_modules(timed.stderr)
        assert "flask" in modules
        assert not [module for module in modules if is_textual(module)]

        result = project.python(FLASK_REPORTING_LOADED_MODULES, args=["db", *command])
        (report,) = [line for line in result.stderr.splitlines() if line.startswith("loaded: ")]
        loaded = ast.literal_eval(report.removeprefix("loaded: "))
        assert "workbench.cli" in loaded
        assert not [module for module in loaded if is_textual(module)]


@SQLITE_ONLY
def test_help_lists_every_flask_migrate_subcommand(make_project):
    project = make_project()
    help_text = project.db("--help").stdout
    commands_section = help_text.split("Commands:", 1)[1]
    listed = set(re.findall(r"^  ([a-z][a-z-]*)\s", commands_section, re.MULTILINE))
    assert listed >= FLASK_MIGRATE_SUBCOMMANDS


UNPICKLE_START_UP_DATA = """\
import pickle
import sys

import workbench.tui.prefork

target = pickle.loads(bytes.fromhex(sys.argv[1]))
print(target.masked_url)
print(sorted({name.split(".")[0] for name in sys.modules} & {"sqlalchemy", "textual"}))
"""


def test_the_tui_start_up_needs_neither_sqlalchemy_nor_textual_to_load(tmp_path):
    """What the forked child sends, and the code that scans beside it, import neither."""
    target = DatabaseTarget("default", "postgresql://reader:s3cret@db.example/app")
    assert target.masked_url == "postgresql://reader:***@db.example/app"

    result = subprocess.run(
        [sys.executable, "-c", UNPICKLE_START_UP_DATA, pickle.dumps(target).hex()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.splitlines() == ["postgresql://reader:***@db.example/app", "[]"]


FIRST_SCREEN_SPARES = (
    "pygments",
    "textual.widgets._rich_log",
    "logging.config",
    "workbench.runtime.requests",
    "workbench.runtime.events",
    "workbench.runtime.warm",
    "workbench.services.running",
    "workbench.core.branches",
    "workbench.core.doctor",
    "workbench.core.linearize",
    "workbench.core.plan",
)
"""What the workbench's first screen never uses: highlighting, the log pane, the child processes,
the planners and the doctor (it speaks once the screen is drawn)."""


def test_the_workbench_app_imports_nothing_its_first_screen_does_not_use(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, workbench.tui.app; print(sorted(sys.modules))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    loaded = ast.literal_eval(result.stdout)
    assert "textual.app" in loaded
    assert not [name for name in loaded if name.startswith(FIRST_SCREEN_SPARES)]


FLASK_FREE = (
    "workbench.project",
    "workbench.services.commands",
    "workbench.services.review",
    "workbench.services.verify",
)


def test_services_and_the_project_interface_import_no_flask(tmp_path):
    """What a project is, and the use cases over one, work for a project without Flask."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {', '.join(FLASK_FREE)};"
            "print(sorted({name.split('.')[0] for name in sys.modules}"
            " & {'flask', 'flask_sqlalchemy', 'click', 'textual'}))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_command_families_name_neither_flask_nor_their_group():
    """Only the group module sees Flask; the families it composes never import it back."""
    families = Path(workbench.cli.__file__).parent
    for module in ("options", "verbs", "inspection", "branches", "review", "console"):
        tree = ast.parse((families / f"{module}.py").read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if name and name.split(".")[0] == "flask"}, module
        assert not imported & {"workbench.cli", "workbench.cli.flask_group"}, module
