"""Projects with hand-written revisions, and running operations on them in real child processes."""

from __future__ import annotations

import json
import os
import textwrap
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from workbench.core.databases import DatabaseStatus, DatabaseTarget, database_status
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import scan_revisions
from workbench.runtime.client import Launch, RunningOperation, start
from workbench.runtime.events import Event
from workbench.runtime.requests import OPERATIONS
from workbench.runtime.wire import encode_event

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
SQLITE_AND_POSTGRES = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)
OPERATION_TIMEOUT_SECONDS = 90.0

_HEADER = '''\
"""{message}

Revision ID: {revision}
Revises: {revises}
"""
import os
import signal
import time

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = {branch_labels!r}
depends_on = {depends_on!r}
'''

_MULTIDB_DISPATCH = """

def upgrade(engine_name=""):
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name=""):
    globals()[f"downgrade_{engine_name}"]()
"""

_FUNCTION = """

def {name}():
{body}
"""


def init_migrations(project: Any, multidb: bool = False) -> None:
    """Create the project's migrations folder with Flask-Migrate's ``init()``, in process.

    A scaffold app stands in for the project's own, whose modules must not be imported here.
    """
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from workbench import Migrate, init

    scaffold = Flask("scaffold")
    scaffold.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    Migrate(scaffold, SQLAlchemy(scaffold))
    with scaffold.app_context():
        init(directory=str(project.migrations), multidb=multidb)


def upgrade_for_setup(project: Any, revision: str) -> None:
    """Upgrade the project to ``revision`` with ``flask db upgrade``, in process: a setup step.

    The tests here are about the operations they run in children, not about the runs that set
    their databases up.
    """
    project.db("upgrade", revision, in_process=True)


def write_revision(
    project: Any,
    revision: str,
    down_revision: str | Sequence[str] | None = None,
    *,
    upgrade: str = "pass",
    downgrade: str = "pass",
    depends_on: str | Sequence[str] | None = None,
    branch_labels: str | Sequence[str] | None = None,
    per_database: Mapping[str, tuple[str, str]] | None = None,
) -> Path:
    """Write a revision file; ``per_database`` maps "" (default) and binds to (upgrade, downgrade).

    Without ``per_database`` the file has the single-database ``upgrade()``/``downgrade()``.
    """
    parents = [down_revision] if isinstance(down_revision, str) else list(down_revision or [])
    source = _HEADER.format(
        message=f"revision {revision}",
        revision=revision,
        revises=", ".join(parents),
        down_revision=_as_header(down_revision),
        branch_labels=_as_header(branch_labels),
        depends_on=_as_header(depends_on),
    )
    if per_database is None:
        functions = {"upgrade": upgrade, "downgrade": downgrade}
    else:
        source += _MULTIDB_DISPATCH
        functions = {}
        for name, (up, down) in per_database.items():
            functions[f"upgrade_{name}"] = up
            functions[f"downgrade_{name}"] = down
    for name, body in functions.items():
        source += _FUNCTION.format(name=name, body=textwrap.indent(textwrap.dedent(body), "    "))
    path = project.migrations / "versions" / f"{revision}_revision.py"
    path.write_text(source)
    return path


def _as_header(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    """A header value as a revision file spells it: None, a string or a tuple."""
    if value is None or isinstance(value, str):
        return value
    return tuple(value)


def create_table(table: str) -> str:
    """An upgrade body creating a table."""
    return f'op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))'


def drop_table(table: str) -> str:
    """A downgrade body dropping a table."""
    return f'op.drop_table("{table}")'


def table_revision(
    project: Any, revision: str, down_revision: str | Sequence[str] | None = None, **kwargs: Any
) -> Path:
    """A revision creating the table ``t_<revision>`` (dropping it on downgrade)."""
    table = f"t_{revision}"
    return write_revision(
        project,
        revision,
        down_revision,
        upgrade=create_table(table),
        downgrade=drop_table(table),
        **kwargs,
    )


def child_environment() -> dict[str, str]:
    """The environment of an operation's child: ours, without FLASK_* and without bytecode."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("FLASK_")
    }
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def start_operation(project: Any, operation: str, **fields: Any) -> RunningOperation:
    """Start one operation (by name, with its request's fields) on the project in a child."""
    request = OPERATIONS[operation](**fields)
    return start(request, Launch(project.path, "app", child_environment()))


@contextmanager
def watchdog(
    running: RunningOperation, seconds: float = OPERATION_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Cancel the child if the test has not finished with it in time, so no test hangs."""
    timer = threading.Timer(seconds, running.cancel, kwargs={"grace_seconds": 1.0})
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run(project: Any, operation: str, **fields: Any) -> list[Any]:
    """Run one operation to its end and return all its events."""
    running = start_operation(project, operation, **fields)
    with watchdog(running):
        events = list(running.events())
    for event in events:
        json.dumps(encode_event(event))  # every event is plain JSON data
    return events


def run_ok(project: Any, operation: str, **fields: Any) -> list[Any]:
    """Run one operation that must finish; return its events."""
    events = run(project, operation, **fields)
    assert events[-1].event == "finished", describe_events(events)
    return events


def describe_events(events: Sequence[Event]) -> str:
    """Events one per line, for assertion messages."""
    return "\n".join(json.dumps(encode_event(event)) for event in events)


def of_kind(events: Sequence[Event], kind: str) -> list[Any]:
    """The events of one kind, in order."""
    return [event for event in events if event.event == kind]


def done_steps(events: Sequence[Event]) -> list[tuple[str, str]]:
    """(database, revision) of every step applied, in order."""
    return [
        (event.database, event.revision)
        for event in of_kind(events, "step")
        if event.phase == "done"
    ]


def project_graph(project: Any) -> RevisionGraph:
    """The project's revision graph, scanned from its files."""
    scanned = scan_revisions([project.migrations / "versions"])
    return build_graph(scanned.revisions, scanned.diagnostics)


def project_statuses(project: Any, graph: RevisionGraph) -> list[DatabaseStatus]:
    """Where each of the project's databases stands, read now."""
    targets = [DatabaseTarget("default", project.database_url)] + [
        DatabaseTarget(name, url) for name, url in project.binds.items()
    ]
    return database_status(targets, graph)
