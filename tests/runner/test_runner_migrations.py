"""Upgrade, downgrade and stamp in a child process: live steps, the plan kept, failures, cancels."""

from __future__ import annotations

import signal
import time

from runner_projects import (
    SQLITE_AND_POSTGRES,
    SQLITE_ONLY,
    create_table,
    describe_events,
    done_steps,
    drop_table,
    init_migrations,
    of_kind,
    project_graph,
    project_statuses,
    run,
    run_ok,
    start_operation,
    table_revision,
    upgrade_for_setup,
    watchdog,
    write_revision,
)

from workbench.core.plan import plan_downgrade, plan_stamp, plan_upgrade
from workbench.runtime.events import Cancelled
from workbench.runtime.requests import UpgradeRequest

SLOW_THIRD_REVISION_SECONDS = 1.5


@SQLITE_AND_POSTGRES
def test_upgrade_reports_each_step_as_it_happens(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")
    write_revision(
        project,
        "cccc0003",
        "bbbb0002",
        upgrade=f"time.sleep({SLOW_THIRD_REVISION_SECONDS})\n{create_table('t_cccc0003')}",
        downgrade=drop_table("t_cccc0003"),
    )
    graph = project_graph(project)
    (planned,) = plan_upgrade(graph, project_statuses(project, graph), "head").databases
    assert planned.revisions == ("aaaa0001", "bbbb0002", "cccc0003")

    running = start_operation(project, "upgrade", revision="head")
    arrivals = []
    with watchdog(running):
        for event in running.events():
            arrivals.append((time.monotonic(), event))
    events = [event for _, event in arrivals]

    assert events[0].event == "started"
    assert events[0].request == UpgradeRequest(revision="head")
    assert events[-1].event == "finished", describe_events(events)
    assert running.returncode == 0
    assert [
        (step.phase, step.number, step.total, step.revision, step.database)
        for step in of_kind(events, "step")
    ] == [
        (phase, number, 3, revision, "default")
        for number, revision in enumerate(planned.revisions, start=1)
        for phase in ("started", "done")
    ]
    second_done_at = next(
        at
        for at, event in arrivals
        if event.event == "step" and event.phase == "done" and event.number == 2
    )
    assert arrivals[-1][0] - second_done_at >= SLOW_THIRD_REVISION_SECONDS - 0.2
    assert [step["revision"] for step in events[-1].result["steps"]] == list(planned.revisions)
    log_lines = [event.message for event in of_kind(events, "log")]
    assert "Running upgrade bbbb0002 -> cccc0003, revision cccc0003" in log_lines
    assert not [event for event in of_kind(events, "output") if "Running" in event.text]

    state = project.state()
    assert {"t_aaaa0001", "t_bbbb0002", "t_cccc0003", "alembic_version"} <= state.tables
    assert state.versions == {"cccc0003"} == set(planned.versions_after)


def write_branchy_history(project):
    """r1 <- a1 <- a2 and r1 <- b1, merged by m <- t; a second base x1 <- x2, which needs a1."""
    table_revision(project, "r1")
    table_revision(project, "a1", "r1")
    table_revision(project, "a2", "a1")
    table_revision(project, "b1", "r1")
    table_revision(project, "m", ["a2", "b1"])
    table_revision(project, "t", "m")
    table_revision(project, "x1")
    table_revision(project, "x2", "x1", depends_on="a1")


@SQLITE_ONLY
def test_downgrade_reverts_what_the_plan_says_in_its_order(make_project):
    project = make_project()
    init_migrations(project)
    write_branchy_history(project)
    graph = project_graph(project)

    for target in ("a1", "b1", "r1", "x1", "base"):
        upgrade_for_setup(project, "heads")
        statuses = project_statuses(project, graph)
        assert statuses[0].current == ("t", "x2")
        plan = plan_downgrade(graph, statuses, target)
        assert plan.destructive and plan.runnable, plan.describe()
        (planned,) = plan.databases

        events = run_ok(project, "downgrade", revision=target)

        assert done_steps(events) == [("default", revision) for revision in planned.revisions]
        state = project.state()
        assert state.versions == set(planned.versions_after), target
        assert state.tables == {"alembic_version"} | {
            f"t_{revision}" for revision in graph.ancestors(planned.versions_after)
        }


@SQLITE_ONLY
def test_downgrade_plan_refuses_what_alembic_refuses(make_project):
    project = make_project()
    init_migrations(project)
    write_branchy_history(project)
    graph = project_graph(project)
    upgrade_for_setup(project, "a2")
    statuses = project_statuses(project, graph)

    (above,) = plan_downgrade(graph, statuses, "t").databases
    (other_line,) = plan_downgrade(graph, statuses, "b1").databases

    expected = "Destination {} is not a valid downgrade target from current head(s)"
    assert above.problems == (expected.format("t"),)
    assert other_line.problems == (expected.format("b1"),)
    for target in ("t", "b1"):
        events = run(project, "downgrade", revision=target)
        assert events[-1].event == "failed"
        assert events[-1].message == expected.format(target)
    assert project.state().versions == {"a2"}


@SQLITE_ONLY
def test_stamp_changes_the_version_table_as_planned(make_project):
    project = make_project()
    init_migrations(project)
    write_branchy_history(project)
    graph = project_graph(project)
    upgrade_for_setup(project, "heads")
    tables = project.state().tables

    for target in ("a1", "b1", "x2", "t", "base", "heads"):
        (planned,) = plan_stamp(graph, project_statuses(project, graph), target).databases
        events = run_ok(project, "stamp", revision=target)
        assert not [step for step in of_kind(events, "step") if step.kind != "stamp"]
        assert project.state().versions == set(planned.versions_after), target
    assert project.state().tables == tables


@SQLITE_AND_POSTGRES
def test_stamp_with_purge_replaces_an_unknown_revision(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")
    upgrade_for_setup(project, "head")
    with project.connect() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'gone0009'")
    graph = project_graph(project)
    statuses = project_statuses(project, graph)

    without_purge = plan_stamp(graph, statuses, "head")
    with_purge = plan_stamp(graph, statuses, "head", purge=True)

    assert not without_purge.runnable
    assert "gone0009" in without_purge.all_problems[0]
    assert with_purge.runnable and with_purge.destructive
    (planned,) = with_purge.databases
    assert (planned.current, planned.versions_after) == (("gone0009",), ("bbbb0002",))
    assert with_purge.describe().endswith(
        "version table gone0009 -> bbbb0002, after emptying it; no migration runs"
    )
    failed = run(project, "stamp", revision="head")[-1]
    assert failed.event == "failed"
    assert "gone0009" in failed.message

    events = run_ok(project, "stamp", revision="head", purge=True)

    assert [(step["kind"], step["revision"]) for step in events[-1].result["steps"]] == [
        ("stamp", "bbbb0002")
    ]
    assert project.state().versions == {"bbbb0002"}


FAILING_UPGRADE = """\
op.create_table("t_bbbb0002", sa.Column("id", sa.Integer, primary_key=True))
raise RuntimeError("boom in bbbb0002")
"""


@SQLITE_AND_POSTGRES
def test_a_migration_failing_midway_reports_where_the_database_stands(make_project, backend):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=FAILING_UPGRADE)

    events = run(project, "upgrade", revision="head")

    failed = events[-1]
    assert failed.event == "failed", describe_events(events)
    assert failed.message.startswith("RuntimeError: boom in bbbb0002 (at ")
    assert "bbbb0002_revision.py:" in failed.message
    assert failed.traceback == ""  # the line says where; no traceback of the workbench's code
    assert done_steps(events) == [("default", "aaaa0001")]
    state = project.state()
    if backend == "sqlite":  # DDL is not transactional: the first revision stays applied
        assert state.versions == {"aaaa0001"}
        assert "t_aaaa0001" in state.tables
    else:  # one transaction for the whole run, rolled back
        assert state.tables == frozenset()
    (database,) = failed.databases
    assert database.name == "default"
    assert database.error is None
    assert set(database.revisions) == (state.versions or set())


INTERRUPTIBLE_UPGRADE = """\
if op.get_bind().dialect.name == "postgresql":
    op.create_table("t_bbbb0002", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT pg_sleep(60)")
else:  # SQLite DDL is not transactional: wait before changing anything
    time.sleep(60)
    op.create_table("t_bbbb0002", sa.Column("id", sa.Integer, primary_key=True))
"""


@SQLITE_AND_POSTGRES
def test_cancelling_a_long_migration_leaves_a_consistent_database(make_project, backend):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=INTERRUPTIBLE_UPGRADE)

    running = start_operation(project, "upgrade", revision="head")
    events = []
    cancelled_at = None
    with watchdog(running):
        for event in running.events():
            events.append(event)
            if event.event == "step" and event.phase == "started" and event.number == 2:
                time.sleep(1.0)  # let the revision reach its long statement
                cancelled_at = time.monotonic()
                running.cancel()

    assert cancelled_at is not None, describe_events(events)
    assert time.monotonic() - cancelled_at < 10
    final = events[-1]
    assert final.event == "cancelled", describe_events(events)
    assert running.returncode == 130
    state = project.state()
    if backend == "sqlite":
        assert state.versions == {"aaaa0001"}
        assert state.tables == {"alembic_version", "t_aaaa0001"}
    else:
        assert state.tables == frozenset()
    (database,) = final.databases
    assert set(database.revisions) == (state.versions or set())


@SQLITE_ONLY
def test_a_cancel_reaches_a_child_started_with_the_interrupt_ignored(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=INTERRUPTIBLE_UPGRADE)

    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job or nohup has it
    try:
        running = start_operation(project, "upgrade", revision="head")
    finally:
        signal.signal(signal.SIGINT, ignored)
    events = []
    with watchdog(running):
        for event in running.events():
            events.append(event)
            if event.event == "step" and event.phase == "started" and event.number == 2:
                time.sleep(1.0)
                running.cancel(grace_seconds=30.0)

    assert events[-1].event == "cancelled", describe_events(events)
    assert running.returncode == 130
    assert project.state().versions == {"aaaa0001"}


@SQLITE_ONLY
def test_a_child_that_ignores_the_interrupt_is_terminated(make_project):
    project = make_project()
    init_migrations(project)
    write_revision(
        project, "aaaa0001", upgrade="signal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    )

    running = start_operation(project, "upgrade", revision="head")
    events = []
    with watchdog(running):
        for event in running.events():
            events.append(event)
            if event.event == "log" and event.message.startswith("Running upgrade"):
                time.sleep(0.5)
                running.cancel(grace_seconds=1.0)

    assert events[-1] == Cancelled("cancelled: the child was stopped by SIGTERM")
    assert running.returncode == -15


@SQLITE_AND_POSTGRES
def test_a_multidb_upgrade_runs_every_database_in_one_run(make_project):
    project = make_project(binds=["users"])
    init_migrations(project, multidb=True)
    write_revision(
        project,
        "aaaa0001",
        per_database={
            "": (create_table("t_post"), drop_table("t_post")),
            "users": (create_table("t_user"), drop_table("t_user")),
        },
    )
    write_revision(
        project,
        "bbbb0002",
        "aaaa0001",
        per_database={
            "": (create_table("t_comment"), drop_table("t_comment")),
            "users": ("pass", "pass"),
        },
    )
    graph = project_graph(project)
    plan = plan_upgrade(graph, project_statuses(project, graph))
    assert [(db.name, db.revisions) for db in plan.databases] == [
        ("default", ("aaaa0001", "bbbb0002")),
        ("users", ("aaaa0001", "bbbb0002")),
    ]

    events = run_ok(project, "upgrade", revision="heads")

    assert [
        (step.database, step.number, step.total, step.revision)
        for step in of_kind(events, "step")
        if step.phase == "started"
    ] == [
        ("default", 1, 2, "aaaa0001"),
        ("default", 2, 2, "bbbb0002"),
        ("users", 1, 2, "aaaa0001"),
        ("users", 2, 2, "bbbb0002"),
    ]
    assert done_steps(events) == [
        ("default", "aaaa0001"),
        ("default", "bbbb0002"),
        ("users", "aaaa0001"),
        ("users", "bbbb0002"),
    ]
    assert project.state().tables == {"alembic_version", "t_post", "t_comment"}
    assert project.state("users").tables == {"alembic_version", "t_user"}
    assert project.state().versions == project.state("users").versions == {"bbbb0002"}
