"""Fixtures of the workbench tests: real Flask projects with a small revision history.

The workbench is built with ``make_app`` on a ``MigrationProject`` described here rather than
by importing the project's Flask app into the test process (every project's module is named
``app``); the operations still run the real app, in the runner's child process.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from tui_revisions import TWO_HEADS, Rev, write_revisions
from tui_support import MakeTuiProject, TuiProject


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
