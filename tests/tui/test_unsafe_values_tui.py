"""The workbench forms refuse unsafe ids and labels in place; odd messages stay on one line."""

from __future__ import annotations

import dataclasses
import os

from textual.widgets import Checkbox, Input, Static
from tui_revisions import TWO_HEADS, Rev
from tui_support import SIZE, SQLITE_ONLY, graph_line, screen_text, settle, wait_for

from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.merge_plan import MergePlanScreen
from workbench.tui.screens.new_revision import NewRevisionScreen


def problem_text(app) -> str:
    return str(app.screen.query_one("#problem", Static).render())


@SQLITE_ONLY
async def test_new_revision_form_refuses_unsafe_and_taken_ids_and_labels(make_tui_project):
    tui = make_tui_project(upgrade_to="c3000000")
    versions = tui.project.migrations / "versions"
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await pilot.press("c")
        form = app.screen
        assert isinstance(form, NewRevisionScreen)
        await pilot.press(*"next step")
        form.query_one("#autogenerate", Checkbox).value = False
        rev_id, label = form.query_one("#rev-id", Input), form.query_one("#branch-label", Input)
        for typed_id, typed_label, reason in [
            ("../evil", "", "revision id '../evil' contains '/'"),
            ("quo'te", "", 'contains "\'"'),
            ("a1000000", "", "revision a1000000 already exists"),
            ("e5000000", "x@y", "branch label 'x@y' contains '@'"),
            ("e5000000", "tagging", "branch label 'tagging' is already used by d4000000"),
        ]:
            rev_id.value, label.value = typed_id, typed_label
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is form, f"{typed_id!r} {typed_label!r} was accepted"
            assert reason in problem_text(app)
            assert "nothing written" in problem_text(app)
        assert sorted(path.name for path in tui.project.path.rglob("*evil*")) == []
        assert len(list(versions.glob("*.py"))) == 4

        rev_id.value, label.value = "e5000000", "next_step"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "e5000000" in app.history.graph.revisions, 60)
        await settle(app, pilot)
        assert app.history.graph.revisions["e5000000"].branch_labels == ("next_step",)


@SQLITE_ONLY
async def test_merge_form_refuses_an_unsafe_id_in_place(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("M")
        screen = app.screen
        assert isinstance(screen, MergePlanScreen)
        screen.query_one("#rev-id", Input).value = "quo'te"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert 'cannot merge: revision id "quo\'te" contains "\'"' in problem_text(app)
        assert len(list((tui.project.migrations / "versions").glob("*.py"))) == 4


@SQLITE_ONLY
async def test_control_characters_in_a_message_stay_on_its_row(make_tui_project):
    hostile = Rev("e5000000", "c3000000", "first\\nsecond \\x1b[31mred", day=5)
    tui = make_tui_project(revisions=[*TWO_HEADS, hostile])
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.history.graph.revisions["e5000000"].message == "first\nsecond \x1b[31mred"
        line = graph_line(app, "e5000000")
        assert line.rstrip().endswith("first␤second \\x1b[31mred")
        assert graph_line(app, "d4000000").rstrip().endswith("create tags")
        app.graph_view.select_revision("e5000000")
        await settle(app, pilot)
        assert "first␤second \\x1b[31mred" in screen_text(app)

        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await wait_for(pilot, lambda: "first␤second" in screen_text(app))
        (row,) = [line for line in screen_text(app).splitlines() if "first␤second" in line]
        assert "e5000000" in row and "first␤second \\x1b[31mred" in row


@SQLITE_ONLY
async def test_brackets_in_a_file_name_and_a_message_are_shown_as_written(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000", replica_at="a1000000")
    bracketed = tui.project.path / "replica[old].sqlite"
    os.replace(tui.project.path / "replica.sqlite", bracketed)
    tui = dataclasses.replace(tui, replica_url=f"sqlite:///{bracketed}")
    app = tui.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert "[old].sqlite" in screen_text(app)  # the location column keeps its end
        app.notify("cannot open [old]x.py: [parameters: (1, 2)]")
        await wait_for(pilot, lambda: "[parameters: (1, 2)]" in screen_text(app), 10)
        assert "cannot open [old]x.py" in screen_text(app)
