"""The preview child operation: what `flask db migrate` would write and the SQL, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from review_projects import (
    MULTIDB_CHANGED,
    NAME_RENAMED,
    SQLITE_AND_POSTGRES,
    SQLITE_ONLY,
    op_lines,
    previewed,
    start_project,
)
from sample_models import MULTIDB_MODELS

from workbench.core.preview import FixRequest, PreviewError
from workbench.runtime.requests import PreviewRequest, ReviewScriptRequest

pytestmark = pytest.mark.flask_in_process


@SQLITE_AND_POSTGRES
def test_preview_is_what_migrate_then_writes_and_writes_nothing(make_project, backend):
    project = make_project()
    start_project(project)
    project.write_models(NAME_RENAMED)
    before = project.snapshot()

    preview = previewed(project, PreviewRequest(message="rename name", rev_id="bbbb0002"))

    assert project.snapshot() == before
    project.db("migrate", "-m", "rename name", "--rev-id", "bbbb0002")
    (written,) = (project.migrations / "versions").glob("bbbb0002_*.py")
    script = written.read_text()
    assert preview.revision == "bbbb0002"
    assert preview.path == str(written)
    assert "down_revision = 'aaaa0001'" in preview.script
    for function in ("upgrade", "downgrade"):
        assert op_lines(preview.script, function) == op_lines(script, function)
        assert op_lines(script, function)
    (database,) = preview.databases
    assert database.name == "default"
    assert database.dialect == backend
    assert set(database.operations) == {"add_column user.full_name", "drop_column user.name"}
    rename = [finding for finding in preview.findings if finding.rule == "probable-column-rename"]
    assert rename and rename[0].severity == "block"
    assert "drop_column('name')" in script.splitlines()[rename[0].line - 1]
    assert "full_name" in database.upgrade_sql
    assert "name" in database.downgrade_sql


@SQLITE_ONLY
def test_preview_of_a_multidb_project_has_one_part_per_database(make_project):
    project = make_project(binds=["users"], models=MULTIDB_MODELS)
    project.db("init", "--multidb")
    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    project.db("upgrade")
    project.write_models(MULTIDB_CHANGED)
    before = project.snapshot()

    preview = previewed(project, PreviewRequest(message="change", rev_id="bbbb0002"))

    assert project.snapshot() == before
    by_name = {database.name: database for database in preview.databases}
    assert set(by_name) == {"default", "users"}
    assert by_name["default"].operations == ("add_column post.body",)
    assert "ALTER TABLE post ADD COLUMN body TEXT" in by_name["default"].upgrade_sql
    assert "full_name" in by_name["users"].upgrade_sql
    assert "full_name" not in by_name["default"].upgrade_sql
    assert {(finding.database, finding.rule) for finding in preview.findings} >= {
        ("users", "probable-column-rename")
    }
    project.db("migrate", "-m", "change", "--rev-id", "bbbb0002")
    (written,) = (project.migrations / "versions").glob("bbbb0002_*.py")
    for function in ("upgrade_", "upgrade_users", "downgrade_", "downgrade_users"):
        assert op_lines(preview.script, function) == op_lines(written.read_text(), function)


@SQLITE_ONLY
def test_preview_without_model_changes_has_no_script(make_project):
    project = make_project()
    start_project(project)
    before = project.snapshot()

    preview = previewed(project, PreviewRequest())

    assert preview.script is None
    assert preview.findings == ()
    assert project.snapshot() == before


@SQLITE_AND_POSTGRES
def test_the_rename_fix_applied_in_the_preview_keeps_the_rows(make_project, backend):
    project = make_project()
    start_project(project)
    with project.connect() as connection:
        connection.execute(sa.text("INSERT INTO \"user\" (id, name) VALUES (1, 'ada'), (2, 'bob')"))
    project.write_models(NAME_RENAMED)
    first = previewed(project, PreviewRequest(message="rename", rev_id="bbbb0002"))
    (rename,) = [f for f in first.findings if f.rule == "probable-column-rename"]
    assert rename.rewrite_available

    fixed = previewed(
        project,
        PreviewRequest(
            message="rename",
            rev_id="bbbb0002",
            fixes=(FixRequest(rename.database, rename.rule, rename.op_index),),
        ),
    )

    assert "probable-column-rename" not in {finding.rule for finding in fixed.findings}
    assert "new_column_name='full_name'" in fixed.script
    assert "drop_column" not in fixed.script.split("def downgrade", 1)[0]
    Path(fixed.path).write_text(fixed.script)
    project.db("upgrade")
    with project.connect() as connection:
        rows = connection.execute(sa.text('SELECT id, full_name FROM "user" ORDER BY id')).all()
    assert [tuple(row) for row in rows] == [(1, "ada"), (2, "bob")]
    project.db("downgrade")
    with project.connect() as connection:
        rows = connection.execute(sa.text('SELECT name FROM "user" ORDER BY id')).scalars().all()
    assert rows == ["ada", "bob"]


@SQLITE_ONLY
def test_an_edited_script_is_reviewed_from_its_text(make_project):
    project = make_project()
    start_project(project)
    project.write_models(NAME_RENAMED)
    preview = previewed(project, PreviewRequest(message="rename", rev_id="bbbb0002"))
    edited = preview.script.replace(
        "batch_op.add_column(sa.Column('full_name'", "batch_op.add_column(sa.Column('nick'"
    )
    before = project.snapshot()

    review = previewed(project, ReviewScriptRequest(script=edited, path=preview.path))

    assert project.snapshot() == before
    assert (review.revision, review.path, review.script) == ("bbbb0002", preview.path, edited)
    rules = {(finding.rule, finding.column) for finding in review.findings}
    assert ("probable-column-rename", "name") in rules
    (database,) = review.databases
    assert database.operations == ("add_column user.nick", "drop_column user.name")
    with pytest.raises(PreviewError, match="line 3"):
        previewed(project, ReviewScriptRequest(script="x = 1\n\ndef upgrade(:\n"))
