"""``--format github`` and ``--format sarif``: the checks' findings where CI shows them.

Golden outputs on a SQLite project, exit codes as with text output, and the SARIF log checked
for the shape SARIF 2.1.0 requires (and against the official JSON schema when
``WORKBENCH_TEST_SARIF_SCHEMA`` names a copy of it and ``jsonschema`` is installed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from revision_files import revision_source

from workbench.core.annotations import Annotation, github_command, sarif_log

pytestmark = pytest.mark.flask_in_process


@pytest.fixture
def backend() -> str:
    """The formats do not depend on the database: SQLite only."""
    return "sqlite"


CREATE_ACCOUNTS = """\
op.create_table(
    "accounts",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100)),
    sa.Column("name", sa.String(100)),
)"""

RISKY = """\
with op.batch_alter_table("accounts") as batch_op:
    batch_op.drop_column("name")
    batch_op.add_column(sa.Column("age", sa.Integer, nullable=False))
op.create_index("ix_accounts_email", "accounts", ["email"], unique=True)"""

RISKY_DOWN = """\
op.drop_index("ix_accounts_email", "accounts")
with op.batch_alter_table("accounts") as batch_op:
    batch_op.drop_column("age")
    batch_op.add_column(sa.Column("name", sa.String(100)))"""

MODELS = """\
from app import db


class Account(db.Model):
    __tablename__ = "accounts"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(100), index=True, unique=True)
    age = db.Column(db.Integer, nullable=False)
"""


def write_revision(project, revision, down_revision, upgrade="pass", downgrade="pass") -> Path:
    path = project.migrations / "versions" / f"{revision}_rev.py"
    path.write_text(revision_source(revision, down_revision, upgrade, downgrade))
    return path


@pytest.fixture
def project(make_project):
    project = make_project(models=MODELS)
    project.db("init")
    write_revision(project, "r1", None, CREATE_ACCOUNTS, 'op.drop_table("accounts")')
    project.db("upgrade")
    write_revision(project, "r2", "r1", RISKY, RISKY_DOWN)
    return project


def test_review_github_annotations_golden(project):
    result = project.db("review", "r2", "--format", "github", expect=1)
    path = "migrations/versions/r2_rev.py"
    assert result.stdout.splitlines() == [
        f"::warning file={path},line=17,title=drop-column (accounts.name)::"
        "Column accounts.name is dropped with every value it holds. Fix: Copy accounts.name "
        "elsewhere first if it may be needed; acknowledge this finding when the drop is intended.",
        f"::error file={path},line=18,title=add-not-null-column (accounts.age)::"
        "accounts.age is added NOT NULL without a server default: SQLite refuses it as soon as "
        "the table has a row ('Cannot add a NOT NULL column with default value NULL'). "
        "Fix: Add age with a server_default (or nullable=True), fill the rows, then "
        "op.alter_column('accounts', 'age', nullable=False).",
        f"::warning file={path},line=19,title=unique-on-existing-table (accounts.email)::"
        "A unique index on accounts (email) is added to an existing table: it fails if "
        "duplicate values exist. Fix: Check first: SELECT email, count(*) FROM accounts "
        "GROUP BY email HAVING count(*) > 1.",
    ]


def test_review_sarif_log_has_the_shape_sarif_requires(project):
    result = project.db("review", "r2", "--format", "sarif", expect=1)
    log = json.loads(result.stdout)
    check_sarif_shape(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "migration-workbench"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "add-not-null-column",
        "drop-column",
        "unique-on-existing-table",
    ]
    assert [
        (
            result["ruleId"],
            result["level"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for result in run["results"]
    ] == [
        ("drop-column", "warning", "migrations/versions/r2_rev.py", 17),
        ("add-not-null-column", "error", "migrations/versions/r2_rev.py", 18),
        ("unique-on-existing-table", "warning", "migrations/versions/r2_rev.py", 19),
    ]
    validate_against_official_schema(log)


def test_review_formats_keep_the_exit_codes(project):
    write_revision(project, "r3", "r2", 'op.add_column("accounts", sa.Column("age", sa.Integer))')
    for output_format in ("github", "sarif", "text", "json"):
        project.db("review", "r3", "--format", output_format, expect=0)
    quiet = project.db("review", "r3", "--format", "github")
    assert quiet.stdout == ""
    empty = json.loads(project.db("review", "r3", "--format", "sarif").stdout)
    check_sarif_shape(empty)
    assert empty["runs"][0]["results"] == []


def test_a_failing_command_is_one_error_annotation(project):
    result = project.db("review", "nope", "--format", "github", expect=1)
    assert result.stdout == "::error::Can't locate revision identified by 'nope'\n"
    assert result.stderr.strip() == "Error: Can't locate revision identified by 'nope'"


def test_status_github(project):
    behind = project.db("status", "--format", "github", expect=1)
    assert behind.stdout.splitlines() == [
        "::error file=migrations/versions/r2_rev.py,line=9,title=status%3A default behind::"
        "database default is behind (at r1): 1 revision behind; pending: r2"
    ]
    project.db("upgrade")
    assert project.db("status", "--format", "github").stdout == ""


def test_doctor_github_puts_multiple_heads_on_their_files(project):
    project.db("upgrade")
    write_revision(project, "r3a", "r2")
    write_revision(project, "r3b", "r2")
    result = project.db("doctor", "--format", "github", expect=1)
    lines = result.stdout.splitlines()
    heads = [line for line in lines if "title=doctor%3A multiple_heads" in line]
    assert len(heads) == 1, result.stdout
    assert heads[0].startswith(
        "::error file=migrations/versions/r3a_rev.py,line=9,title=doctor%3A multiple_heads::"
    ) or heads[0].startswith(
        "::error file=migrations/versions/r3b_rev.py,line=9,title=doctor%3A multiple_heads::"
    )
    assert "Fix: python -m flask db merge heads" in heads[0]  # the command as the test typed it


def test_verify_github_names_the_revision_that_fails(project):
    project.db("upgrade")
    assert project.db("verify", "--format", "github").stdout == ""
    write_revision(project, "r3", "r2", "pass", 'op.drop_table("no_such_table")')
    result = project.db("verify", "--format", "github", expect=1)
    assert result.stdout.startswith(
        "::error file=migrations/versions/r3_rev.py,line=9,title=verify%3A up-down-up::"
        "r3 (downgrade): "
    ), result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_github_commands_escape_what_the_format_reserves():
    annotation = Annotation(
        "warning", "100% sure\nsecond line", "a: b, c", "dir,x/file:1.py", 3, "rule"
    )
    assert github_command(annotation) == (
        "::warning file=dir%2Cx/file%3A1.py,line=3,title=a%3A b%2C c::100%25 sure%0Asecond line"
    )
    assert github_command(Annotation("notice", "plain")) == "::notice::plain"


def test_sarif_log_of_annotations_without_a_file():
    log = sarif_log([Annotation("notice", "note only", rule="x")], "1.0")
    check_sarif_shape(log)
    assert log["runs"][0]["results"][0] == {
        "ruleId": "x",
        "ruleIndex": 0,
        "level": "note",
        "message": {"text": "note only"},
    }


SARIF_LEVELS = {"none", "note", "warning", "error"}


def check_sarif_shape(log: dict) -> None:
    """What SARIF 2.1.0 requires of the parts a log of ours has (section numbers of the spec)."""
    assert set(log) <= {"$schema", "version", "runs", "inlineExternalProperties", "properties"}
    assert log["version"] == "2.1.0"  # 3.13.2
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and log["runs"]  # 3.13.4
    for run in log["runs"]:
        driver = run["tool"]["driver"]  # 3.14.6, 3.18.2: a run has a tool, a tool a driver
        assert isinstance(driver["name"], str) and driver["name"]  # 3.19.8
        rules = driver.get("rules", [])
        ids = [rule["id"] for rule in rules]  # 3.49.3
        assert len(ids) == len(set(ids))
        for rule in rules:
            assert isinstance(rule["shortDescription"]["text"], str)  # 3.12.3
        for result in run.get("results", []):
            assert isinstance(result["message"]["text"], str)  # 3.27.11, 3.11.8
            assert result["level"] in SARIF_LEVELS  # 3.27.10
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]  # 3.27.6
            for location in result.get("locations", []):
                physical = location["physicalLocation"]
                uri = physical["artifactLocation"]["uri"]
                assert uri and not uri.startswith("/") and "\\" not in uri
                if "region" in physical:
                    assert physical["region"]["startLine"] >= 1  # 3.30.5


def validate_against_official_schema(log: dict) -> None:
    schema_path = os.environ.get("WORKBENCH_TEST_SARIF_SCHEMA")
    if not schema_path:
        return
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(Path(schema_path).read_text())
    jsonschema.validate(log, schema)


def test_status_github_marks_a_broken_history_on_its_file(project):
    write_revision(project, "r3", "missing")
    result = project.db("status", "--format", "github", expect=1)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "::error file=migrations/versions/r3_rev.py,line=10,title=history%3A missing_parent::"
    ), result.stdout
    assert "missing" in lines[0]
