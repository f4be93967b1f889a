"""The review screen: what autogenerate would write, beside its SQL, judged before it is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea
from tui_support import SIZE, SQLITE_AND_POSTGRES, SQLITE_ONLY, screen_text, settle, wait_for

from workbench.tui.screens.review import ReviewScreen
from workbench.tui.screens.script_editor import ScriptEditorScreen

pytestmark = pytest.mark.flask_in_process

NAMED_USERS = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64))
"""

RENAMED_USERS = NAMED_USERS.replace("name = db.Column", "full_name = db.Column")


def users_at_head(make_tui_project):
    """A project whose database is at head with one user named Ada; the model renames a column."""
    tui = make_tui_project(revisions=[])
    tui.project.write_models(NAMED_USERS)
    tui.project.db("migrate", "-m", "users")
    tui.project.db("upgrade")
    with tui.project.connect() as connection:
        connection.exec_driver_sql("INSERT INTO \"user\" (id, name) VALUES (1, 'Ada')")
        connection.commit()
    tui.project.write_models(RENAMED_USERS)
    return tui


async def open_review(app, pilot, message: str) -> ReviewScreen:
    """Press c, type the message, accept: the review opens and shows its findings."""
    await pilot.press("c")
    await pilot.press(*message, "enter")
    assert isinstance(app.screen, ReviewScreen)
    review = app.screen
    await wait_for(pilot, lambda: review.preview is not None, 90)
    await pilot.pause()
    return review


def revision_files(tui) -> dict[str, bytes]:
    versions = tui.project.migrations / "versions"
    return {path.name: path.read_bytes() for path in versions.glob("*.py")}


@SQLITE_AND_POSTGRES
async def test_a_rename_is_caught_fixed_written_and_upgraded_with_the_data_kept(make_tui_project):
    tui = users_at_head(make_tui_project)
    files_before = revision_files(tui)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        review = await open_review(app, pilot, "rename name")

        rules = [finding.rule for finding in review.findings]
        assert "probable-column-rename" in rules
        assert re.search(r"drop_column\((?:'user', )?'name'\)", review.text)
        text = screen_text(app)
        assert "BLOCK" in text and "probable-column-rename" in text
        assert "upgrade SQL on default" in text
        assert "ALTER TABLE" in text

        await pilot.press("s")
        assert "downgrade SQL on default" in screen_text(app)
        await pilot.press("s")
        assert revision_files(tui) == files_before  # nothing written by reviewing

        rename = rules.index("probable-column-rename")
        review.query_one("#review-findings").highlighted = rename
        await pilot.press("f")
        await wait_for(pilot, lambda: "new_column_name='full_name'" in (review.text or ""), 90)
        await pilot.pause()
        assert "probable-column-rename" not in [finding.rule for finding in review.findings]
        assert revision_files(tui) == files_before

        await pilot.press("w")
        await wait_for(pilot, lambda: len(app.history.graph.revisions) == 2, 60)
        await settle(app, pilot)
        (head,) = app.history.graph.heads
        written = app.history.graph.revisions[head].path
        assert "new_column_name='full_name'" in Path(written).read_text()

    tui.project.db("upgrade")
    with tui.project.connect() as connection:
        rows = connection.exec_driver_sql('SELECT id, full_name FROM "user"').all()
    assert rows == [(1, "Ada")]


@SQLITE_ONLY
async def test_an_edited_script_is_reviewed_again_and_a_block_asks_twice(make_tui_project):
    tui = users_at_head(make_tui_project)
    files_before = revision_files(tui)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        review = await open_review(app, pilot, "rename name")
        assert any(finding.blocks for finding in review.findings)

        await pilot.press("w")
        assert isinstance(app.screen, ReviewScreen)  # a blocking finding: asked once more
        assert revision_files(tui) == files_before

        await pilot.press("e")
        assert isinstance(app.screen, ScriptEditorScreen)
        editor = app.screen.query_one(TextArea)
        editor.text = editor.text + "\n# workbench: ack probable-column-rename\n"
        await pilot.press("ctrl+s")
        assert app.screen is review
        await wait_for(pilot, lambda: review.edited and review.preview is not None, 90)
        await wait_for(
            pilot,
            lambda: "probable-column-rename" not in [f.rule for f in review.findings],
            90,
        )
        assert "script (edited)" in screen_text(app)

        await pilot.press("escape")
        assert not isinstance(app.screen, ReviewScreen)
        assert revision_files(tui) == files_before


@SQLITE_ONLY
async def test_no_change_says_there_is_nothing_to_write(make_tui_project):
    tui = users_at_head(make_tui_project)
    tui.project.write_models(NAMED_USERS)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_review(app, pilot, "nothing")
        assert "nothing to write" in screen_text(app)
        await pilot.press("w")
        assert "there is nothing to write" in screen_text(app)


@SQLITE_ONLY
async def test_a_database_behind_the_head_is_explained_and_the_screen_stays(make_tui_project):
    tui = users_at_head(make_tui_project)
    tui.project.db("downgrade", "base")
    files_before = revision_files(tui)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.press(*"behind", "enter")
        await wait_for(pilot, lambda: "no preview" in screen_text(app), 90)

        text = screen_text(app)
        assert "Target database is not up to date" in text and "upgrade it first" in text
        assert "PreviewError" not in text
        assert isinstance(app.screen, ReviewScreen)
        assert revision_files(tui) == files_before


@SQLITE_ONLY
async def test_the_script_under_review_is_measured_on_scratch_databases(make_tui_project):
    tui = users_at_head(make_tui_project)
    files_before, states_before = revision_files(tui), tui.project.states()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        review = await open_review(app, pilot, "rename name")

        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: review.lock_reports is not None, 90)
        await pilot.pause()

        assert "lock report, measured on scratch databases" in screen_text(app)
        shown = " ".join(str(review.query_one("#sql-text", Static).render()).split())
        assert "on a scratch sqlite database at its parent (empty tables)" in shown
        assert "rewrites user; batch mode copies the table" in shown
        await pilot.press("s")
        assert "upgrade SQL on default" in screen_text(app)
    assert revision_files(tui) == files_before
    assert tui.project.states() == states_before


@SQLITE_ONLY
async def test_the_review_screen_is_still_while_nothing_happens(make_tui_project):
    tui = users_at_head(make_tui_project)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        review = await open_review(app, pilot, "rename name")
        assert any(finding.line for finding in review.findings)
        drawn = []
        show = review._show_findings
        review._show_findings = lambda: (drawn.append(1), show())[1]

        await pilot.pause(0.5)

        assert len(drawn) <= 1  # was: the findings drawn again hundreds of times a second
        assert "probable-column-rename" in screen_text(app)
