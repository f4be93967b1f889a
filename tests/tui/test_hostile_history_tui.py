"""The workbench on histories Alembic refuses or that hold an unknown header: said, not hidden."""

from __future__ import annotations

from tui_revisions import TWO_HEADS
from tui_support import SIZE, SQLITE_ONLY, screen_text, settle

from workbench.tui.widgets.problem_banner import ProblemBanner

pytestmark = SQLITE_ONLY


async def test_a_body_syntax_error_at_head_is_a_broken_history_in_the_workbench(make_tui_project):
    tui = make_tui_project(upgrade_to="heads")
    head = tui.paths["c3000000"]
    head.write_text(head.read_text().replace("def upgrade():", "def upgrade(:"))
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        banner = app.query_one(ProblemBanner)
        assert banner.display and banner.has_class("-error")
        text = screen_text(app)
        assert "broken history: 1 problem in the revision files" in text
        assert "1 file that does not compile" in text and "syntax_error" not in text
        assert "at head" not in text and "broken history" in text
        assert "M merges" not in text  # no merge offered on a history Alembic cannot load


async def test_a_stale_docstring_and_an_unknown_label_raise_no_banner(make_tui_project):
    tui = make_tui_project(upgrade_to="heads")
    for path in tui.paths.values():
        text = path.read_text()
        text = text.replace("Revises: ", "Revises: stale0000, ")
        path.write_text(text.replace("branch_labels = None", "branch_labels = tuple(['x'])", 1))
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        text = screen_text(app)
        assert "problems in the revision files" not in text and "mismatch" not in text
        assert "Revises: stale0000" in tui.paths["d4000000"].read_text()
        banner = app.query_one(ProblemBanner)
        assert "revision files" not in str(banner.render())
        assert len(TWO_HEADS) == len(tui.paths)
