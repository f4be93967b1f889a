"""Hostile revision files: `status`, `graph`, `doctor` and `merge` agree with Alembic, or say so.

Whatever Alembic refuses to load for a reason in the files is a broken history everywhere
(`status` exits 1, never "at head"); a header that is not a literal is unknown, and nothing is
advised or written from a guess; a history Alembic loads cleanly prints nothing but its output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.flask_in_process

EMPTY_MODELS = "from app import db\n"
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

HEADER = '''"""{message}

Revision ID: {revision}
Revises: {revises}
Create Date: 2026-01-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = {revision!r}
down_revision = {down_revision}
branch_labels = None
depends_on = None


def upgrade():
    {body}


def downgrade():
    pass
'''


def write(versions: Path, revision: str, down_revision: str, **fields: str) -> Path:
    """Write a revision file; ``down_revision`` is source text (``None``, ``'a1'``, ...)."""
    revises = "" if down_revision == "None" else down_revision.strip("'")
    body = f"op.execute(\"SELECT '{revision}'\")"
    values = {"message": revision, "revises": revises, "body": body, **fields}
    path = versions / f"{revision}_{values['message'].replace(' ', '_')}.py"
    path.write_text(HEADER.format(revision=revision, down_revision=down_revision, **values))
    return path


def linear_history(project) -> Path:
    """init, then aaaa0001 <- aaaa0002 <- aaaa0003, the database upgraded to aaaa0003."""
    project.db("init")
    versions = project.migrations / "versions"
    write(versions, "aaaa0001", "None", revises="")
    write(versions, "aaaa0002", "'aaaa0001'", revises="aaaa0001")
    write(versions, "aaaa0003", "'aaaa0002'", revises="aaaa0002")
    project.db("upgrade")
    return versions


def break_body(versions: Path) -> None:
    write(versions, "aaaa0003", "'aaaa0002'", revises="aaaa0002", body="def nested(:\n        pass")


def not_utf8(versions: Path) -> None:
    path = write(versions, "aaaa0003", "'aaaa0002'", message="caf", revises="aaaa0002")
    path.write_bytes(path.read_bytes().replace(b'"""caf', b'"""caf\xe9'))


def no_revision(versions: Path) -> None:
    (versions / "zzzz_no_id.py").write_text("down_revision = 'aaaa0003'\n")


def missing_parent(versions: Path) -> None:
    write(versions, "aaaa0004", "'nowhere0'")


def cycle(versions: Path) -> None:
    write(versions, "aaaa0001", "'aaaa0003'")


def copied_file(versions: Path) -> None:
    source = next(versions.glob("aaaa0002_*.py"))
    (versions / "aaaa0002_copy.py").write_text(source.read_text())


def copied_head(versions: Path) -> None:
    source = next(versions.glob("aaaa0003_*.py"))
    (versions / "aaaa0003_copy.py").write_text(source.read_text())


MUTATIONS = {
    "body syntax error": (break_body, "syntax error"),
    "not UTF-8": (not_utf8, "not a readable Python source"),
    "no revision": (no_revision, "no `revision = ...`"),
    "missing parent": (missing_parent, "'nowhere0'"),
    "cycle": (cycle, "lead back to themselves"),
    "copied file": (copied_file, "aaaa0002 is also defined"),
    "copied head": (copied_head, "aaaa0003 is also defined"),
}


@SQLITE_ONLY
@pytest.mark.parametrize("mutation", MUTATIONS)
def test_what_alembic_refuses_is_a_broken_history_everywhere(make_project, mutation):
    project = make_project(models=EMPTY_MODELS)
    versions = linear_history(project)
    assert project.db("status").stdout.split()[3:5] == ["at", "head"]
    mutate, words = MUTATIONS[mutation]
    mutate(versions)

    alembic = project.db("heads", expect=None)
    assert alembic.returncode != 0 or mutation.startswith("copied")  # Alembic only warns
    upgrade = project.db("upgrade", expect=1)
    assert words in upgrade.stderr  # the cause, not Alembic's KeyError or "Multiple heads"

    status = project.db("status", expect=1)
    assert "at head" not in status.stdout
    assert "broken history" in status.stdout
    assert words in status.stderr
    assert "Error: the revision history is broken, Alembic cannot load it" in status.stderr
    assert json.loads(project.db("status", "--json", expect=1).stdout)[0]["state"] == (
        "broken history"
    )
    graph = project.db("graph", expect=1)
    assert words in graph.stderr and "error: " in graph.stderr
    doctor = project.db("doctor", expect=1)
    assert words in doctor.stdout and "Alembic cannot load the history" in doctor.stdout
    assert "fix:" not in doctor.stdout


@SQLITE_ONLY
def test_a_non_literal_down_revision_is_unknown_and_nothing_is_built_on_it(make_project):
    project = make_project(models=EMPTY_MODELS)
    versions = linear_history(project)
    same_change_as_its_parent = "op.execute(\"SELECT 'aaaa0003'\")"
    write(
        versions,
        "aaaa0004",
        '"".join(["aaaa", "0003"])',
        revises="aaaa0003",
        body=same_change_as_its_parent,
    )
    project.db("upgrade")
    assert project.db("heads").stdout.split() == ["aaaa0004", "(head)"]  # Alembic loads it
    before = sorted(path.name for path in versions.iterdir())

    doctor = project.db("doctor", expect=1)
    assert "merge" not in doctor.stdout
    assert "is not a literal" in doctor.stdout and "heads" in doctor.stdout
    status = project.db("status", expect=1)
    assert "undetermined" in status.stdout
    assert "at head" not in status.stdout and "other branch" not in status.stdout
    assert "unknown: " in status.stderr and "Error" not in status.stderr
    graph = project.db("graph")
    assert "down_revision unknown" in graph.stdout
    merge = project.db("merge", "heads", "-m", "join", expect=1)
    assert merge.stderr.startswith("Error: cannot merge: ")
    assert "down_revision" in merge.stderr and merge.stdout == ""
    linearize = project.db("linearize", "aaaa0004", "--onto", "aaaa0003", "--yes", expect=1)
    assert linearize.stderr.startswith("Error: cannot linearize: ")
    assert sorted(path.name for path in versions.iterdir()) == before


@SQLITE_ONLY
def test_merge_writes_exactly_the_header_it_prints(make_project):
    project = make_project(models=EMPTY_MODELS)
    versions = linear_history(project)
    write(versions, "bbbb0004", "'aaaa0001'", revises="aaaa0001")

    merge = project.db("merge", "heads", "-m", "join", "--rev-id", "cccc0005")

    [printed] = [line for line in merge.stdout.splitlines() if "down_revision = " in line]
    written = (versions / "cccc0005_join.py").read_text()
    [header] = [line for line in written.splitlines() if line.startswith("down_revision = ")]
    assert printed.split("down_revision = ", 1)[1] == header.split("down_revision = ", 1)[1]
    assert header == "down_revision = ('aaaa0003', 'bbbb0004')"


@SQLITE_ONLY
def test_a_history_alembic_loads_cleanly_prints_no_warnings(make_project):
    project = make_project(models=EMPTY_MODELS)
    project.db("init")
    versions = project.migrations / "versions"
    write(versions, "aaaa0001", "None", revises="None")
    write(versions, "bbbb0002", "'aaaa0001'", revises="aaaa0001")
    write(versions, "cccc0002", "'aaaa0001'", revises="aaaa0001")
    write(versions, "dddd0003", "('bbbb0002', 'cccc0002')", revises="('bbbb0002', 'cccc0002')")
    write(versions, "eeee0004", "'dddd0003'", revises="bbbb0002, cccc0002")  # stale: rebased
    write(versions, "ffff0005", "'eeee0004'", revises="eeee0004")
    labelled = write(versions, "gggg0006", "'ffff0005'", revises="ffff0005")
    labelled.write_text(
        labelled.read_text().replace("branch_labels = None", "branch_labels = tuple(['lts'])")
    )
    project.db("upgrade")

    status = project.db("status")
    assert status.stderr == ""
    assert len(status.stdout.splitlines()) == 1 and "at head" in status.stdout
    graph = project.db("graph")
    assert graph.stderr == ""
    assert "branch_labels unknown" in graph.stdout
    doctor = project.db("doctor")
    assert doctor.stdout.count("info: ") == 2, doctor.stdout
    assert "eeee0004 (eeee0004): its docstring says Revises: bbbb0002, cccc0002" in doctor.stdout
    assert "branch_labels = tuple(['lts']) is not a literal" in doctor.stdout
    for output in (status.stdout, status.stderr, graph.stdout, doctor.stdout):
        assert "revises_mismatch" not in output and "mismatch" not in output
