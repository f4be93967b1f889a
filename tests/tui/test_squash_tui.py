"""Squash from the workbench: Z shows the plan and the proof; ctrl+s writes once it passed."""

from __future__ import annotations

import pytest
from tui_revisions import Rev
from tui_support import SIZE, SQLITE_ONLY, screen_text, settle, wait_for

from workbench.tui.screens.squash import SquashScreen

pytestmark = pytest.mark.flask_in_process

LINEAR = [
    Rev("a1000000", None, "users", table="users"),
    Rev("b2000000", "a1000000", "posts", table="posts", day=2),
    Rev("c3000000", "b2000000", "tags", table="tags", day=3),
]


@SQLITE_ONLY
async def test_z_shows_the_plan_and_the_proof_then_ctrl_s_writes(make_tui_project, backend):
    tui = make_tui_project(revisions=LINEAR, upgrade_to="c3000000")
    versions = tui.project.migrations / "versions"
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("b2000000")
        await pilot.press("Z")
        screen = app.screen
        assert isinstance(screen, SquashScreen)
        await wait_for(pilot, lambda: screen.report is not None, 120)
        await pilot.pause(0.1)

        text = screen_text(app)
        assert "Squash 2 revision(s) up to b2000000" in text
        assert "default: at c3000000 (at head)" in text
        assert "Proof passed" in text and "ctrl+s writes the baseline" in text
        assert len(list(versions.glob("*.py"))) == 3

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SquashScreen), 120)
        await wait_for(pilot, lambda: len(app.history.graph.revisions) == 2, 30)
        await settle(app, pilot)
        assert "b2000000" in app.history.graph.bases
    names = sorted(path.name for path in versions.glob("*.py"))
    assert len(names) == 2 and not any(name.startswith("a1000000") for name in names)
    tui.project.db("upgrade", in_process=True)


@SQLITE_ONLY
async def test_a_refused_squash_cannot_be_written(make_tui_project, backend):
    tui = make_tui_project(revisions=LINEAR, upgrade_to="a1000000")
    versions = tui.project.migrations / "versions"
    before = {path: path.read_bytes() for path in versions.glob("*.py")}
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("b2000000")
        await pilot.press("Z")
        screen = app.screen
        await wait_for(pilot, lambda: screen.report is not None, 120)
        await pilot.pause(0.1)
        assert "Refused: database default: stands at a1000000" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is screen
        await pilot.press("escape")
        assert not isinstance(app.screen, SquashScreen)
    assert {path: path.read_bytes() for path in versions.glob("*.py")} == before
