"""``python -m workbench``: its help, its folder rules and its one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_in_process import run_workbench_in_process


def files_and_contents(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (relative name) with its bytes, but Python's bytecode caches.

    Running the demo's migrations writes ``__pycache__`` beside them unless
    ``PYTHONDONTWRITEBYTECODE`` is set, each file stamped with its source's time.
    """
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def run_workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench *args`` in a folder, in process (see ``flask_in_process``).

    None of these tests is about the process: ``test_making_the_demo_does_not_import_textual``
    starts its own.
    """
    return run_workbench_in_process(cwd, args, dict(os.environ))


def test_help_shows_a_usage_line_and_the_demo_command(tmp_path):
    result = run_workbench("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: python -m workbench ")
    assert "demo" in result.stdout
    assert "tui" in result.stdout

    demo_help = run_workbench("demo", "--help", cwd=tmp_path)
    assert demo_help.returncode == 0
    assert demo_help.stdout.startswith(
        "usage: python -m workbench demo [-h] [--no-open] [--rebuild] [FOLDER]"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [(), ("frobnicate",), ("demo", "--open-wide"), ("demo", "one", "two")],
    ids=["no-command", "unknown-command", "unknown-option", "two-folders"],
)
def test_bad_input_is_one_error_line(tmp_path, assert_one_line_error, args):
    result = run_workbench(*args, cwd=tmp_path)
    assert_one_line_error(result)
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_second_run_reopens_the_demo_as_it_was_left(tmp_path):
    first = run_workbench("demo", "--no-open", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "workbench-demo"
    assert first.stdout.splitlines()[0] == f"Created the demo project in {folder}"
    (folder / "notes.txt").write_text("mine")
    before = files_and_contents(folder)

    second = run_workbench("demo", "--no-open", cwd=tmp_path)

    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    assert second.stdout.splitlines() == [
        f"Reopening the demo project in {folder} as it was left "
        "(--rebuild makes it again from scratch)",
        first.stdout.splitlines()[1],
    ]
    assert files_and_contents(folder) == before
    assert [path.name for path in tmp_path.iterdir()] == ["workbench-demo"]


def test_rebuild_makes_the_demo_again_from_scratch(tmp_path):
    assert run_workbench("demo", "shop", "--no-open", cwd=tmp_path).returncode == 0
    folder = tmp_path / "shop"
    made = files_and_contents(folder)
    (folder / "notes.txt").write_text("mine")
    (folder / "shop.db").unlink()
    next(folder.glob("migrations/versions/*.py")).unlink()

    result = run_workbench("demo", "shop", "--no-open", "--rebuild", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"Rebuilt the demo project in {folder} (the previous one is deleted)"
    )
    assert files_and_contents(folder).keys() == made.keys()
    assert {
        name: content for name, content in files_and_contents(folder).items() if ".db" not in name
    } == {name: content for name, content in made.items() if ".db" not in name}
    assert [path.name for path in tmp_path.iterdir()] == ["shop"]


def test_a_folder_holding_something_else_is_refused(tmp_path, assert_one_line_error):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "README.md").write_text("# My project\n")

    for args in ((), ("--rebuild",)):
        result = run_workbench("demo", "mine", "--no-open", *args, cwd=tmp_path)
        line = assert_one_line_error(result)
        assert str(folder) in line and "not empty" in line
    assert files_and_contents(folder) == {"README.md": b"# My project\n"}
    assert [path.name for path in tmp_path.iterdir()] == ["mine"]


def test_the_printed_command_opens_the_demo_from_a_shell_without_the_venv(tmp_path):
    result = run_workbench("demo", "--no-open", cwd=tmp_path)
    hint = result.stdout.splitlines()[1]
    assert hint.startswith("Open it with: cd ") and hint.endswith(" db tui")
    command = hint.removeprefix("Open it with: ")
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("FLASK_")
    }
    # No venv on PATH, as after creating one without activating it (the README's way).
    environment["PATH"] = "/usr/bin:/bin"
    environment.pop("VIRTUAL_ENV", None)

    # `--help` stops the command where the workbench would take over the screen.
    shell = subprocess.run(
        ["/bin/sh", "-c", f"{command} --help"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.startswith("Usage: ") and " db tui [OPTIONS]" in shell.stdout
    assert "Open the migration workbench" in shell.stdout


def test_an_empty_folder_is_used_and_a_file_is_refused(tmp_path, assert_one_line_error):
    (tmp_path / "empty").mkdir()
    result = run_workbench("demo", "empty", "--no-open", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "empty" / "migrations" / "env.py").is_file()

    (tmp_path / "notes.txt").write_text("keep me")
    line = assert_one_line_error(run_workbench("demo", "notes.txt", "--no-open", cwd=tmp_path))
    assert "not a folder" in line
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_making_the_demo_does_not_import_textual(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from workbench.__main__ import main\n"
            "status = main(['demo', 'quiet', '--no-open'])\n"
            "print(status, sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"
