"""The pre-commit hooks: their entries run as pre-commit runs them, in a real git repository."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from test_ci_formats import CREATE_ACCOUNTS, MODELS, RISKY, RISKY_DOWN, write_revision

pytestmark = pytest.mark.flask_in_process

HOOKS_FILE = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def hook_entries() -> dict[str, list[str]]:
    """Each hook's entry as arguments, read from .pre-commit-hooks.yaml (no YAML library)."""
    entries: dict[str, list[str]] = {}
    hook = None
    for line in HOOKS_FILE.read_text().splitlines():
        if line.startswith("- id: "):
            hook = line.removeprefix("- id: ").strip()
        elif line.strip().startswith("entry: ") and hook:
            entries[hook] = shlex.split(line.strip().removeprefix("entry: "))
    return entries


def git(project, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=project.path,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repository(make_project):
    project = make_project(models=MODELS)
    project.db("init")
    write_revision(project, "r1", None, CREATE_ACCOUNTS, 'op.drop_table("accounts")')
    git(project, "init", "-q")
    git(project, "add", "app.py", "models.py", "migrations")
    git(project, "commit", "-q", "-m", "first")
    return project


def run_hook(project, hook: str, expect: int):
    arguments = hook_entries()[hook]
    assert arguments[:2] == ["flask", "db"]
    return project.db(*arguments[2:], expect=expect)


def test_the_hooks_file_offers_both_hooks():
    assert set(hook_entries()) == {"migrations-one-head", "migrations-review"}
    text = HOOKS_FILE.read_text()
    assert text.count("  language: system") == 2
    assert text.count("  pass_filenames: false") == 2


def test_review_hook_reviews_only_the_revisions_the_commit_adds(repository):
    quiet = run_hook(repository, "migrations-review", expect=0)
    assert quiet.stdout == "No revision file added.\n"
    write_revision(repository, "r2", "r1", RISKY, RISKY_DOWN)
    git(repository, "add", "migrations/versions/r2_rev.py")
    result = run_hook(repository, "migrations-review", expect=1)
    lines = result.stdout.splitlines()
    assert lines[0] == ("Reviewed revision r2 (migrations/versions/r2_rev.py): 1 block, 2 warn."), (
        result.stdout
    )
    assert "r1" not in result.stdout
    git(repository, "commit", "-q", "-m", "risky")
    write_revision(repository, "r3", "r2", 'op.add_column("accounts", sa.Column("x", sa.Integer))')
    git(repository, "add", "migrations/versions/r3_rev.py")
    clean = run_hook(repository, "migrations-review", expect=0)
    assert clean.stdout == ("Reviewed revision r3 (migrations/versions/r3_rev.py): no findings.\n")


def test_review_added_between_refs_as_in_ci(repository):
    git(repository, "branch", "-q", "base")
    write_revision(repository, "r2", "r1", RISKY, RISKY_DOWN)
    git(repository, "add", "migrations/versions/r2_rev.py")
    git(repository, "commit", "-q", "-m", "risky")
    env = {"PRE_COMMIT_FROM_REF": "base", "PRE_COMMIT_TO_REF": "HEAD"}
    result = repository.db("review", "--added", "--format", "github", env=env, expect=1)
    files = {line.split(",")[0] for line in result.stdout.splitlines()}
    assert files == {
        "::warning file=migrations/versions/r2_rev.py",
        "::error file=migrations/versions/r2_rev.py",
    }


def test_one_head_hook(repository):
    run_hook(repository, "migrations-one-head", expect=0)
    write_revision(repository, "r2a", "r1")
    write_revision(repository, "r2b", "r1")
    result = run_hook(repository, "migrations-one-head", expect=1)
    assert "r2a" in result.stdout and "r2b" in result.stdout
    assert "flask db merge" in result.stdout


def test_review_added_outside_git_is_one_line_error(make_project, assert_one_line_error):
    project = make_project()
    project.db("init")
    result = project.db("review", "--added", expect=1)
    assert "cannot list the added revision files" in assert_one_line_error(result)
