"""Every writing action of the workbench, run on real databases through the runner's child.

Each test drives the keys a person would press and then reads the version table itself.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from textual.screen import Screen
from textual.widgets import Button, Input, TextArea
from tui_revisions import TWO_HEADS, Rev
from tui_support import (
    SIZE,
    SQLITE_AND_POSTGRES,
    SQLITE_ONLY,
    screen_text,
    settle,
    wait_for,
)

from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.editor import EditorScreen
from workbench.tui.screens.merge_plan import MergePlanScreen
from workbench.tui.screens.new_revision import NewRevisionScreen
from workbench.tui.screens.progress import ProgressScreen
from workbench.tui.screens.review import ReviewScreen


def on_main_screen(app) -> bool:
    return type(app.screen) is Screen


async def confirm_plan(app, pilot, key: str, expect_sql: str | None = "CREATE TABLE") -> str:
    """Press an action's key, wait for the SQL preview, return the confirmation's text."""
    await pilot.press(key)
    assert isinstance(app.screen, ConfirmScreen)
    if expect_sql is not None:
        await wait_for(pilot, lambda: expect_sql in screen_text(app))
    return screen_text(app)


async def run_confirmed(app, pilot) -> None:
    """Run the plan on screen and wait until the databases have been read again."""
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: on_main_screen(app) and not app.operation_running, 60)
    await wait_for(pilot, lambda: bool(app.database_panel.statuses))
    await settle(app, pilot)


def notifications(app) -> str:
    return "\n".join(notification.message for notification in app._notifications)


@SQLITE_ONLY
async def test_upgrade_to_the_selected_revision(make_tui_project):
    tui = make_tui_project(upgrade_to="a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("b2000000")

        text = await confirm_plan(app, pilot, "u")

        assert "Upgrade default to b2000000" in text
        assert "1 revision applied" in text
        assert "create accounts" in text
        assert "version table: a1000000 → b2000000" in text
        assert "CREATE TABLE accounts" in text
        await run_confirmed(app, pilot)

        assert tui.versions() == {"b2000000"}
        assert "accounts" in tui.tables()
        assert "default is at b2000000" in notifications(app)
        assert app.database_panel.target.current == ("b2000000",)
        assert app.graph_view.markers == {"b2000000": ["default"]}
        assert app.screen.active_bindings["U"].enabled  # the footer shows the actions again


@SQLITE_ONLY
async def test_upgrade_to_the_heads_with_progress_then_the_sql_from_both(make_tui_project):
    tui = make_tui_project(upgrade_to="a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = await confirm_plan(app, pilot, "U")
        assert "3 revisions applied" in text

        await run_confirmed(app, pilot)

        assert tui.versions() == {"c3000000", "d4000000"}
        assert {"accounts", "posts", "tags"} <= tui.tables()
        log = app.log_pane.plain_text  # the progress screen's lines, step by step
        for number in (1, 2, 3):
            assert f"default: revision {number} of 3 done: upgrade" in log
        assert app.graph_view.pending == frozenset()

        app.graph_view.select_revision("b2000000")  # the SQL starts from both heads
        text = await confirm_plan(app, pilot, "D", expect_sql="DROP TABLE tags")
        assert "DROP TABLE posts" in text
        await pilot.press("escape")
        text = await confirm_plan(app, pilot, "S", expect_sql="DELETE FROM alembic_version")
        assert "UPDATE alembic_version SET version_num='b2000000'" in text
        await pilot.press("escape")


@SQLITE_AND_POSTGRES
async def test_downgrade_asks_for_the_name_on_servers(make_tui_project, backend):
    tui = make_tui_project(upgrade_to="c3000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("a1000000")

        text = await confirm_plan(app, pilot, "D", expect_sql="DROP TABLE")
        assert "2 revisions reverted" in text
        assert "create posts" in text
        run = app.screen.query_one("#run", Button)
        if backend == "sqlite":
            assert not app.screen.query_one(Input).display
            assert not run.disabled
        else:
            assert run.disabled
            await pilot.press("ctrl+s")  # refused: the name was not typed
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(*make_url(tui.project.database_url).database)
            assert not run.disabled
        await run_confirmed(app, pilot)

        assert tui.versions() == {"a1000000"}
        assert not {"accounts", "posts"} & tui.tables()
        assert "default is at a1000000" in notifications(app)


@SQLITE_AND_POSTGRES
async def test_stamp_and_stamp_with_purge(make_tui_project, backend):
    tui = make_tui_project(upgrade_to="b2000000")
    with tui.project.connect() as connection:
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('gone0000')")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.database_panel.target.state.value == "unknown revision"
        app.graph_view.select_revision("c3000000")

        text = await confirm_plan(app, pilot, "S", expect_sql=None)
        assert "gone0000" in text
        assert app.screen.query_one("#run", Button).disabled  # unknown row: purge needed
        app.screen.query_one("#purge").toggle()
        await wait_for(pilot, lambda: "version table (emptied first)" in screen_text(app))
        assert "b2000000, gone0000 → c3000000" in screen_text(app)
        await wait_for(pilot, lambda: "INSERT INTO alembic_version" in screen_text(app))
        assert "DELETE FROM alembic_version" in screen_text(app)
        assert "CREATE TABLE" not in screen_text(app)  # the table exists: the run creates none
        if backend != "sqlite":
            app.screen.query_one(Input).value = make_url(tui.project.database_url).database
        await run_confirmed(app, pilot)

        assert tui.versions() == {"c3000000"}
        assert "posts" not in tui.tables()  # a stamp runs no migration

        app.graph_view.select_revision("a1000000")
        await confirm_plan(app, pilot, "S", expect_sql="UPDATE alembic_version")
        if backend != "sqlite":
            app.screen.query_one(Input).value = make_url(tui.project.database_url).database
        await run_confirmed(app, pilot)
        assert tui.versions() == {"a1000000"}


@SQLITE_AND_POSTGRES
async def test_a_failure_midway_says_where_the_database_stands(make_tui_project):
    failing = Rev("e5000000", "c3000000", "breaks", table="broken", day=5, fails=True)
    tui = make_tui_project(revisions=[*TWO_HEADS[:3], failing], upgrade_to="a1000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("e5000000")
        text = await confirm_plan(app, pilot, "u", expect_sql="could not be rendered")
        assert "this revision fails on purpose" in text
        await run_confirmed(app, pilot)

        standing = tui.versions()
        assert standing is not None and "e5000000" not in standing
        (where,) = standing
        message = notifications(app)
        assert "failed" in message
        assert "this revision fails on purpose" in message
        assert f"default is at {where}" in message
        sticky = [n for n in app._notifications if n.severity == "error"]
        assert sticky and sticky[0].timeout > 3600
        assert app.log_pane.display
        assert "RuntimeError: this revision fails on purpose" in app.log_pane.plain_text
        assert app.database_panel.target.current == (where,)

        await pilot.press("x")
        assert not list(app._notifications)


@SQLITE_AND_POSTGRES
async def test_cancelling_a_running_operation(make_tui_project):
    slow = Rev("e5000000", "c3000000", "slow one", day=5)
    tui = make_tui_project(revisions=[*TWO_HEADS[:3], slow], upgrade_to="c3000000")
    path = tui.paths["e5000000"]
    path.write_text(
        path.read_text().replace(
            "def upgrade():\n    pass",
            "def upgrade():\n    import time\n    op.create_table('slow', "
            "sa.Column('id', sa.Integer(), primary_key=True))\n"
            "    if not op.get_context().as_sql:\n        time.sleep(60)",
        )
    )
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("e5000000")
        await confirm_plan(app, pilot, "u", expect_sql="CREATE TABLE slow")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "revision 1 of 1" in screen_text(app))
        await pilot.press("q")  # quitting is refused while an operation runs
        assert isinstance(app.screen, ProgressScreen)

        await pilot.press("ctrl+c")  # escape does the same
        await wait_for(pilot, lambda: on_main_screen(app) and not app.operation_running, 30)
        await wait_for(pilot, lambda: "cancelled" in notifications(app))

        assert tui.versions() == {"c3000000"}
        assert "default is at c3000000" in notifications(app)


@SQLITE_ONLY
async def test_sql_of_the_selected_revision_on_the_target_database(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")

        await pilot.press("s")
        await wait_for(pilot, lambda: "CREATE TABLE posts" in screen_text(app))
        assert "SQL of c3000000 on default" in screen_text(app)

        await pilot.press("s")
        await wait_for(pilot, lambda: "op.create_table('posts'" in screen_text(app))


@SQLITE_ONLY
async def test_sql_of_a_merge_revision_is_its_own_not_its_parents(make_tui_project):
    merge = Rev("e5000000", ("c3000000", "d4000000"), "merge heads", day=5)
    tui = make_tui_project(revisions=[*TWO_HEADS, merge])
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("e5000000")

        await pilot.press("s")
        await wait_for(pilot, lambda: "UPDATE alembic_version" in screen_text(app))
        text = screen_text(app)
        assert "c3000000, d4000000 -> e5000000" in text
        assert "DELETE FROM alembic_version" in text
        assert "CREATE TABLE" not in text  # neither parent's branch is included


@SQLITE_ONLY
async def test_the_built_in_editor_saves_and_the_graph_follows(make_tui_project, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")  # suspending is impossible headless: built-in editor
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")

        await pilot.press("e")
        assert isinstance(app.screen, EditorScreen)
        area = app.screen.query_one(TextArea)
        area.text = area.text.replace('"""create posts', '"""create posts and more', 1)
        area.text = area.text.replace("posts'", "articles'")
        await pilot.press("ctrl+s")
        assert "saved" in notifications(app)  # before its 3 s are up on a busy machine
        await pilot.press("escape")
        await wait_for(pilot, lambda: on_main_screen(app))
        await settle(app, pilot)

        source = tui.paths["c3000000"].read_text()
        assert "op.create_table('articles'" in source
        assert app.graph_view.revision == "c3000000"
        assert "op.create_table('articles'" in screen_text(app)
        assert "create posts and more" in screen_text(app)


@SQLITE_ONLY
async def test_the_editor_never_overwrites_a_file_changed_meanwhile(make_tui_project, monkeypatch):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    tui = make_tui_project()
    path = tui.paths["c3000000"]
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await pilot.press("e")
        assert isinstance(app.screen, EditorScreen)
        area = app.screen.query_one(TextArea)
        area.text = area.text + "\n# typed in the workbench\n"

        changed_elsewhere = path.read_text() + "\n# written by someone else\n"
        path.write_text(changed_elsewhere)
        await pilot.press("ctrl+s")

        assert path.read_text() == changed_elsewhere
        assert isinstance(app.screen, EditorScreen)
        assert "changed on disk since it was opened" in notifications(app)
        assert "# typed in the workbench" in app.screen.query_one(TextArea).text
        assert not list(path.parent.glob(".workbench-*"))


@SQLITE_ONLY
async def test_merging_the_marked_heads(make_tui_project):
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("d4000000")
        await pilot.press("space")
        await pilot.press("M")
        assert "mark two or more heads" in notifications(app)

        app.graph_view.select_revision("b2000000")
        await pilot.press("space")
        assert "not a head" in notifications(app)
        app.graph_view.select_revision("c3000000")
        await pilot.press("space")
        assert app.graph_view.marked == {"c3000000", "d4000000"}

        await pilot.press("M")
        assert isinstance(app.screen, MergePlanScreen)
        await pilot.press("x")
        assert app.graph_view.query == "", "typing the merge message must not search the graph"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.history.graph.heads) == 1, 60)
        await settle(app, pilot)

        (head,) = app.history.graph.heads
        assert set(app.history.graph.parents[head]) == {"c3000000", "d4000000"}
        assert app.graph_view.revision == head
        assert app.graph_view.marked == frozenset()
        written = [p for p in (tui.project.migrations / "versions").glob("*.py")]
        assert len(written) == 5


@SQLITE_ONLY
async def test_new_revisions_empty_and_autogenerated(make_tui_project):
    tui = make_tui_project(revisions=TWO_HEADS[:2], upgrade_to="b2000000")
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        await pilot.press("c")
        assert isinstance(app.screen, NewRevisionScreen)
        await pilot.press(*"add nothing")
        app.screen.query_one("#autogenerate").toggle()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.history.graph.revisions) == 3, 60)
        await settle(app, pilot)
        (empty,) = app.history.graph.heads
        assert app.history.graph.revisions[empty].message == "add nothing"
        assert app.graph_view.revision == empty

        await confirm_plan(app, pilot, "U", expect_sql=None)
        await run_confirmed(app, pilot)
        assert tui.versions() == {empty}

        await pilot.press("c")
        await pilot.press(*"add users", "ctrl+s")
        assert isinstance(app.screen, ReviewScreen)
        review = app.screen
        await wait_for(pilot, lambda: review.preview is not None, 60)
        await pilot.press("w")
        await wait_for(pilot, lambda: len(app.history.graph.revisions) == 4, 60)
        await settle(app, pilot)
        (generated,) = app.history.graph.heads
        source = Path(app.history.graph.revisions[generated].path).read_text()
        assert "op.create_table('user'" in source


@SQLITE_ONLY
async def test_read_only_mode_disables_every_writing_action(make_tui_project):
    from workbench.tui.keys import WRITING_ACTIONS

    tui = make_tui_project(upgrade_to="a1000000")
    versions = tui.project.migrations / "versions"
    files_before = {path: path.read_bytes() for path in versions.glob("*.py")}
    databases_before = tui.project.states()
    app = tui.app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        bindings = app.screen.active_bindings
        for action in WRITING_ACTIONS:
            assert app.check_action(action, ()) is False
        shown = {binding.binding.action for binding in bindings.values()}
        assert not shown & WRITING_ACTIONS  # hidden from the footer
        footer = screen_text(app).splitlines()[-1]
        assert "Refresh" in footer
        for label in ("Upgrade", "Downgrade", "Stamp", "Edit", "New", "Merge"):
            assert label not in footer, label
        assert "(read-only)" in screen_text(app)

        for key, label in (("u", "Upgrade"), ("U", "Upgrade heads"), ("D", "Downgrade")):
            await pilot.press(key)
            assert on_main_screen(app), key
            assert f"{label}: read-only" in notifications(app), key
            await pilot.press("x")
        for key in ("S", "e", "c", "M", "L", "V"):
            await pilot.press(key)
            assert on_main_screen(app), key
            assert "read-only" in notifications(app), key
            await pilot.press("x")
        await pilot.press("s")  # reading stays possible
        await wait_for(pilot, lambda: "CREATE TABLE" in screen_text(app))
        await pilot.press("question_mark")
        assert "(disabled: read-only)" in screen_text(app)

    assert {path: path.read_bytes() for path in versions.glob("*.py")} == files_before
    assert tui.project.states() == databases_before
