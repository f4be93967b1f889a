"""``python -m workbench``: its help, its folder rules and its one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench *args`` in a folder."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_shows_a_usage_line_and_the_demo_command(tmp_path):
    result = run_workbench("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m workbench ")
    assert "demo" in result.stdout

    demo_help = run_workbench("demo", "--help", cwd=tmp_path)
    assert demo_help.returncode == 0
    assert demo_help.stdout.startswith("usage: python -m workbench demo [-h] [--no-open] [FOLDER]")
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


def test_the_default_folder_and_a_second_run_into_it(tmp_path, assert_one_line_error):
    first = run_workbench("demo", "--no-open", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "workbench-demo"
    assert (folder / "app.py").is_file()
    before = sorted(path.relative_to(folder) for path in folder.rglob("*"))

    second = run_workbench("demo", "--no-open", cwd=tmp_path)
    line = assert_one_line_error(second)
    assert str(folder) in line and "not empty" in line
    assert sorted(path.relative_to(folder) for path in folder.rglob("*")) == before
    assert [path.name for path in tmp_path.iterdir()] == ["workbench-demo"]


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
