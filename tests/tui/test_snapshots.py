"""SVG snapshots of the workbench's main views (pytest-textual-snapshot: sync tests only).

The project is described with paths relative to its folder, the test runs inside that folder,
so nothing on screen depends on where the temporary folder happens to be.
Update after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from tui_support import SQLITE_ONLY, screen_text

from workbench.core.databases import DatabaseTarget
from workbench.project import MigrationProject
from workbench.tui.app import WorkbenchApp, make_app

pytestmark = SQLITE_ONLY
SIZE = (160, 40)


@pytest.fixture
def snapshot_app(make_tui_project, monkeypatch) -> Callable[..., WorkbenchApp]:
    """``snapshot_app(read_only=False)``: the workbench on a project seen from its own folder."""
    tui = make_tui_project(upgrade_to="b2000000")
    folder = tui.project.path
    shutil.copyfile(make_url(tui.project.database_url).database, folder / "main.sqlite")
    monkeypatch.chdir(folder)
    project = MigrationProject(
        directory="migrations",
        version_locations=("migrations/versions",),
        recursive_version_locations=False,
        sourceless=False,
        multidb=False,
        targets=(DatabaseTarget("default", "sqlite:///main.sqlite"),),
    )

    def build(read_only: bool = False) -> WorkbenchApp:
        return make_app(
            project,
            command_group="flask db",
            app_import_path="app",
            read_only=read_only,
            poll_seconds=60,
        )

    return build


def waiting_for(*texts: str) -> Callable[[Pilot[None]], object]:
    """A ``run_before`` that lets the app run until every text is on screen."""

    async def run_before(pilot: Pilot[None]) -> None:
        deadline = time.monotonic() + 30
        while not all(text in screen_text(pilot.app) for text in texts):  # type: ignore[arg-type]
            assert time.monotonic() < deadline, screen_text(pilot.app)  # type: ignore[arg-type]
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    return run_before


def test_main_screen(snap_compare, snapshot_app):
    assert snap_compare(
        snapshot_app(),
        terminal_size=SIZE,
        run_before=waiting_for("behind 2", "revision d4000000", "Quit"),
    )


def test_search_matches(snap_compare, snapshot_app):
    async def search(pilot: Pilot[None]) -> None:
        await waiting_for("behind 2", "Quit")(pilot)
        await pilot.press("slash", *"create", "enter")
        await waiting_for("4 matches for 'create'", "Revision d4000000")(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=search)


def test_help_screen(snap_compare, snapshot_app):
    async def open_help(pilot: Pilot[None]) -> None:
        await waiting_for("behind 2", "Quit")(pilot)
        await pilot.press("question_mark")
        await waiting_for("Keys")(pilot)

    assert snap_compare(snapshot_app(read_only=True), terminal_size=SIZE, run_before=open_help)


def test_upgrade_confirmation(snap_compare, snapshot_app):
    async def confirm(pilot: Pilot[None]) -> None:
        await waiting_for("behind 2", "Quit")(pilot)
        await pilot.press("U")
        await waiting_for("CREATE TABLE tags", "CREATE TABLE posts")(pilot)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=confirm)
