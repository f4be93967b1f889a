"""Resolving branches in the workbench: merge plan, linearize, the doctor's banner and fixes.

Each test presses the keys a person would and then reads the files and the version table.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from git_repos import git
from sqlalchemy.engine import make_url
from textual.screen import Screen
from textual.widgets import Input, OptionList
from tui_revisions import REVISION_TEMPLATE, TWO_HEADS
from tui_support import SIZE, SQLITE_AND_POSTGRES, SQLITE_ONLY, screen_text, settle, wait_for

from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.linearize import LinearizeScreen
from workbench.tui.screens.merge_plan import MergePlanScreen
from workbench.tui.screens.problems import ProblemsScreen
from workbench.tui.widgets.problem_banner import ProblemBanner

pytestmark = pytest.mark.flask_in_process


def write_revision(
    versions: Path,
    revision: str,
    down: str | None,
    message: str,
    upgrade: str,
    downgrade: str,
    day: int,
) -> Path:
    """Write a revision file with these bodies, as ``flask db revision`` lays it out."""
    path = versions / f"{revision}_{message.replace(' ', '_')}.py"
    path.write_text(
        REVISION_TEMPLATE.format(
            message=message,
            revision=revision,
            revises=down or "",
            create_date=f"2024-03-{day:02d} 10:00:00.000000",
            down_revision=down,
            branch_labels=None,
            upgrade=textwrap.indent(upgrade, "    "),
            downgrade=textwrap.indent(downgrade, "    "),
        )
    )
    return path


def line_of(path: Path, text: str) -> int:
    """The number of the first line of a file containing ``text``."""
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def on_main_screen(app) -> bool:
    return type(app.screen) is Screen


def notifications(app) -> str:
    return "\n".join(notification.message for notification in app._notifications)


@SQLITE_ONLY
async def test_merge_plan_shows_the_conflict_first_then_writes_one_head(make_tui_project):
    tui = make_tui_project(revisions=[])
    versions = tui.project.migrations / "versions"
    versions.mkdir(exist_ok=True)
    users = (
        "op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True),"
        " sa.Column('name', sa.String(50)))"
    )
    write_revision(versions, "a1000000", None, "create users", users, "op.drop_table('users')", 1)
    widen = write_revision(
        versions,
        "b2000000",
        "a1000000",
        "widen name",
        "op.alter_column('users', 'name', existing_type=sa.String(50), type_=sa.String(100))",
        "op.alter_column('users', 'name', existing_type=sa.String(100), type_=sa.String(50))",
        2,
    )
    require = write_revision(
        versions,
        "c3000000",
        "a1000000",
        "require name",
        "op.alter_column('users', 'name', existing_type=sa.String(50), nullable=False)",
        "op.alter_column('users', 'name', existing_type=sa.String(50), nullable=True)",
        3,
    )
    tui.project.db("upgrade", "a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        await pilot.press("M")  # nothing marked: every head
        assert isinstance(app.screen, MergePlanScreen)
        text = screen_text(app)
        assert "1 conflict" in text
        assert "column users.name  (same column)" in text
        for path, title in ((widen, "b2000000 (widen name)"), (require, "c3000000 (require name)")):
            assert f"{title}  {path.name} line {line_of(path, 'op.alter_column')}" in text
        assert "op.alter_column('users', 'name', existing_type=sa.String(50), type_=" in text
        assert "Common ancestor: a1000000 (create users)" in text
        assert "down_revision = c3000000 (require name), b2000000 (widen name)" in text
        assert "3 revisions applied, in this order" in text
        positions = [text.index(part) for part in ("1 conflict", "Merge revision", "After the")]
        assert positions == sorted(positions)

        await pilot.press("tab", *"a1000000", "ctrl+s")  # an id that exists is refused
        assert isinstance(app.screen, MergePlanScreen)
        assert "revision a1000000 already exists" in notifications(app)
        app.screen.query_one("#rev-id", Input).value = "d4000000"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.history.graph.heads == ("d4000000",), 60)
        await settle(app, pilot)

        graph = app.history.graph
        assert graph.parents["d4000000"] == ("c3000000", "b2000000")
        assert graph.revisions["d4000000"].message == "merge c3000000 and b2000000"
        assert len(list(versions.glob("*.py"))) == 4
        assert app.graph_view.revision == "d4000000"
        assert "2 heads" not in screen_text(app)


@SQLITE_AND_POSTGRES
async def test_linearize_moves_a_branch_and_the_database_upgrades_to_the_one_head(
    make_tui_project,
):
    tui = make_tui_project(upgrade_to="b2000000")
    moved = tui.paths["c3000000"]
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("b2000000")
        await pilot.press("L")
        assert "select the head whose branch moves" in notifications(app)

        app.graph_view.select_revision("c3000000")
        await pilot.press("L")
        assert isinstance(app.screen, LinearizeScreen)
        text = screen_text(app)
        assert f"{moved.name}: down_revision 'b2000000' → 'd4000000'" in text
        assert "-down_revision = 'b2000000'" in text
        assert "+down_revision = 'd4000000'" in text
        assert "+Revises: d4000000" in text
        preview = app.screen.new_graph
        assert preview.row_count == 4
        assert [preview.revision] == list(app.screen.plan.graph.heads) == ["c3000000"]
        assert "b2000000      2024-03-02  [default] create accounts" in text
        assert "down_revision = 'b2000000'" in moved.read_text()  # nothing written yet

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.history.graph.heads == ("c3000000",), 60)
        await settle(app, pilot)
        assert "down_revision = 'd4000000'" in moved.read_text()
        assert "Revises: d4000000" in moved.read_text()
        assert app.history.graph.parents["c3000000"] == ("d4000000",)

        await pilot.press("U")
        assert isinstance(app.screen, ConfirmScreen)
        assert "2 revisions applied" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: on_main_screen(app) and not app.operation_running, 60)
        await wait_for(pilot, lambda: "default is at c3000000" in notifications(app))
        await settle(app, pilot)

    assert tui.versions() == {"c3000000"}
    assert {"posts", "tags"} <= tui.tables()


@SQLITE_ONLY
async def test_linearize_is_refused_when_the_database_applied_the_branch(make_tui_project):
    tui = make_tui_project(upgrade_to="c3000000")
    before = {path: path.read_bytes() for path in tui.paths.values()}
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await pilot.press("L")

        assert on_main_screen(app)
        (refusal,) = [n for n in app._notifications if "cannot linearize" in n.message]
        assert "database default has applied c3000000" in refusal.message
        assert refusal.severity == "error" and refusal.timeout > 3600  # stays until dismissed
        await settle(app, pilot)
    assert {path: path.read_bytes() for path in tui.paths.values()} == before


@SQLITE_ONLY
async def test_doctor_banner_and_its_fixes_for_two_heads_and_an_unknown_revision(
    make_tui_project, backend
):
    tui = make_tui_project()
    folder = tui.project.path
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text("*.sqlite\n__pycache__/\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "two heads")
    git(folder, "checkout", "-q", "-b", "feature-x")
    write_revision(
        tui.project.migrations / "versions",
        "e5000000",
        "c3000000",
        "create extras",
        "op.create_table('extras', sa.Column('id', sa.Integer(), primary_key=True))",
        "op.drop_table('extras')",
        5,
    )
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "extras")
    tui.project.db("upgrade", "e5000000")
    git(folder, "checkout", "-q", "main")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        banner = app.query_one(ProblemBanner)
        assert banner.display and banner.has_class("-error")
        text = screen_text(app)
        assert "2 heads: M merges" in text
        assert "default on unknown revision 'e5000000' (press ! for details)" in text

        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, ProblemsScreen)
        text = screen_text(app)
        assert 'fix: flask db merge heads -m "merge heads"' in text
        unknown = app.screen.query_one(OptionList).get_option_at_index(1).prompt.plain
        assert "stands on e5000000, which no revision file here has" in unknown
        await pilot.press("enter")
        assert isinstance(app.screen, MergePlanScreen)
        assert app.screen.plan.parents == ("c3000000", "d4000000")
        await pilot.press("escape")
        assert on_main_screen(app)

        await pilot.press("exclamation_mark", "down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), 60)
        assert "e5000000 is on branch feature-x" in notifications(app)
        text = screen_text(app)
        assert "Stamp default to c3000000" in text
        assert "version table (emptied first): e5000000 → c3000000" in text
        if backend != "sqlite":
            app.screen.query_one("#typed-name", Input).value = make_url(
                tui.project.database_url
            ).database
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: on_main_screen(app) and not app.operation_running, 60)
        await wait_for(pilot, lambda: "unknown revision" not in screen_text(app))
        await settle(app, pilot)

    assert tui.versions() == {"c3000000"}


@SQLITE_ONLY
async def test_a_database_behind_is_in_the_banner_and_its_fix_is_the_upgrade(make_tui_project):
    tui = make_tui_project(revisions=TWO_HEADS[:2], upgrade_to="a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "default is 1 revision behind: U upgrades (press ! for details)" in screen_text(app)
        assert not app.query_one(ProblemBanner).has_class("-error")

        await pilot.press("exclamation_mark", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Upgrade default to the heads" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: on_main_screen(app) and not app.operation_running, 60)
        await wait_for(pilot, lambda: not app.query_one(ProblemBanner).display)
        await settle(app, pilot)

    assert tui.versions() == {"b2000000"}
