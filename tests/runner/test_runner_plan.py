"""Plans equal what Alembic does: the same revisions in the same order, the same version rows."""

from __future__ import annotations

import tempfile
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import HeadMaintainer, MigrationContext, RevisionStep
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionMap
from alembic.util import CommandError
from core.revision_dags import alembic_map, revision_dags
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from runner_projects import (
    SQLITE_ONLY,
    init_migrations,
    project_graph,
    project_statuses,
    table_revision,
    upgrade_for_setup,
)

from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.plan import Plan, plan_downgrade, plan_stamp, plan_upgrade
from workbench.core.scan import ScannedRevision
from workbench.runtime.requests import DowngradeRequest, StampRequest
from workbench.services.running import plan_request

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class AlembicDatabase:
    """A version table driven by Alembic's own steps and heads maintainer, on in-memory SQLite."""

    def __init__(self, revision_map: RevisionMap) -> None:
        self.revision_map = revision_map
        for revision in revision_map._revision_map.values():
            if revision is not None:
                revision.module = SimpleNamespace(upgrade=None, downgrade=None)
        self.script = ScriptDirectory(tempfile.gettempdir())
        self.script.revision_map = revision_map
        self.engine = sa.create_engine("sqlite://")
        self.rows: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"AlembicDatabase(rows={self.rows!r})"

    def run(self, steps: list[Any]) -> tuple[str, ...] | None:
        """Apply steps to a version table holding ``rows``: the rows after, sorted.

        None when Alembic's heads maintainer itself breaks (it does on some merges of
        revisions with dependencies, after the migrations ran): no plan can predict that.
        """
        with self.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            context._version.drop(connection, checkfirst=True)
            context._ensure_version_table()
            for row in self.rows:
                connection.execute(context._version.insert().values(version_num=row))
            maintainer = HeadMaintainer(context, self.rows)
            try:
                for step in steps:
                    maintainer.update_to_step(step)
            except (KeyError, AssertionError, CommandError):
                return None
        return tuple(sorted(maintainer.heads))

    def upgrade(self, target: str) -> tuple[list[str], tuple[str, ...] | None]:
        """Alembic's ``ScriptDirectory._upgrade_revs`` from ``rows``: revisions run, rows after."""
        found = self.revision_map.iterate_revisions(target, self.rows, implicit_base=True)
        revisions = list(reversed(list(found)))
        steps = [RevisionStep(self.revision_map, revision, True) for revision in revisions]
        return [revision.revision for revision in revisions], self.run(steps)

    def downgrade(self, target: str) -> tuple[list[str], tuple[str, ...] | None]:
        """Alembic's ``ScriptDirectory._downgrade_revs`` from ``rows``."""
        revisions = list(
            self.revision_map.iterate_revisions(self.rows, target, select_for_downgrade=True)
        )
        steps = [RevisionStep(self.revision_map, revision, False) for revision in revisions]
        return [revision.revision for revision in revisions], self.run(steps)

    def stamp(self, target: str, purge: bool) -> tuple[str, ...] | None:
        """Alembic's ``ScriptDirectory._stamp_revs`` from ``rows`` (emptied first by a purge)."""
        if purge:
            self.rows = ()
        return self.run(self.script._stamp_revs(target, self.rows))


def status_at(rows: tuple[str, ...]) -> DatabaseStatus:
    """A reachable database standing on these version rows."""
    return DatabaseStatus("default", "sqlite://", rows, DatabaseState.BEHIND, (), "")


@st.composite
def histories_with_a_database(
    draw: st.DrawFn,
) -> tuple[list[ScannedRevision], RevisionGraph, AlembicDatabase]:
    """A random history and a database brought by Alembic to one or two random revisions."""
    revisions = draw(revision_dags())
    database = AlembicDatabase(alembic_map(revisions))
    ids = [scanned.revision for scanned in revisions]
    for target in draw(st.lists(st.sampled_from(ids), min_size=0, max_size=2)):
        try:
            rows = database.upgrade(target)[1]
        except Exception:
            rows = None
        assume(rows is not None)
        database.rows = rows
    return revisions, build_graph(revisions), database


def targets(draw: st.DrawFn, revisions: list[ScannedRevision], extra: list[str]) -> str:
    """A target: a revision, a labelled revision, a relative step or a symbol."""
    ids = [scanned.revision for scanned in revisions]
    labels = [label for scanned in revisions for label in scanned.branch_labels]
    choices = [*ids, *extra, *(f"{rev}{step}" for rev in ids[:4] for step in ("-1", "+1"))]
    if labels:
        choices.extend(f"{label}@{rev}" for label in labels[:2] for rev in ids[:4])
    return draw(st.sampled_from(choices))


def assert_same_run(
    graph: RevisionGraph,
    planned: Any,
    expected: tuple[list[str], tuple[str, ...] | None],
    downgrade: bool = False,
) -> None:
    """The plan runs Alembic's revisions in Alembic's order and leaves its version rows.

    Where Alembic keeps two extra dependencies of one revision in a set, its order is random:
    then any order that runs each revision after (downgrade: before) what it needs will do.
    """
    revisions, rows = expected
    if rows is not None:
        assert planned.versions_after == rows
    deterministic = all(
        len(graph.upgrade_parents[revision]) - len(graph.parents[revision]) < 2
        for revision in graph.revisions
    )
    if deterministic:
        assert list(planned.revisions) == revisions
        return
    assert sorted(planned.revisions) == sorted(revisions)
    order = list(reversed(planned.revisions)) if downgrade else list(planned.revisions)
    for position, revision in enumerate(order):
        assert not set(graph.upgrade_parents[revision]) & set(order[position:])


def only_database(plan: Plan) -> Any:
    """The plan of the one database."""
    (database,) = plan.databases
    return database


@PROPERTY_SETTINGS
@given(histories_with_a_database(), st.data())
def test_upgrade_plan_equals_alembics_upgrade(history, data) -> None:
    revisions, graph, database = history
    target = targets(data.draw, revisions, ["heads", "head", "base", "+1", "+2", "-1"])
    planned = only_database(plan_upgrade(graph, [status_at(database.rows)], target))
    try:
        expected = database.upgrade(target)
    except Exception:
        assert planned.problems, target
        return
    assert not planned.problems, (target, planned.problems)
    assert_same_run(graph, planned, expected)


@PROPERTY_SETTINGS
@given(histories_with_a_database(), st.data())
def test_downgrade_plan_equals_alembics_downgrade(history, data) -> None:
    revisions, graph, database = history
    target = targets(data.draw, revisions, ["base", "heads", "-1", "-2", "+1"])
    planned = only_database(plan_downgrade(graph, [status_at(database.rows)], target))
    if planned.problems and "ambiguous; name the revision" in planned.problems[0]:
        return  # Alembic guesses (and warns) where the plan asks for a revision
    try:
        expected = database.downgrade(target)
    except Exception:
        assert planned.problems, target
        return
    assert not planned.problems, (target, planned.problems)
    assert_same_run(graph, planned, expected, downgrade=True)


@PROPERTY_SETTINGS
@given(histories_with_a_database(), st.data(), st.booleans())
def test_stamp_plan_equals_alembics_stamp(history, data, purge) -> None:
    revisions, graph, database = history
    ids = [scanned.revision for scanned in revisions]
    target = data.draw(st.sampled_from([*ids, "heads", "head", "base"]))
    planned = only_database(plan_stamp(graph, [status_at(database.rows)], target, purge))
    try:
        expected = database.stamp(target, purge)
    except Exception:
        assert planned.problems, target
        return
    assert not planned.problems, (target, planned.problems)
    assert_same_run(graph, planned, ([], expected))


def linear_graph(*ids: str) -> RevisionGraph:
    """A one-line history of these revisions, oldest first."""
    parents = [None, *ids[:-1]]
    return build_graph(
        ScannedRevision(revision, (parent,) if parent else ())
        for revision, parent in zip(ids, parents, strict=True)
    )


def status(
    name: str,
    current: tuple[str, ...],
    state: DatabaseState = DatabaseState.BEHIND,
    reason: str = "",
    read_only: bool = False,
) -> DatabaseStatus:
    """A database's status as ``database_status`` reports it."""
    return DatabaseStatus(name, f"sqlite:///{name}.db", current, state, (), reason, read_only)


def test_what_stops_a_plan_is_named_per_database() -> None:
    graph = linear_graph("aaaa0001", "bbbb0002", "cccc0003")
    statuses = [
        status("default", ("aaaa0001",)),
        status("users", (), DatabaseState.UNREACHABLE, "connection refused"),
        status("audit", ("zzzz9999",), DatabaseState.UNKNOWN_REVISION, "stamped with zzzz9999"),
        status("reports", ("cccc0003",), read_only=True),
    ]

    plan = plan_upgrade(graph, statuses, "head")

    assert [database.name for database in plan.databases] == ["default", "users", "audit"]
    assert not plan.runnable and not plan.destructive
    assert plan.all_problems == (
        "users: unreachable: connection refused",
        "audit: stamped with zzzz9999; stamp it with --purge to repair the version table",
    )
    assert plan.describe() == "\n".join(
        [
            "upgrade default (sqlite:///default.db): 2 revisions: bbbb0002 -> cccc0003",
            "upgrade users (sqlite:///users.db): cannot run",
            "upgrade audit (sqlite:///audit.db): cannot run",
            "  problem (users): unreachable: connection refused",
            "  problem (audit): stamped with zzzz9999; stamp it with --purge to repair the "
            "version table",
        ]
    )


def test_plans_read_as_the_dialog_shows_them() -> None:
    ids = [f"rev{index:04d}" for index in range(30)]
    graph = linear_graph(*ids)
    statuses = [status("default", ("rev0002",)), status("users", ("rev0029",))]

    upgrade = plan_upgrade(graph, statuses, "rev0005")
    downgrade = plan_downgrade(graph, statuses, "rev0001")
    stamp = plan_stamp(graph, statuses, "rev0010")
    long_upgrade = plan_upgrade(graph, [status("default", ())], "heads")

    assert upgrade.describe() == (
        "upgrade default (sqlite:///default.db): 3 revisions: rev0003 -> rev0004 -> rev0005\n"
        "upgrade users (sqlite:///users.db): nothing to do, at rev0029"
    )
    assert downgrade.describe().splitlines() == [
        "downgrade default (sqlite:///default.db): 1 revision reverted: rev0002; "
        "version table rev0002 -> rev0001",
        "downgrade users (sqlite:///users.db): 28 revisions reverted: rev0029 -> rev0028 -> "
        "rev0027 -> rev0026 -> rev0025 -> rev0024 -> (16 more) -> rev0007 -> rev0006 -> "
        "rev0005 -> rev0004 -> rev0003 -> rev0002; version table rev0029 -> rev0001",
    ]
    assert stamp.describe().splitlines() == [
        "stamp default (sqlite:///default.db): version table rev0002 -> rev0010; no migration runs",
        "stamp users (sqlite:///users.db): version table rev0029 -> rev0010; no migration runs",
    ]
    assert len(only_database(long_upgrade).revisions) == 30
    assert (upgrade.destructive, downgrade.destructive, stamp.destructive) == (False, True, True)
    assert plan_request(downgrade, "db") == DowngradeRequest(directory="db", revision="rev0001")
    assert plan_request(plan_stamp(graph, statuses, "base", purge=True)) == StampRequest(
        directory=None, revision="base", purge=True
    )


def test_a_not_stamped_database_is_warned_about_and_broken_histories_stop_plans() -> None:
    graph = linear_graph("aaaa0001", "bbbb0002")
    not_stamped = status("default", (), DatabaseState.NOT_STAMPED, "3 tables but no revision")
    broken = build_graph(
        [ScannedRevision("aaaa0001", ()), ScannedRevision("bbbb0002", ("gone0000",))]
    )

    warned = only_database(plan_upgrade(graph, [not_stamped]))
    stopped = plan_upgrade(broken, [status("default", ())])

    assert warned.warnings == (
        "3 tables but no revision: the first revision will probably fail on the existing tables",
    )
    assert stopped.problems == (
        "bbbb0002: down_revision names 'gone0000', which no revision file defines",
    )
    assert not stopped.runnable


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("head", "Multiple heads are present for given argument 'head'; bbbb0002, cccc0003"),
        ("+1", "Ambiguous upgrade from multiple current revisions"),
        ("nope", "No such revision or branch 'nope'"),
    ],
)
def test_upgrade_plan_problems(target: str, problem: str) -> None:
    graph = build_graph(
        [
            ScannedRevision("aaaa0001", ()),
            ScannedRevision("bbbb0002", ("aaaa0001",)),
            ScannedRevision("cccc0003", ("aaaa0001",)),
        ]
    )
    planned = only_database(
        plan_upgrade(graph, [status("default", ("bbbb0002", "cccc0003"))], target)
    )
    assert planned.problems == (problem,)


@SQLITE_ONLY
def test_plans_from_real_files_and_a_real_database(make_project) -> None:
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")
    table_revision(project, "cccc0003", "bbbb0002")
    graph = project_graph(project)
    assert not plan_downgrade(graph, project_statuses(project, graph), "-1").runnable

    upgrade_for_setup(project, "bbbb0002")
    statuses = project_statuses(project, graph)

    assert only_database(plan_upgrade(graph, statuses)).revisions == ("cccc0003",)
    assert only_database(plan_downgrade(graph, statuses)).revisions == ("bbbb0002",)
    assert only_database(plan_downgrade(graph, statuses, "base")).revisions == (
        "bbbb0002",
        "aaaa0001",
    )
