"""`flask db merge`, `linearize` and `doctor` on git branches that met, as their users run them."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from branch_histories import load_graph, write_revision
from flask_projects import flask_environment
from git_repos import commit_all, git, git_init

pytestmark = pytest.mark.flask_in_process

SQLITE_AND_POSTGRESQL = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


def add_column_revision(project, rev_id: str, column: str, down: str = "aaaa0001") -> Path:
    """A revision adding a column to ``user`` (dropped batch-style on downgrade)."""
    return write_revision(
        project.migrations / "versions",
        rev_id,
        down,
        f"op.add_column('user', sa.Column('{column}', sa.String(length=40)))",
        f"""\
        with op.batch_alter_table('user') as batch_op:
            batch_op.drop_column('{column}')
        """,
        message=f"add {column}",
    )


def base_history(project) -> None:
    """A git repository on main: the user table in aaaa0001, applied to the database."""
    git_init(project.path)
    project.db("init")
    write_revision(
        project.migrations / "versions",
        "aaaa0001",
        None,
        """\
        op.create_table('user',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('name', sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint('id'))
        """,
        "op.drop_table('user')",
        message="users",
    )
    project.db("upgrade")
    commit_all(project.path, "users")


def two_feature_branches(project) -> None:
    """feature-a adds user.email, feature-b adds user.phone; git merges both into main."""
    base_history(project)
    git(project.path, "checkout", "-q", "-b", "feature-a")
    add_column_revision(project, "bbbb0002", "email")
    commit_all(project.path, "email")
    git(project.path, "checkout", "-q", "-b", "feature-b", "main")
    add_column_revision(project, "cccc0003", "phone")
    commit_all(project.path, "phone")
    git(project.path, "checkout", "-q", "main")
    git(project.path, "merge", "-q", "--no-edit", "feature-a", "feature-b")
    assert load_graph(project.migrations / "versions").heads == ("bbbb0002", "cccc0003")


def user_columns(project) -> set[str]:
    with project.connect() as connection:
        return {column["name"] for column in sa.inspect(connection).get_columns("user")}


@SQLITE_AND_POSTGRESQL
def test_merge_heads_of_two_git_branches_then_upgrade(make_project):
    project = make_project()
    two_feature_branches(project)
    before = project.snapshot()

    dry = project.db("merge", "heads", "-m", "join", "--dry-run")

    assert project.snapshot() == before
    assert "Heads: bbbb0002 (add email), cccc0003 (add phone)" in dry.stdout
    assert "Common ancestor: aaaa0001 (users)" in dry.stdout
    assert "Conflicts: none found" in dry.stdout
    assert "Merge revision: <new merge> 'join', down_revision = ('bbbb0002', 'cccc0003')" in (
        dry.stdout
    )
    assert "3 revisions: " in dry.stdout and "-> <new merge>" in dry.stdout
    assert dry.stdout.rstrip().endswith("Dry run: nothing written.")

    merged = project.db("merge", "heads", "-m", "join", "--rev-id", "dddd0004")

    assert merged.stdout.index("Conflicts: none found") < merged.stdout.index("Generating")
    assert (
        "down_revision = ('bbbb0002', 'cccc0003')"
        in (project.migrations / "versions" / "dddd0004_join.py").read_text()
    )
    assert load_graph(project.migrations / "versions").heads == ("dddd0004",)
    project.db("upgrade")
    assert project.state().versions == {"dddd0004"}
    assert {"email", "phone"} <= user_columns(project)
    assert project.db("doctor").stdout == "No problems found.\n"


@SQLITE_ONLY
@pytest.mark.parametrize("group", ["db", "database"])
def test_flask_doctor_names_the_fixes_with_the_flask_group_typed(make_project, group):
    project = make_project(migrate_kwargs={"command": group})
    two_feature_branches(project)
    flask = Path(sys.executable).parent / "flask"

    report = subprocess.run(
        [str(flask), group, "doctor"],
        cwd=project.path,
        env=flask_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert report.returncode == 1, report.stderr
    assert f'  fix: flask {group} merge heads -m "merge heads"\n' in report.stdout
    assert f"  or:  flask {group} linearize bbbb0002 --onto cccc0003\n" in report.stdout


@SQLITE_AND_POSTGRESQL
def test_linearize_one_git_branch_onto_the_other_then_upgrade(make_project, assert_one_line_error):
    project = make_project()
    two_feature_branches(project)
    moved = project.migrations / "versions" / "cccc0003_add_phone.py"
    original = moved.read_bytes()
    before = project.snapshot()

    dry = project.db("linearize", "cccc0003", "--onto", "bbbb0002", "--dry-run")
    asked = project.db("linearize", "cccc0003", "--onto", "bbbb0002", input="y\n", expect=None)

    assert project.snapshot() == before
    assert "gets down_revision = 'bbbb0002' instead of 'aaaa0001'" in dry.stdout
    graph_lines = dry.stdout.split("The history after the rewrite:\n")[1].splitlines()
    assert [line.split()[1] for line in graph_lines[:3]] == ["cccc0003", "bbbb0002", "aaaa0001"]
    assert "--yes" in assert_one_line_error(asked)

    done = project.db("linearize", "cccc0003", "--onto", "bbbb0002", "--yes")

    assert "Rewrote migrations/versions/cccc0003_add_phone.py; one head: cccc0003" in done.stdout
    assert moved.read_bytes() == original.replace(
        b"down_revision = 'aaaa0001'", b"down_revision = 'bbbb0002'"
    ).replace(b"Revises: aaaa0001", b"Revises: bbbb0002")
    assert load_graph(project.migrations / "versions").heads == ("cccc0003",)
    upgraded = project.db("upgrade")
    assert upgraded.stderr.index("-> bbbb0002") < upgraded.stderr.index("-> cccc0003")
    assert project.state().versions == {"cccc0003"}
    assert {"email", "phone"} <= user_columns(project)
    assert project.db("doctor").stdout == "No problems found.\n"


@SQLITE_ONLY
def test_linearize_is_refused_when_a_database_applied_the_branch(
    make_project, assert_one_line_error
):
    project = make_project()
    two_feature_branches(project)
    project.db("upgrade", "cccc0003")
    before = project.snapshot()

    refused = project.db("linearize", "cccc0003", "--onto", "bbbb0002", "--yes", expect=None)

    line = assert_one_line_error(refused)
    assert "cannot linearize: database default has applied cccc0003" in line
    assert project.snapshot() == before
    project.db("linearize", "bbbb0002", "--onto", "cccc0003", "--dry-run")


@SQLITE_ONLY
def test_conflicting_branches_are_reported_with_both_revisions_and_lines(make_project):
    project = make_project()
    base_history(project)
    versions = project.migrations / "versions"
    write_revision(
        versions,
        "bbbb0002",
        "aaaa0001",
        "op.alter_column('user', 'name', existing_type=sa.String(length=64), nullable=False)",
        message="name required",
    )
    write_revision(
        versions,
        "cccc0003",
        "aaaa0001",
        "op.alter_column('user', 'name', type_=sa.String(length=200))",
        message="longer name",
    )

    plan = project.db("merge", "heads", "--dry-run").stdout

    assert "Conflicts (1):" in plan
    assert (
        "column user.name changed on both branches: "
        "alter_column user.name in bbbb0002 (bbbb0002_name_required.py line 20); "
        "alter_column user.name in cccc0003 (cccc0003_longer_name.py line 20)"
    ) in plan
    assert plan.index("Conflicts (1):") < plan.index("Merge revision")


@SQLITE_ONLY
def test_doctor_names_the_git_branch_a_database_was_upgraded_from(make_project):
    project = make_project()
    base_history(project)
    git(project.path, "checkout", "-q", "-b", "feature-x")
    add_column_revision(project, "bbbb0002", "email")
    commit_all(project.path, "email")
    project.db("upgrade")
    git(project.path, "checkout", "-q", "main")

    report = project.db("doctor", expect=1)
    (problem,) = json.loads(project.db("doctor", "--json", expect=1).stdout)

    assert "database default (sqlite:///" in report.stdout
    assert "stands on bbbb0002, which no revision file here has" in report.stdout
    assert "bbbb0002 is on branch feature-x (migrations/versions/bbbb0002_add_email.py)" in (
        report.stdout
    )
    # named as the test runs the group: ``python -m flask db``
    assert "  fix: python -m flask db stamp --purge aaaa0001\n" in report.stdout
    assert problem["kind"] == "unknown_revision" and problem["severity"] == "error"
    assert problem["database"] == "default" and problem["revisions"] == ["bbbb0002"]
    assert problem["fix_command"] == "python -m flask db stamp --purge aaaa0001"
    assert problem["stamp_target"] == "aaaa0001"
    assert problem["other_fixes"] == [
        "git checkout feature-x && python -m flask db downgrade aaaa0001"
    ]

    git(project.path, "checkout", "-q", "feature-x")
    project.db("downgrade", "aaaa0001")
    git(project.path, "checkout", "-q", "main")
    assert project.db("doctor").stdout == "No problems found.\n"


@SQLITE_ONLY
def test_multidb_merge_revisions_carry_every_bind_function(make_project):
    project = make_project(binds=["users"], models="from app import db\n")
    project.db("init", "--multidb")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002")
    project.db("revision", "-m", "side", "--rev-id", "cccc0003", "--head", "aaaa0001", "--splice")
    project.db("upgrade", "aaaa0001")

    plan = project.db("merge", "heads", "--dry-run").stdout
    project.db("merge", "heads", "-m", "join", "--rev-id", "dddd0004")

    assert "upgrade default (" in plan and "upgrade users (" in plan
    assert plan.count("3 revisions: ") == 2
    merge = (project.migrations / "versions" / "dddd0004_join.py").read_text()
    for function in ("upgrade_", "downgrade_", "upgrade_users", "downgrade_users"):
        assert f"\ndef {function}():\n    pass\n" in merge
    assert "down_revision = ('bbbb0002', 'cccc0003')" in merge
    project.db("upgrade")
    assert project.state().versions == project.state("users").versions == {"dddd0004"}


def run_in_terminal(folder: Path, args: list[str], answer: str) -> tuple[int, str]:
    """Run ``flask *args`` with a terminal as its standard streams; answer its prompt."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    environment.update(FLASK_APP="app", PYTHONDONTWRITEBYTECODE="1")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=folder,
        env=environment,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 0.2)[0]:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if b"[y/N]" in output and answer:
                os.write(controller, answer.encode() + b"\n")
                answer = ""
        return process.wait(timeout=30), output.decode()
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()


@SQLITE_ONLY
def test_linearize_asks_on_a_terminal_and_a_no_writes_nothing(make_project):
    project = make_project()
    two_feature_branches(project)
    moved = project.migrations / "versions" / "cccc0003_add_phone.py"
    original = moved.read_bytes()
    args = ["db", "linearize", "cccc0003", "--onto", "bbbb0002"]

    declined, declined_output = run_in_terminal(project.path, args, "n")
    assert declined == 1 and "Error: cancelled; nothing written" in declined_output
    assert moved.read_bytes() == original

    accepted, accepted_output = run_in_terminal(project.path, args, "y")
    assert accepted == 0, accepted_output
    assert "Rewrite migrations/versions/cccc0003_add_phone.py? [y/N]" in accepted_output
    assert b"down_revision = 'bbbb0002'" in moved.read_bytes()
