"""Helpers of the workbench tests: the test project's view, Pilot waits, the screen as text.

Imported by name from the tests (never as ``conftest``, which resolves by collection order).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

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
            command_group=f"flask {self.project.command}",
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
