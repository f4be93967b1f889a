"""A failure midway through ``flask db upgrade`` names where it failed and where each database is.

What the version table holds after the failure depends on the backend: PostgreSQL rolls the
whole run back (its log still shows ``Running upgrade -> aaaa0001``), MariaDB and SQLite keep
what their DDL committed. The message reads the version tables after the failure, on every
backend, for the command and for the Python API, with one database and with a bind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.flask_in_process

REVISION = '''\
"""{message}

Revision ID: {revision}
Revises: {down}
Create Date: 2024-03-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


{body}
'''

SINGLE_OK = """\
def upgrade():
    op.create_table('first', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table('first')
"""

SINGLE_FAILING = """\
def upgrade():
    op.create_table('second', sa.Column('id', sa.Integer(), primary_key=True))
    raise RuntimeError('the data does not fit')


def downgrade():
    op.drop_table('second')
"""

MULTIDB_DISPATCH = """\
def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()

"""

MULTIDB_OK = (
    MULTIDB_DISPATCH
    + """
def upgrade_():
    op.create_table('first', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade_():
    op.drop_table('first')


def upgrade_audit():
    op.create_table('first_audit', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade_audit():
    op.drop_table('first_audit')
"""
)

MULTIDB_FAILING = (
    MULTIDB_DISPATCH
    + """
def upgrade_():
    op.create_table('second', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade_():
    op.drop_table('second')


def upgrade_audit():
    op.create_table('second_audit', sa.Column('id', sa.Integer(), primary_key=True))
    raise RuntimeError('the data does not fit')


def downgrade_audit():
    op.drop_table('second_audit')
"""
)

API_COMMAND = """
import click
from workbench import WorkbenchError, upgrade


@app.cli.command("api-upgrade")
def api_upgrade():
    try:
        upgrade()
    except WorkbenchError as error:
        click.echo(f"WorkbenchError: {error}")
        raise SystemExit(3)
"""


def write(project, revision: str, down: str | None, message: str, body: str) -> str:
    """Write a revision file; its path."""
    path = project.migrations / "versions" / f"{revision}_{message.replace(' ', '_')}.py"
    path.write_text(
        REVISION.format(
            message=message, revision=revision, down=down or "", down_revision=down, body=body
        )
    )
    return str(path)


def raise_line(path: str) -> int:
    """The line of the ``raise`` in a revision file."""
    lines = Path(path).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if "raise RuntimeError" in line)


def standing(project, bind: str | None = None) -> str:
    """How the message must describe a database's version table, as read after the failure."""
    versions = project.state(bind).versions
    name = bind or "default"
    if not versions:
        return f"{name} is at base (empty version table)"
    return f"{name} is at {', '.join(sorted(versions))}"


def error_line(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(("Error:", "WorkbenchError:"))]
    return line


def part_about(line: str, name: str) -> str:
    """What the message says about one database (up to the next database)."""
    after = line.split("After the failure: ", 1)[1]
    (part,) = [part for part in re.split(r"; (?=\w+ is at )", after) if part.startswith(name)]
    return part


def check_the_log_is_corrected(line: str, project, backend: str, bind: str | None = None) -> None:
    """Where the version table lacks what the log showed as run, the message says why."""
    part = part_about(line, bind or "default")
    if backend == "postgresql":
        assert "the run was rolled back: aaaa0001" in part, part
        assert "did not happen" in part, part
    elif "aaaa0001" not in project.state(bind).versions:
        assert "which its version table does not record" in part, part
        assert "may be kept" in part, part
    else:
        assert "rolled back" not in part, part


@pytest.mark.servers
@pytest.mark.parametrize("interface", ["cli", "api"])
def test_a_failing_upgrade_names_the_line_and_where_the_database_now_is(
    make_project, backend, interface
):
    project = make_project(app_code=API_COMMAND)
    project.db("init")
    write(project, "aaaa0001", None, "first", SINGLE_OK)
    failing = write(project, "aaaa0002", "aaaa0001", "second", SINGLE_FAILING)

    if interface == "cli":
        result = project.db("upgrade", expect=1)
        text = result.stderr
    else:
        result = project.flask("api-upgrade", expect=3)
        text = result.stdout
    line = error_line(text)

    assert f"{failing}:{raise_line(failing)}" in line
    assert "the data does not fit" in line
    assert standing(project) in line
    check_the_log_is_corrected(line, project, backend)
    assert "aaaa0002 failed partway" in part_about(line, "default")
    if backend == "postgresql":
        assert not project.state().versions
        if interface == "cli":
            assert "Running upgrade  -> aaaa0001" in text  # Alembic's log, before the failure
    assert "Traceback" not in text


@pytest.mark.servers
@pytest.mark.parametrize("interface", ["cli", "api"])
def test_a_failing_multidb_upgrade_says_where_every_database_now_is(
    make_project, backend, interface
):
    project = make_project(binds=["audit"], app_code=API_COMMAND)
    project.db("init", "--multidb")
    write(project, "aaaa0001", None, "first", MULTIDB_OK)
    failing = write(project, "aaaa0002", "aaaa0001", "second", MULTIDB_FAILING)

    if interface == "cli":
        text = project.db("upgrade", expect=1).stderr
    else:
        text = project.flask("api-upgrade", expect=3).stdout
    line = error_line(text)

    assert f"{failing}:{raise_line(failing)}" in line
    assert standing(project) in line
    assert standing(project, "audit") in line
    check_the_log_is_corrected(line, project, backend)
    check_the_log_is_corrected(line, project, backend, "audit")
    assert "aaaa0002 failed partway" in part_about(line, "audit")
    assert "failed partway" not in part_about(line, "default")
    assert "Traceback" not in text
