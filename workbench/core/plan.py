"""The exact plan of an upgrade, downgrade or stamp, database by database, before anything runs.

Every destructive action (downgrade, stamp, purge) shows its exact plan and asks first, so the plan
reproduces Alembic's rules for which revisions run, in which order, and what the version table
holds afterwards, from the scanned graph and the version tables as read; nothing is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.graph import GraphError, RevisionGraph
from workbench.core.verdict import refusals, unknowns, upgrades_unknown

Action = Literal["upgrade", "downgrade", "stamp"]

# Alembic's ``_relative_destination``: ``[label@][symbol](+|-)N``
_RELATIVE_TARGET = re.compile(r"(?:(?P<label>.+?)@)?(?P<symbol>\w+)?(?P<steps>[+-]\d+)")


_STATES_THAT_STOP = {
    DatabaseState.UNREACHABLE: "unreachable: {reason}",
    DatabaseState.UNKNOWN_REVISION: "{reason}; stamp it with --purge to repair the version table",
    DatabaseState.INCONSISTENT: "{reason}; stamp it with --purge to repair the version table",
}

_SHOWN_REVISIONS = 12


@dataclass(frozen=True)
class DatabasePlan:
    """What one database goes through: the revisions run in order, and its version table after.

    ``revisions`` are applied (upgrade) or reverted (downgrade) in this order; a stamp runs
    none and only changes the version table from ``current`` to ``versions_after``.
    ``problems`` stop the whole run; ``warnings`` are shown but do not stop it.
    """

    name: str
    url: str
    current: tuple[str, ...]
    revisions: tuple[str, ...]
    versions_after: tuple[str, ...]
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def changes_anything(self) -> bool:
        """True when the run would change this database."""
        return bool(self.revisions) or set(self.versions_after) != set(self.current)


@dataclass(frozen=True)
class Plan:
    """One action on every database env.py migrates in one run, with what stops it.

    A multidb env.py migrates all databases in one run, so one database's problem stops all.
    """

    action: Action
    target: str
    purge: bool
    databases: tuple[DatabasePlan, ...]
    problems: tuple[str, ...] = ()

    @property
    def destructive(self) -> bool:
        """Downgrades revert schema changes and stamps rewrite the version table: ask first."""
        return self.action != "upgrade" or self.purge

    @property
    def all_problems(self) -> tuple[str, ...]:
        """The plan's own problems and every database's, each naming its database."""
        own = list(self.problems)
        for database in self.databases:
            own.extend(f"{database.name}: {problem}" for problem in database.problems)
        return tuple(own)

    @property
    def runnable(self) -> bool:
        """True when nothing stops the run and it would change at least one database."""
        return not self.all_problems and any(db.changes_anything for db in self.databases)

    def describe(self) -> str:
        """The plan as text, one line per database, then its problems and warnings."""
        lines = [_describe_database(self, database) for database in self.databases]
        for database in self.databases:
            lines.extend(f"  problem ({database.name}): {text}" for text in database.problems)
            lines.extend(f"  warning ({database.name}): {text}" for text in database.warnings)
        lines.extend(f"problem: {text}" for text in self.problems)
        return "\n".join(lines)


def plan_upgrade(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus], target: str = "heads"
) -> Plan:
    """Plan ``upgrade <target>``: per database, the revisions Alembic applies, in its order."""
    return _plan("upgrade", graph, statuses, target, purge=False)


def plan_downgrade(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus], target: str = "-1"
) -> Plan:
    """Plan ``downgrade <target>``: per database, the revisions Alembic reverts, in its order."""
    return _plan("downgrade", graph, statuses, target, purge=False)


def plan_stamp(
    graph: RevisionGraph,
    statuses: Sequence[DatabaseStatus],
    target: str = "heads",
    purge: bool = False,
) -> Plan:
    """Plan ``stamp [--purge] <target>``: per database, its version table before and after."""
    return _plan("stamp", graph, statuses, target, purge=purge)


def _plan(
    action: Action,
    graph: RevisionGraph,
    statuses: Sequence[DatabaseStatus],
    target: str,
    purge: bool,
) -> Plan:
    """Plan an action on every migrated database (watched read-only ones are left out)."""
    problems = [
        f"{diagnostic.path or diagnostic.revision}: {diagnostic.message}"
        for diagnostic in refusals(graph.diagnostics)
    ]
    # an unknown parent or dependency leaves the plan unknown: it is not shown as a guess
    problems.extend(
        f"{diagnostic.path}: {diagnostic.message}; the plan cannot be known"
        for diagnostic in upgrades_unknown(graph.diagnostics)
    )
    stated = set(upgrades_unknown(graph.diagnostics))
    uncertain = [
        f"{diagnostic.path}: {diagnostic.message}; the plan may differ from what Alembic runs"
        for diagnostic in unknowns(graph.diagnostics)
        if diagnostic not in stated
    ]
    migrated = [status for status in statuses if not status.read_only]
    if not migrated:
        problems.append("no database to migrate")
    planners = {"upgrade": _plan_upgrade, "downgrade": _plan_downgrade, "stamp": _plan_stamp}
    databases = []
    for status in migrated:
        planned = planners[action](graph, status, target, purge)
        if uncertain:
            planned = replace(planned, warnings=(*planned.warnings, *uncertain))
        databases.append(planned)
    return Plan(action, target, purge, tuple(databases), tuple(problems))


def _stopped(status: DatabaseStatus, problem: str) -> DatabasePlan:
    """The plan of a database that cannot take part: nothing runs, nothing changes."""
    return DatabasePlan(status.name, status.url, status.current, (), status.current, (problem,))


def _state_problem(status: DatabaseStatus, ignore_version_rows: bool = False) -> str | None:
    """Why a database's state stops any action on it (a purge replaces bad version rows)."""
    if ignore_version_rows and status.state is not DatabaseState.UNREACHABLE:
        return None
    template = _STATES_THAT_STOP.get(status.state)
    return template.format(reason=status.reason) if template else None


def _plan_upgrade(
    graph: RevisionGraph, status: DatabaseStatus, target: str, purge: bool
) -> DatabasePlan:
    """Alembic's ``_upgrade_revs``: every ancestor of the target the database does not have."""
    problem = _state_problem(status)
    if problem:
        return _stopped(status, problem)
    current = status.current
    try:
        destination = _upgrade_destination(graph, current, target)
        revisions = graph.pending(current, destination)
    except GraphError as exc:
        return _stopped(status, str(exc))
    warnings = []
    if status.state is DatabaseState.NOT_STAMPED and revisions:
        warnings.append(
            f"{status.reason}: the first revision will probably fail on the existing tables"
        )
    after = _VersionTable(graph, current).upgrade(revisions)
    return DatabasePlan(
        status.name, status.url, current, tuple(revisions), after, warnings=tuple(warnings)
    )


def _upgrade_destination(graph: RevisionGraph, current: Sequence[str], target: str) -> str:
    """The absolute target of an upgrade, resolving ``+N`` and ``<revision>±N`` as Alembic does."""
    relative = _RELATIVE_TARGET.fullmatch(target)
    if relative is None:
        return target
    symbol, steps = _relative_parts(relative, target)
    if symbol is None:
        if steps < 0:
            raise GraphError(f"Relative revision {target} didn't produce {-steps} migrations")
        if len(current) > 1:
            raise GraphError("Ambiguous upgrade from multiple current revisions")
        start = current[0] if current else None
    else:
        start = _one_revision(graph, symbol)
    reached = _walk(graph, start, steps, target)
    if reached is None:
        raise GraphError(f"Relative revision {target} reaches below the base")
    return reached


def _plan_downgrade(
    graph: RevisionGraph, status: DatabaseStatus, target: str, purge: bool
) -> DatabasePlan:
    """Alembic's ``_downgrade_revs``: the current revisions' ancestors above the target."""
    problem = _state_problem(status)
    if problem:
        return _stopped(status, problem)
    current = status.current
    try:
        lineage_of, destination = _downgrade_destination(graph, current, target)
        roots = list(graph.bases if destination is None else graph.children[destination])
        if lineage_of is not None and len(roots) > 1:
            lineage = graph.ancestors([lineage_of], dependencies=False)
            roots = [root for root in roots if root in lineage]
            if not roots:
                raise GraphError(f"{target} is not a valid downgrade target from current heads")
        reverted = graph.descendants(roots) & graph.ancestors(current)
        if destination is not None and not reverted and destination not in current:
            raise GraphError(
                f"Destination {target} is not a valid downgrade target from current head(s)"
            )
    except GraphError as exc:
        return _stopped(status, str(exc))
    # Alembic walks down from the current revisions; that walk is the upgrade order reversed.
    tops = [revision for revision in current if revision in reverted]
    revisions = tuple(reversed(graph.upgrade_order(reverted, tops)))
    after = _VersionTable(graph, current).downgrade(revisions)
    return DatabasePlan(status.name, status.url, current, revisions, after)


def _downgrade_destination(
    graph: RevisionGraph, current: Sequence[str], target: str
) -> tuple[str | None, str | None]:
    """The revision a downgrade goes down to (None for base), and the line it keeps to.

    The line is Alembic's branch label: the label of ``label@revision``, or for ``-N`` the
    current revision it walks down from.
    """
    relative = _RELATIVE_TARGET.fullmatch(target)
    if relative is None:
        # Alembic reads ``label@revision`` here as the revision, the label only picking a line
        label, _, symbol = target.rpartition("@")
        resolved = graph.resolve(symbol)
        if len(resolved) > 1:
            raise GraphError(f"{target} names {len(resolved)} revisions; name one")
        lineage_of = _one_revision(graph, label) if label else None
        return lineage_of, resolved[0] if resolved else None
    symbol, steps = _relative_parts(relative, target)
    if symbol is not None:
        return None, _walk(graph, _one_revision(graph, symbol), steps, target)
    if steps >= 0 or not current:
        raise GraphError(f"Relative revision {target} didn't produce {abs(steps)} migrations")
    if len(current) > 1:
        raise GraphError(
            f"{target} from {len(current)} current revisions ({', '.join(current)}) is "
            "ambiguous; name the revision to go down to"
        )
    return current[0], _walk(graph, current[0], steps, target)


def _plan_stamp(
    graph: RevisionGraph, status: DatabaseStatus, target: str, purge: bool
) -> DatabasePlan:
    """Alembic's ``_stamp_revs`` and heads maintainer, step by step, on the version rows.

    Rows on a line with any destination give way to it, all at once: Alembic moves every such
    row to the first destination related to it. With ``purge`` the table is emptied first, so
    bad rows stop nothing.
    """
    problem = _state_problem(status, ignore_version_rows=purge)
    if problem:
        return _stopped(status, problem)
    rows = set() if purge else set(status.current)
    try:
        destinations = graph.resolve(target)
    except GraphError as exc:
        return _stopped(status, str(exc))
    lineage = graph.ancestors(destinations) | graph.descendants(destinations)
    moving = sorted(row for row in rows if row in lineage or not destinations)
    if not destinations:
        rows.difference_update(moving)
    for destination in destinations:
        if destination in moving:
            continue
        if set(moving) & graph.descendants([destination]):
            _move_rows(rows, moving, destination, upward=False)
        elif set(moving) & graph.ancestors([destination]):
            _move_rows(rows, moving, destination, upward=True)
        else:
            rows.add(destination)
    return DatabasePlan(status.name, status.url, status.current, (), tuple(sorted(rows)))


def _move_rows(rows: set[str], moving: Sequence[str], destination: str, upward: bool) -> None:
    """Alembic's ``StampStep`` from several rows to one revision, as its heads maintainer runs it.

    Once the rows have moved, a later upward step from them inserts its destination instead.
    """
    if upward and not rows.issuperset(moving):
        rows.add(destination)
        return
    rows.difference_update(moving)
    rows.add(destination)


def _relative_parts(match: re.Match[str], target: str) -> tuple[str | None, int]:
    """The symbol and step count of a relative target; ``label@±N`` is not planned."""
    if match["label"] is not None:
        raise GraphError(
            f"{target}: relative targets on a branch label are not planned; name the revision"
        )
    return match["symbol"], int(match["steps"])


def _one_revision(graph: RevisionGraph, name: str) -> str:
    """The single revision a name denotes."""
    resolved = graph.resolve(name)
    if len(resolved) != 1:
        raise GraphError(f"{name} does not name a single revision")
    return resolved[0]


def _walk(graph: RevisionGraph, start: str | None, steps: int, target: str) -> str | None:
    """Alembic's ``RevisionMap._walk``: N revisions up (children) or down (parents), one line.

    None is the base: walking up from it reaches the bases, walking down past it fails.
    """
    position = start
    for _ in range(abs(steps)):
        following: Sequence[str | None]
        if steps > 0:
            following = graph.bases if position is None else graph.children[position]
        elif position is None:
            following = ()
        else:
            following = graph.parents[position] or (None,)
        if not following:
            raise GraphError(f"Relative revision {target} walks past the end of the history")
        if len(following) > 1:
            raise GraphError(
                f"Relative revision {target} is ambiguous at {position or 'base'}: "
                f"it could go to {', '.join(str(f) for f in following)}"
            )
        position = following[0]
    return position


class _VersionTable:
    """Alembic's ``HeadMaintainer`` replayed on sets: the version rows as each revision runs.

    Alembic inserts, deletes, merges and unmerges rows step by step by its own rules (which
    can even leave one row below another), so the rows after a run are found the same way.
    "Below" counts ``depends_on`` too; a search stays among the applied revisions, where every
    path to a row runs, which keeps a long downgrade linear.
    """

    def __init__(self, graph: RevisionGraph, rows: Iterable[str]) -> None:
        self.graph = graph
        self.rows = set(rows)
        self.applied = graph.ancestors(self.rows)

    def upgrade(self, revisions: Iterable[str]) -> tuple[str, ...]:
        """The rows after applying the revisions (``RevisionStep`` upgrades)."""
        for revision in revisions:
            below = self.graph.upgrade_parents[revision]
            present = self.rows.intersection(below)
            self.applied.add(revision)
            if len(present) > 1:  # a merge: rows not below another row become this one
                others = self.rows.difference(below)
                self.rows.difference_update([b for b in below if not self._below(b, others)])
            else:  # a new line, or a row moving up
                self.rows.difference_update(present)
            self.rows.add(revision)
        return tuple(sorted(self.rows))

    def downgrade(self, revisions: Iterable[str]) -> tuple[str, ...]:
        """The rows after reverting the revisions (``RevisionStep`` downgrades)."""
        for revision in revisions:
            self.applied.discard(revision)
            if revision not in self.rows:
                continue  # Alembic would fail to update a missing row
            self.rows.discard(revision)
            below = self.graph.upgrade_parents[revision]
            if self.rows:  # parents below another row stay covered by it
                uncovered = [b for b in below if not self._below(b, self.rows)]
            else:  # parents below another parent stay covered by that one
                uncovered = [b for b in below if not self._below(b, set(below).difference([b]))]
            self.rows.update(uncovered)
        return tuple(sorted(self.rows))

    def _below(self, start: str, rows: set[str]) -> bool:
        """True when ``start`` is one of ``rows`` or an ancestor of one."""
        graph = self.graph
        seen = {start}
        stack = [start]
        while stack:
            revision = stack.pop()
            if revision in rows:
                return True
            for upper in (*graph.children[revision], *graph.dependents[revision]):
                if upper in self.applied and upper not in seen:
                    seen.add(upper)
                    stack.append(upper)
        return False


def _describe_database(plan: Plan, database: DatabasePlan) -> str:
    """One line: the action, the database, and what it does there."""
    head = f"{plan.action} {database.name} ({database.url})"
    before, after = _rows(database.current), _rows(database.versions_after)
    if database.problems:
        return f"{head}: cannot run"
    if plan.action == "stamp":
        purged = ", after emptying it" if plan.purge else ""
        return f"{head}: version table {before} -> {after}{purged}; no migration runs"
    if not database.revisions:
        return f"{head}: nothing to do, at {before}"
    count = len(database.revisions)
    noun = "revision" if count == 1 else "revisions"
    chain = _chain(database.revisions)
    if plan.action == "downgrade":
        return f"{head}: {count} {noun} reverted: {chain}; version table {before} -> {after}"
    return f"{head}: {count} {noun}: {chain}"


def _rows(revisions: Sequence[str]) -> str:
    """Version-table rows as text."""
    return ", ".join(revisions) if revisions else "(empty)"


def _chain(revisions: Sequence[str]) -> str:
    """Revisions joined by arrows, the middle left out when there are many."""
    if len(revisions) <= _SHOWN_REVISIONS:
        return " -> ".join(revisions)
    half = _SHOWN_REVISIONS // 2
    hidden = len(revisions) - 2 * half
    return " -> ".join([*revisions[:half], f"({hidden} more)", *revisions[-half:]])


def database_name(url: str) -> str | None:
    """The database's own name in its URL: a server's database name, or a SQLite file's name.

    None when the URL names no database (or cannot be parsed).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if not parsed.database:
        return None
    if parsed.get_backend_name() == "sqlite":
        return os.path.basename(parsed.database)
    return parsed.database


def is_server_database(url: str) -> bool:
    """False for a SQLite URL (a file, easy to copy back); True for others, unreadable ones too."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).get_backend_name() != "sqlite"
    except (ArgumentError, ValueError):
        return True


def names_to_confirm(plan: Plan) -> tuple[str, ...]:
    """The names to type before a destructive plan runs: every server database it changes.

    Each is the database's real name, read from its URL (the bind key, ``default`` or
    ``audit``, says nothing about which server database is about to lose data); a URL that
    names no database falls back to the bind key. SQLite files are easy to copy back first,
    so they are never asked for.
    """
    if not plan.destructive:
        return ()
    names: list[str] = []
    for database in plan.databases:
        if database.changes_anything and is_server_database(database.url):
            name = database_name(database.url) or database.name
            if name not in names:
                names.append(name)
    return tuple(names)
