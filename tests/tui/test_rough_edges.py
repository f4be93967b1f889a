"""The workbench's first minute: the small things a new user meets, each as they see it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import make_url
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Button, Checkbox, Static
from textual.widgets._toast import Toast
from tui_revisions import TWO_HEADS, Rev
from tui_support import SIZE, SQLITE_ONLY, screen_text, settle, wait_for

from workbench.core.databases import DatabaseState
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.new_revision import NewRevisionScreen
from workbench.tui.widgets.database_panel import STATE_STYLES, state_text
from workbench.tui.widgets.key_bar import KeyBar

pytestmark = SQLITE_ONLY

MAIN_LINE_GOES_ON = [*TWO_HEADS, Rev("e5000000", "c3000000", "create likes", table="likes", day=5)]
"""Two heads: e5000000 on the main line (a1, b2, c3, e5) and d4000000 on the branch tagging."""


def notifications(app) -> str:
    """The messages in the corner, newest last."""
    return "\n".join(notification.message for notification in app._notifications)


def position_label(app) -> str:
    """What is written under the graph: the position, and the search's match count."""
    return str(app.graph_pane.border_subtitle)


async def test_the_search_label_goes_with_x_escape_and_an_empty_search(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        async def search(*keys: str) -> None:
            await pilot.press("slash", *"create", *keys)
            await settle(app, pilot)

        await search("enter")
        assert "4 matches for 'create'" in screen_text(app)
        await pilot.press("x")
        assert "matches" not in position_label(app)
        assert "matches" not in screen_text(app)

        await search("enter")
        assert "4 matches for 'create'" in position_label(app)
        await pilot.press("escape")  # on the graph
        assert position_label(app) == "1/4"
        assert app.graph_view.matches == []

        await search("escape")  # in the search line
        assert position_label(app) == "1/4"
        assert app.focused is app.graph_view

        await search("enter")
        await pilot.press("slash", *["backspace"] * 6, "enter")  # an empty search
        await settle(app, pilot)
        assert position_label(app) == "1/4"
        assert "match" not in screen_text(app)


async def test_the_log_pane_says_what_it_holds_before_anything_ran(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)

        text = screen_text(app)
        assert "Log of operations" in text
        assert "Nothing has run yet" in text
        assert app.log_pane.plain_text == ""


async def test_help_shows_keys_as_the_footer_does(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=(160, 200)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)

        text = screen_text(app)
        assert "esc / q / ?" in text
        assert "j / ↓" in text
        assert "question_mark" not in text and "exclamation_mark" not in text


@pytest.mark.parametrize("size", [(160, 45), (120, 40), (80, 32)], ids=str)
async def test_the_new_revision_switches_are_not_cut(make_tui_project, size):
    tui = make_tui_project(upgrade_to="c3000000")
    app = tui.app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, NewRevisionScreen))
        await settle(app, pilot)

        text = screen_text(app)
        for checkbox in app.screen.query(Checkbox):
            assert str(checkbox.label) in text, (size, str(checkbox.label))


async def test_a_finished_operation_toast_leaves_the_next_dialog_free(make_tui_project):
    tui = make_tui_project(upgrade_to="a1000000")
    app = tui.app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settle(app, pilot)
        app.notify("Upgrade default to the heads: done.\ndefault is at c3000000, d4000000")
        app.notify("a sticky one\n(x dismisses this message)", severity="error", timeout=3600)
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_for(pilot, lambda: "CREATE TABLE" in screen_text(app))
        await settle(app, pilot)

        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 2
        frame = app.screen.query_one(Vertical).region
        hint_row = Region(frame.x, frame.bottom - 1, frame.width, 1)  # "ctrl+s run · esc cancel"
        keep_free = [button.region for button in app.screen.query(Button)]
        keep_free += [app.screen.query_one(KeyBar).region, hint_row]
        for toast in toasts:
            for region in keep_free:
                assert not toast.region.overlaps(region), (toast.region, region)
        text = screen_text(app)
        assert "Cancel" in text and "Run" in text and "ctrl+s run · esc cancel" in text


async def test_the_databases_table_is_sized_for_what_it_shows(make_tui_project, monkeypatch):
    tui = make_tui_project(revisions=MAIN_LINE_GOES_ON, upgrade_to="c3000000")
    monkeypatch.chdir(tui.project.path)
    tui.replica_url = "sqlite:///replica.sqlite"
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel, table = app.database_panel, app.database_panel.table
        statuses = panel.statuses
        panel.show_reading(app.project.targets)
        await pilot.pause()

        panel.show_statuses(statuses)  # the next frame draws these widths: no catching up
        state = table.columns["state"]
        assert state.get_render_width(table) - 2 * table.cell_padding >= len("empty (watch only)")
        await settle(app, pilot)

        text = screen_text(app)
        database_file = make_url(tui.project.database_url).database.rsplit("/", 1)[-1]
        # a file name too long for what is left keeps its end: the name, not the folder
        assert re.search(rf"default +c3000000 +needs merge +2 +…?\w*{database_file[-12:]}", text)
        assert re.search(r"replica +— +empty \(watch only\) +5 +replica\.sqlite", text)
        reason = panel.query_one("#database-reason", Static)
        assert str(reason.content).startswith(f"default  {panel.target.url}\n")
        svg = app.export_screenshot()
        runs = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert "&#160;—&#160;" not in runs  # the title's dash in a run of its own
        assert any(run.startswith("Migration&#160;Workbench&#160;—") for run in runs)
        table.move_cursor(row=1)
        await settle(app, pilot)
        runs = re.findall(r"<text[^>]*>([^<]*)</text>", app.export_screenshot())
        assert "replica&#160;&#160;" in runs  # not "replicasqlite:///replica.sqlite"


async def test_a_database_behind_while_another_head_exists_needs_a_merge(make_tui_project):
    tui = make_tui_project(revisions=MAIN_LINE_GOES_ON, upgrade_to="c3000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        status = app.database_panel.target
        assert status.state is DatabaseState.OTHER_BRANCH
        assert status.reason == (
            "1 revision behind head e5000000; head d4000000 (tagging) is on another branch, "
            "1 revision it has not applied: merge the heads, or upgrade to heads to apply both"
        )
        assert str(state_text(status)) == "needs merge"
        assert "red" not in str(state_text(status).style)
        assert re.search(r"default +c3000000 +needs merge", screen_text(app))
        assert all(
            "red" in STATE_STYLES[state]
            for state in (
                DatabaseState.UNKNOWN_REVISION,
                DatabaseState.INCONSISTENT,
                DatabaseState.UNREACHABLE,
            )
        )


async def test_refresh_says_what_it_read(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000")
    app = tui.app(poll_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "refreshed in" in notifications(app))

        said = notifications(app)
        assert re.search(r"refreshed in [\d.]+ s: 4 revisions, 2 heads, 1 database read", said)


def key_place(bar: KeyBar, label: str) -> int:
    """The column where a label is drawn in the key bar."""
    column = str(bar.render()).index(label)
    assert column >= 0
    return column


async def test_the_key_bar_greys_out_keys_and_presses_the_one_clicked(make_tui_project):
    app = make_tui_project().app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        bar = app.query_one(KeyBar)
        assert "Quit" in screen_text(app).splitlines()[-1]
        assert "^p palette" in screen_text(app).splitlines()[-1]
        (upgrade,) = [key for key in bar.keys if key.key == "U"]
        assert upgrade.enabled

        app.operation_running = True
        await settle(app, pilot)
        (upgrade,) = [key for key in bar.keys if key.key == "U"]
        assert not upgrade.enabled
        column = key_place(bar, "Upgrade heads")
        assert bar.render().get_style_at_offset(column).dim  # greyed out while it runs
        await pilot.click(KeyBar, offset=(column, 0))
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # a greyed-out key does nothing

        app.operation_running = False
        await settle(app, pilot)
        column = key_place(bar, "Help")
        assert not bar.render().get_style_at_offset(column).dim
        await pilot.hover(KeyBar, offset=(column, 0))
        await settle(app, pilot)
        assert bar.tooltip == "Show every key and action"
        await pilot.click(KeyBar, offset=(column, 0))
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
