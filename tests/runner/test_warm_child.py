"""The warm child: one long-lived process serving request after request, the app loaded once."""

from __future__ import annotations

import os
import signal

from runner_projects import (
    SQLITE_ONLY,
    child_environment,
    describe_events,
    init_migrations,
    table_revision,
    write_revision,
)
from test_batch_sql import batch_project

from workbench.runtime.client import Launch
from workbench.runtime.events import Failed, Finished, Output, Started
from workbench.runtime.requests import ReviewRevisionRequest, SqlRequest
from workbench.runtime.warm import WarmChild


def sql_request(child: WarmChild, revision: str) -> tuple[object, list]:
    """Run one SQL request; its final event and all its events."""
    events: list = []
    final = child.run(SqlRequest(revision=revision), events.append)
    return final, events


def sql_text(events: list) -> str:
    """The SQL a request sent."""
    return "".join(e.text for e in events if isinstance(e, Output) and e.stream == "sql")


@SQLITE_ONLY
def test_one_process_serves_many_requests_and_survives_a_failing_one(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")
    failing = "print('noise from a revision')\nraise KeyError('x')"
    write_revision(project, "cccc0003", "bbbb0002", upgrade=failing)
    child = WarmChild(Launch(project.path, "app", child_environment()))
    try:
        final, events = sql_request(child, "aaaa0001:bbbb0002")
        assert isinstance(final, Finished), describe_events(events)
        assert "CREATE TABLE t_bbbb0002" in sql_text(events)
        (started,) = [event for event in events if isinstance(event, Started)]
        pid = started.pid

        failed, _events = sql_request(child, "bbbb0002:cccc0003")
        assert isinstance(failed, Failed)
        assert "KeyError" in failed.message

        final, events = sql_request(child, "base:aaaa0001")
        assert isinstance(final, Finished), describe_events(events)
        assert "CREATE TABLE t_aaaa0001" in sql_text(events)
        assert not any("noise" in getattr(event, "text", "") for event in events)
        review = child.run(ReviewRevisionRequest(revision="bbbb0002"))
        assert isinstance(review, Finished)
        assert child.pid == pid
        assert child.started == 1
    finally:
        child.close()
    assert child.pid is None
    assert project.state().tables == frozenset()


@SQLITE_ONLY
def test_a_warm_child_that_died_is_started_again(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    child = WarmChild(Launch(project.path, "app", child_environment()))
    try:
        final, _events = sql_request(child, "base:aaaa0001")
        assert isinstance(final, Finished)
        first = child.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)

        final, events = sql_request(child, "base:aaaa0001")

        assert isinstance(final, Finished), describe_events(events)
        assert child.started == 2
        assert child.pid not in (None, first)
    finally:
        child.close()


@SQLITE_ONLY
def test_scratch_states_are_built_again_when_a_parent_changes(make_project):
    project = batch_project(make_project)
    child = WarmChild(Launch(project.path, "app", child_environment()))
    try:
        final, events = sql_request(child, "aaaa0001:bbbb0002")
        assert isinstance(final, Finished), describe_events(events)
        assert "sku" not in sql_text(events)
        parent = project.migrations / "versions" / "aaaa0001_revision.py"
        parent.write_text(
            parent.read_text().replace(
                'sa.Column("name", sa.String(50), nullable=False),',
                'sa.Column("name", sa.String(50), nullable=False),\n'
                '        sa.Column("sku", sa.String(20), nullable=True),',
            )
        )

        final, events = sql_request(child, "aaaa0001:bbbb0002")

        assert isinstance(final, Finished), describe_events(events)
        assert "sku VARCHAR(20)" in sql_text(events)
        assert child.started == 1
    finally:
        child.close()
