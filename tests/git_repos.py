"""Git repositories for the tests: a fixed identity, no user configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENVIRONMENT = {
    "GIT_AUTHOR_NAME": "Workbench Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Workbench Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(folder: Path, *args: str) -> str:
    """Run git in a folder with a fixed identity and no user configuration; its output."""
    result = subprocess.run(
        ["git", *args],
        cwd=folder,
        env={**os.environ, **GIT_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def git_init(folder: Path) -> None:
    """A new repository on branch ``main`` that ignores SQLite files and bytecode."""
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text("*.sqlite\n__pycache__/\n")


def commit_all(folder: Path, message: str) -> None:
    """Stage everything and commit it."""
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)
