"""`flask db review`, and the findings `flask db migrate` prints, on every backend."""

from __future__ import annotations

import json
import re

import pytest
from review_projects import (
    NAME_RENAMED,
    SQLITE_ONLY,
    previewed,
    project_files,
    start_project,
    write_revision,
)
from sample_models import NICKNAME_COLUMN

from workbench.runtime.requests import ReviewRevisionRequest

pytestmark = pytest.mark.flask_in_process

PASSWORD = "s3cr3t-review-pw"


def test_review_blocks_a_probable_rename_and_passes_a_nullable_column(make_project, backend):
    project = make_project()
    start_project(project)
    project.write_models(NICKNAME_COLUMN)

    plain = project.db("review", "--json", "--sql")
    document = json.loads(plain.stdout)
    assert document["changes"] is True
    assert document["passed"] is True
    assert [f for f in document["findings"] if f["severity"] in ("block", "warn")] == []
    assert "ADD COLUMN nickname VARCHAR(32)" in document["sql"]["default"]["upgrade"]
    assert document["sql"]["default"]["dialect"] == backend

    project.write_models(NAME_RENAMED)
    before = project.snapshot()
    renamed = project.db("review", "--sql", expect=1)

    lines = renamed.stdout.splitlines()
    (rename,) = [line for line in lines if line.startswith("BLOCK probable-column-rename")]
    assert rename.startswith("BLOCK probable-column-rename user.name (line ")
    assert "Fix: " in rename
    assert f"-- upgrade of database default ({backend})" in lines
    assert project.snapshot() == before


@pytest.mark.flask_subprocess
@SQLITE_ONLY
def test_strict_fails_on_warnings_and_json_carries_the_line(make_project):
    project = make_project()
    start_project(project)
    write_revision(
        project,
        "bbbb0002",
        "aaaa0001",
        upgrade="""
        with op.batch_alter_table("user") as batch_op:
            batch_op.drop_column("name")
        """,
        downgrade="""
        with op.batch_alter_table("user") as batch_op:
            batch_op.add_column(sa.Column("name", sa.String(64)))
        """,
    )

    result = project.db("review", "bbbb0002", "--json", expect=None)

    document = json.loads(result.stdout)
    (finding,) = [f for f in document["findings"] if f["rule"] == "drop-column"]
    assert (finding["table"], finding["column"], finding["line"]) == ("user", "name", 17)
    assert finding["severity"] in ("block", "warn")
    assert result.returncode == (1 if finding["severity"] == "block" else 0)
    project.db("review", "bbbb0002", "--strict", expect=1)


@SQLITE_ONLY
def test_review_of_a_hand_written_revision_in_the_child_and_acknowledged(make_project):
    project = make_project()
    start_project(project)
    path = write_revision(
        project,
        "bbbb0002",
        "aaaa0001",
        upgrade='op.drop_column("user", "name")',
        downgrade='op.add_column("user", sa.Column("name", sa.String(64)))',
    )

    review = previewed(project, ReviewRevisionRequest(revision="bbbb0002"))

    assert review.revision == "bbbb0002"
    assert review.path == str(path)
    (finding,) = [f for f in review.findings if f.rule == "drop-column"]
    assert (finding.table, finding.column, finding.line) == ("user", "name", 16)
    (database,) = review.databases
    assert "DROP COLUMN name" in database.upgrade_sql
    assert database.operations == ("drop_column user.name",)

    path.write_text(path.read_text() + "\n# workbench: ack drop-column user.name\n")
    assert project.db("review", "bbbb0002", "--json", "--strict").returncode == 0


def test_migrate_prints_the_findings_of_the_script_it_wrote(make_project, backend):
    project = make_project()
    start_project(project)
    project.write_models(NAME_RENAMED)

    migrated = project.db("migrate", "-m", "rename", "--rev-id", "bbbb0002")

    assert migrated.returncode == 0  # as Flask-Migrate: the file is written
    assert "Generating" in migrated.stdout
    assert "probable-column-rename" not in migrated.stdout
    shown = "migrations/versions/bbbb0002_rename.py"
    findings = migrated.stderr.split(f"\nFindings of the review of {shown}:\n", 1)[1]
    lines = findings.splitlines()
    assert lines[0].startswith("  block  probable-column-rename  user.name (line ")
    assert lines[1].startswith("      user.name is dropped")
    assert not [line for line in lines if re.match(r"(INFO|WARN|BLOCK)\b", line)]
    assert lines[-3:-1] == [
        "",
        f"Wrote {shown}, but 1 finding blocks: fix or acknowledge before upgrading.",
    ]
    # the command as it was run here (``python -m flask``), ready to paste
    assert re.fullmatch(r"See the findings again with: .*flask db review bbbb0002", lines[-1])
    assert project.revision_files() == {"aaaa0001_initial.py", "bbbb0002_rename.py"}
    assert project.db("review", "bbbb0002", expect=1).stdout.count("probable-column-rename") == 1


@SQLITE_ONLY
def test_review_bad_input_is_one_error_line(
    make_project, tmp_path, run_flask, assert_one_line_error
):
    project = make_project()
    start_project(project)
    before = project.snapshot()
    (unknown,) = project.db_errors(["review", "zzzz"])
    assert "zzzz" in unknown.stderr
    assert project.snapshot() == before

    project.db("downgrade", "base")
    (behind,) = project.db_errors(["review"])
    assert "not up to date" in behind.stderr and "upgrade it first" in behind.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    no_app = run_flask(empty, "db", "review", env={"FLASK_APP": None})
    assert assert_one_line_error(no_app).startswith("Error: Could not locate a Flask application")
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_unreachable_database_is_one_error_line_without_the_password(make_project):
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:9/test"
    project = make_project(database_url=url)
    project.db("init")
    write_revision(project, "aaaa0001", None, upgrade="pass", downgrade="pass")
    before = project_files(project)

    results = project.db_errors(["review"], ["verify"])

    for result in results:
        assert PASSWORD not in result.stdout + result.stderr
    assert "127.0.0.1" in results[0].stderr
    assert project_files(project) == before
