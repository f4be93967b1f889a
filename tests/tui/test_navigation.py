"""Moving around the workbench: the graph, search, the databases, the detail pane, the files."""

from __future__ import annotations

import re

from tui_revisions import TWO_HEADS, long_history, write_revisions
from tui_support import SIZE, SQLITE_ONLY, graph_line, graph_lines, screen_text, settle

from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.problems import ProblemsScreen
from workbench.tui.widgets.database_panel import DatabasePanel
from workbench.tui.widgets.problem_banner import ProblemBanner
from workbench.tui.widgets.revision_detail import RevisionDetail

pytestmark = SQLITE_ONLY


async def test_graph_shows_every_revision_heads_labels_and_databases(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        assert app.graph_view.row_count == 4
        assert "head" in graph_line(app, "d4000000")
        assert "(tagging)" in graph_line(app, "d4000000")
        assert "head" in graph_line(app, "c3000000")
        assert "[default]" in graph_line(app, "b2000000")
        assert "head" not in graph_line(app, "a1000000")
        assert "Revisions: 4, 2 heads" in screen_text(app)
        assert "behind 2" in screen_text(app)


async def test_cursor_keys_move_through_the_graph_and_the_detail_follows(make_tui_project):
    tui = make_tui_project(revisions=long_history(300))
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        graph = app.graph_view
        assert graph.revision == "r00299"

        await pilot.press("j", "j", "down")
        assert graph.revision == "r00296"
        await pilot.press("k", "up")
        assert graph.revision == "r00298"
        await pilot.press("G")
        assert graph.revision == "r00000"
        assert graph.scroll_y > 0
        await pilot.press("g")
        assert graph.revision == "r00299"
        assert graph.scroll_y == 0
        await pilot.press("pagedown")
        page = graph.scrollable_content_region.height - 1
        assert graph.revision == f"r{299 - page:05d}"
        await pilot.press("pageup")
        assert graph.revision == "r00299"
        await pilot.press("end", "home")
        assert graph.revision == "r00299"

        await pilot.press("j")
        await settle(app, pilot)
        detail = app.query_one(RevisionDetail)
        assert detail.border_title == "Revision r00298"
        assert "down_revision = 'r00297'" in screen_text(app)


async def test_position_under_the_graph_changes_with_the_cursor_itself(make_tui_project):
    """The counter is written when the cursor moves, not a message round-trip (frames) later."""
    tui = make_tui_project(revisions=long_history(300))
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.graph_pane.border_subtitle == "1/300"

        app.graph_view.cursor = 41
        assert app.graph_pane.border_subtitle == "42/300"
        await pilot.press("j")
        assert app.graph_pane.border_subtitle == "43/300"
        assert "43/300" in screen_text(app)


async def test_search_finds_ids_and_messages_and_n_cycles(make_tui_project):
    tui = make_tui_project(revisions=long_history(50))
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        graph = app.graph_view

        await pilot.press("slash", *"step 1", "enter")
        # "step 1", "step 10".."step 19" match; the first from the cursor down is step 19
        assert graph.matches == [index for index in range(50) if "step 1" in f"step {49 - index}"]
        assert graph.revision == "r00019"
        assert app.focused is graph
        assert "11 matches for 'step 1'" in screen_text(app)
        await pilot.press("n")
        assert graph.revision == "r00018"
        await pilot.press("N", "N")
        assert graph.revision == "r00001"  # wrapped around to the last match

        await pilot.press("slash", *"r00042", "escape")  # the old text is selected: replaced
        assert graph.revision == "r00042"
        assert app.focused is graph


async def test_clicking_a_row_selects_it(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        await pilot.click(app.graph_view, offset=(20, 2))

        assert app.graph_view.revision == "b2000000"


async def test_the_target_database_tints_its_pending_revisions(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000", replica_at="a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.target == "default"
        assert app.graph_view.pending == {"c3000000", "d4000000"}
        assert graph_line(app, "c3000000").startswith("↑")
        assert not graph_line(app, "b2000000").startswith("↑")
        assert "[replica]" in graph_line(app, "a1000000")

        app.query_one(DatabasePanel).table.focus()
        await pilot.press("down")

        assert app.target == "replica"
        assert app.graph_view.pending == {"b2000000", "c3000000", "d4000000"}
        assert graph_line(app, "b2000000").startswith("↑")
        assert "replica" in screen_text(app)
        assert app.check_action("upgrade_heads", ()) is None  # watched only: nothing runs on it
        await pilot.press("up")
        assert app.target == "default"
        assert app.check_action("upgrade_heads", ()) is True


async def test_the_detail_pane_shows_header_and_script(make_tui_project):
    tui = make_tui_project(upgrade_to="c3000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("j")  # c3000000, below the newest head d4000000
        await settle(app, pilot)

        text = screen_text(app)
        assert re.search(r"revision +c3000000 +head", text)
        assert re.search(r"parents +b2000000", text)
        assert re.search(r"databases +default", text)
        assert "op.create_table('posts'" in text


async def test_new_and_changed_files_reload_the_graph(make_tui_project):
    tui = make_tui_project()
    app = tui.app(poll_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.graph_view.row_count == 4

        write_revisions(tui.project.migrations / "versions", [*TWO_HEADS[3:], _merge()])
        for _ in range(50):
            await pilot.pause(0.05)
            if app.graph_view.row_count == 5:
                break
        await settle(app, pilot)

        assert app.graph_view.row_count == 5
        assert app.history.graph.heads == ("e5000000",)


async def test_refresh_rescans_at_once(make_tui_project):
    tui = make_tui_project()
    app = tui.app(poll_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        write_revisions(tui.project.migrations / "versions", [_merge()])

        await pilot.press("r")
        await settle(app, pilot)

        assert app.graph_view.row_count == 5
        assert "Revisions: 5, 1 head" in screen_text(app)


async def test_switching_themes_redraws_everything(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await settle(app, pilot)

        dark_palette = app.detail.body.palette
        app.theme = "textual-light"
        await settle(app, pilot)

        assert app.detail.body.palette != dark_palette  # highlighted again
        assert "op.create_table('posts'" in screen_text(app)
        assert "head create posts" in graph_line(app, "c3000000")


async def test_a_warned_revision_still_shows_it_is_pending(make_tui_project):
    tui = make_tui_project()
    (tui.project.migrations / "versions" / "zz_label.py").write_text(
        "revision = 'f6000000'\ndown_revision = 'd4000000'\n"
        "branch_labels = ('x' + 'y',)\ndepends_on = None\n"
    )
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # pending on the target and warned (its label is unknown): both marks are drawn
        assert graph_line(app, "f6000000").startswith("↑⚠")


def _merge():
    from tui_revisions import Rev

    return Rev("e5000000", ("c3000000", "d4000000"), "merge heads", day=5)


async def test_problems_are_shown_in_a_banner_a_list_and_the_rows(make_tui_project):
    tui = make_tui_project()
    broken = tui.project.migrations / "versions" / "zz_broken.py"
    broken.write_text("revision = 'f6000000'\ndown_revision = 'nowhere'\n")
    (tui.project.migrations / "versions" / "zz_syntax.py").write_text("def (:\n")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        banner = app.query_one(ProblemBanner)
        assert banner.display
        assert "2 problems in the revision files" in screen_text(app)
        # a broken history has no pending revisions to claim: only the warning is drawn
        assert graph_line(app, "f6000000").startswith(" ⚠")

        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, ProblemsScreen)
        assert "missing parent" in screen_text(app) and "missing_parent" not in screen_text(app)
        assert "zz_syntax.py" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, ProblemsScreen)


async def test_help_lists_every_key_from_the_registry(make_tui_project):
    from workbench.tui.keys import ACTIONS

    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=(160, 200)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for entry in ACTIONS:
            assert entry.help[:40] in text, entry
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_offers_and_runs_the_actions(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"oldest revision")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)

        assert app.graph_view.revision == "a1000000"

        await pilot.press("ctrl+p", *"log of operations")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.log_pane.display


async def test_unreachable_databases_say_why_and_nothing_freezes(make_tui_project, tmp_path):
    tui = make_tui_project()
    tui.replica_url = f"sqlite:///{tmp_path / 'missing-folder' / 'x.sqlite'}"
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.query_one(DatabasePanel)
        states = {status.name: status.state.value for status in panel.statuses}
        assert states["replica"] in ("empty", "unreachable")
        assert all("reading" not in line for line in graph_lines(app))
