"""Fixtures of the workbench tests: real Flask projects with a small revision history.

The workbench is built with ``make_app`` on a ``MigrationProject`` described here rather than
by importing the project's Flask app into the test process (every project's module is named
``app``); the operations still run the real app, in the runner's child process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed
from tui_revisions import TWO_HEADS, Rev, write_revisions

from workbench.core.databases import DatabaseTarget
from workbench.project import MigrationProject
from workbench.tui.app import WorkbenchApp, make_app

SIZE = (160, 48)
SQLITE_AND_POSTGRES = pytest.mark.parametrize(
    "backend",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)],
)
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@dataclass
class TuiProject:
    """A Flask project on disk, its revision files, and the workbench's view of it."""

    project: Any
    """The ``Project`` of the shared ``make_project`` fixture."""
    paths: dict[str, Path]
    replica_url: str | None = None
    """A watched (read-only) second database, when the project has one."""

    @property
    def migration_project(self) -> MigrationProject:
        """The project as ``FlaskProject.describe`` describes it."""
        migrations = self.project.migrations
        return MigrationProject(
            directory=str(migrations),
            version_locations=(str(migrations / "versions"),),
            recursive_version_locations=False,
            sourceless=False,
            multidb=False,
            targets=self.targets,
        )

    @property
    def targets(self) -> tuple[DatabaseTarget, ...]:
        """The default database, and the watched replica when there is one."""
        default = DatabaseTarget("default", self.project.database_url)
        if self.replica_url is None:
            return (default,)
        return (default, DatabaseTarget("replica", self.replica_url, read_only=True))

    def app(self, read_only: bool = False, poll_seconds: float = 0.2) -> WorkbenchApp:
        """The workbench on this project (polling the files often, to keep tests short)."""
        return make_app(
            self.migration_project,
            app_import_path="app",
            project_folder=str(self.project.path),
            read_only=read_only,
            poll_seconds=poll_seconds,
        )

    def versions(self) -> frozenset[str] | None:
        """The rows of the default database's version table (None: no version table)."""
        return self.project.state().versions

    def tables(self) -> frozenset[str]:
        """The tables of the default database."""
        return self.project.state().tables


MakeTuiProject = Callable[..., TuiProject]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (Pilot tests are coroutines).

    Nine lines instead of one more test dependency (pytest-asyncio or anyio's plugin).
    """
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture
def make_tui_project(make_project: Callable[..., Any]) -> MakeTuiProject:
    """``make_tui_project(revisions, upgrade_to, replica_at)``: init, write, upgrade.

    These setup commands run in the test process: no workbench test is about them.

    ``replica_at`` (SQLite only) copies the database, upgraded to that revision, into a
    watched read-only ``replica`` database before the default one goes on to ``upgrade_to``.
    """

    def make(
        revisions: Sequence[Rev] = TWO_HEADS,
        upgrade_to: str | None = None,
        replica_at: str | None = None,
    ) -> TuiProject:
        project = make_project()
        project.db("init", in_process=True)
        paths = write_revisions(project.migrations / "versions", list(revisions))
        replica_url = None
        if replica_at is not None:
            project.db("upgrade", replica_at, in_process=True)
            replica = project.path / "replica.sqlite"
            shutil.copyfile(make_url(project.database_url).database, replica)
            replica_url = f"sqlite:///{replica}"
        if upgrade_to is not None:
            project.db("upgrade", upgrade_to, in_process=True)
        return TuiProject(project, paths, replica_url)

    return make


async def settle(app: WorkbenchApp, pilot: Pilot[None]) -> None:
    """Wait until the running workers are done and the messages they posted are handled."""
    for _ in range(3):
        for worker in list(app.workers):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 60.0
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, (
            f"still waiting after {seconds} s; on {pilot.app.screen!r}:\n{screen_text(pilot.app)}"
        )
        await pilot.pause(0.05)


def screen_text(app: WorkbenchApp) -> str:
    """The text on the (top) screen, as a person would read it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def graph_lines(app: WorkbenchApp) -> list[str]:
    """The visible rows of the graph pane, as text."""
    region = app.graph_view.content_region
    strips = app.screen._compositor.render_strips()
    return [strip.text[region.x : region.right] for strip in strips[region.y : region.bottom]]


def graph_line(app: WorkbenchApp, revision: str) -> str:
    """The text of a revision's row in the graph (it must be on screen)."""
    (line,) = [line for line in graph_lines(app) if revision[:12] in line]
    return line
