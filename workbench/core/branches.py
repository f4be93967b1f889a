"""Branches of a history: where heads part, what each branch touches, where branches clash.

Alembic's merge is blind: it joins heads without saying whether their branches change the
same columns, nor in which order each database will run them. This says both, as data, before
anything is written; the merge plan is that analysis plus the order every database would run.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workbench.core.collector import collector_paused
from workbench.core.databases import DatabaseStatus
from workbench.core.graph import GraphError, RevisionGraph, build_graph
from workbench.core.identifiers import UnsafeValue, check_new_revision, one_line
from workbench.core.plan import Plan, plan_upgrade
from workbench.core.scan import ScannedRevision
from workbench.core.touches import COLUMN_KINDS, NOT_UNDERSTOOD, BodyCache, Touch
from workbench.core.verdict import why_no_writing

NEW_MERGE = "<new merge>"
DEFAULT_MERGE_MESSAGE = "empty message"

_TABLE_REMOVALS = frozenset({"drop_table", "rename_table"})
_TABLE_CREATIONS = frozenset({"create_table", "rename_table"})
_NAMED_CREATIONS = frozenset(
    {
        "create_index",
        "create_unique_constraint",
        "create_primary_key",
        "create_foreign_key",
        "create_check_constraint",
        "create_exclude_constraint",
    }
)
_NAMED_REMOVALS = frozenset({"drop_index", "drop_constraint"})
_CONFLICT_TEXT = {
    "same_column": "changed on both branches",
    "dropped_while_changed": "dropped on one branch, changed on the other",
    "same_name": "created on both branches",
    "same_rename": "renamed on both branches",
}
_SHOWN_REVISIONS = 8


@dataclass(frozen=True)
class BranchSplit:
    """Where heads part: their merge bases and, for each revision not shared by all, its heads.

    ``reached_by`` maps each revision reachable from some heads but not from all of them to
    the bit set of those heads (bit i for ``heads[i]``), newest revision first.
    """

    heads: tuple[str, ...]
    merge_bases: tuple[str, ...]
    reached_by: Mapping[str, int]

    def only_from(self, head: str) -> tuple[str, ...]:
        """The revisions reachable from ``head`` and from no other head, newest first."""
        bit = 1 << self.heads.index(head)
        return tuple(revision for revision, heads in self.reached_by.items() if heads == bit)

    def apart(self, head: str, other: str) -> list[str]:
        """The revisions reachable from ``head`` but not from ``other``, newest first."""
        bit, other_bit = 1 << self.heads.index(head), 1 << self.heads.index(other)
        return [r for r, heads in self.reached_by.items() if heads & bit and not heads & other_bit]


def split_branches(graph: RevisionGraph, heads: Sequence[str]) -> BranchSplit:
    """Find the merge bases of ``heads`` and which heads reach each revision above them.

    Git's "paint down to common" walk: revisions are visited newest first (topological
    position), each carrying the set of heads that reach it; a revision reached by all is a
    merge base unless a newer base already covers it, and the walk stops once only covered
    revisions are left, so it costs the size of the branches, not of the history.
    """
    for head in heads:
        if head not in graph.revisions:
            raise GraphError(f"No such revision {head!r}")
    heads = tuple(dict.fromkeys(heads))
    everyone = (1 << len(heads)) - 1
    covered = 1 << len(heads)
    position = {revision: index for index, revision in enumerate(graph.order)}
    marks: dict[str, int] = {}
    queue: list[tuple[int, str]] = []
    for index, head in enumerate(heads):
        marks[head] = 1 << index
        heapq.heappush(queue, (-position[head], head))
    uncovered = len(queue)
    merge_bases: list[str] = []
    reached_by: dict[str, int] = {}
    with collector_paused():
        while uncovered:
            _, revision = heapq.heappop(queue)
            mark = marks[revision]
            if not mark & covered:
                uncovered -= 1
                if mark == everyone:
                    merge_bases.append(revision)
                    mark |= covered
                else:
                    reached_by[revision] = mark
            for parent in graph.parents[revision]:
                before = marks.get(parent)
                after = mark if before is None else before | mark
                if before is None:
                    heapq.heappush(queue, (-position[parent], parent))
                    if not after & covered:
                        uncovered += 1
                elif after != before and not before & covered and after & covered:
                    uncovered -= 1
                marks[parent] = after
    return BranchSplit(heads, tuple(merge_bases), reached_by)


@dataclass(frozen=True)
class TouchSite:
    """A touch where it is written: the revision, its file, and the touch with its line."""

    revision: str
    path: str
    touch: Touch

    def describe(self) -> str:
        """``alter_column user.name in bbbb0002 (bbbb0002_x.py line 21)``."""
        where = f"{os.path.basename(self.path)} line {self.touch.line}"
        return f"{self.touch.describe()} in {self.revision} ({where})"


@dataclass(frozen=True)
class Conflict:
    """Two revisions on different branches that change the same thing in a risky way.

    Kinds: ``same_column`` (both change one column), ``dropped_while_changed`` (one drops a
    table, column, index or constraint the other changes), ``same_name`` (both create one
    name), ``same_rename`` (both rename one table or column).
    """

    kind: str
    subject: str
    first: TouchSite
    second: TouchSite

    def describe(self) -> str:
        """One line: the subject, what happened to it, and both sites."""
        return (
            f"{self.subject} {_CONFLICT_TEXT[self.kind]}: "
            f"{self.first.describe()}; {self.second.describe()}"
        )


@dataclass(frozen=True)
class Branch:
    """The revisions only one head reaches, newest first."""

    head: str
    revisions: tuple[str, ...]


@dataclass(frozen=True)
class BranchAnalysis:
    """Heads, their merge bases, each branch, what the branches touch and where they clash.

    ``shared`` are revisions some heads reach but not all (three heads or more); ``unread``
    lists what could not be read (raw SQL, calls not understood, unreadable files), where a
    conflict may hide unseen.
    """

    heads: tuple[str, ...]
    merge_bases: tuple[str, ...]
    branches: tuple[Branch, ...]
    shared: tuple[str, ...]
    touches: Mapping[str, tuple[Touch, ...]]
    conflicts: tuple[Conflict, ...]
    unread: tuple[TouchSite, ...]

    def describe(self, graph: RevisionGraph) -> str:
        """The analysis as text: heads, merge bases, branches, conflicts, what was not read."""
        lines = [f"Heads: {', '.join(revision_title(graph, head) for head in self.heads)}"]
        bases = ", ".join(revision_title(graph, base) for base in self.merge_bases) or "none"
        lines.append(f"Common ancestor: {bases}")
        for branch in self.branches:
            if branch.revisions:
                size = count(len(branch.revisions), "revision")
                lines.append(f"Branch of {branch.head}: {size}: {_listed(branch.revisions)}")
            else:
                lines.append(f"Branch of {branch.head}: no revision of its own")
        if self.shared:
            lines.append(f"Shared by some heads only: {_listed(self.shared)}")
        if self.conflicts:
            lines.append(f"Conflicts ({len(self.conflicts)}):")
            lines.extend(f"  {conflict.describe()}" for conflict in self.conflicts)
        else:
            lines.append("Conflicts: none found")
        if self.unread:
            lines.append("Not read, so not checked for conflicts:")
            lines.extend(f"  {site.describe()}" for site in self.unread)
        return "\n".join(lines)


def analyze_branches(
    graph: RevisionGraph, heads: Sequence[str] | None = None, bodies: BodyCache | None = None
) -> BranchAnalysis:
    """Analyze the branches of ``heads`` (default: every head) and find their conflicts.

    Only the branch revisions' files are read; ``bodies`` keeps them between calls.
    """
    split = split_branches(graph, graph.heads if heads is None else heads)
    bodies = bodies if bodies is not None else BodyCache()
    touches: dict[str, tuple[Touch, ...]] = {}
    unread: list[TouchSite] = []
    for revision in split.reached_by:
        path = graph.revisions[revision].path
        if not path:
            touches[revision] = ()
            continue
        body = bodies.get(path)
        if body.error is not None:
            touches[revision] = (Touch(NOT_UNDERSTOOD, None, None, 1, detail=body.error),)
        else:
            touches[revision] = body.touches
        unread.extend(TouchSite(revision, path, t) for t in touches[revision] if t.opaque)
    conflicts: list[Conflict] = []
    for index, head in enumerate(split.heads):
        for other in split.heads[index + 1 :]:
            conflicts.extend(
                _conflicts_between(
                    _sites(graph, split.apart(head, other), touches),
                    _sites(graph, split.apart(other, head), touches),
                )
            )
    return BranchAnalysis(
        heads=split.heads,
        merge_bases=split.merge_bases,
        branches=tuple(Branch(head, split.only_from(head)) for head in split.heads),
        shared=tuple(r for r, reached in split.reached_by.items() if reached.bit_count() > 1),
        touches=touches,
        conflicts=tuple(conflicts),
        unread=tuple(unread),
    )


def _sites(
    graph: RevisionGraph, revisions: Iterable[str], touches: Mapping[str, tuple[Touch, ...]]
) -> list[TouchSite]:
    """The understood touches of revisions, oldest revision first, in line order."""
    return [
        TouchSite(revision, graph.revisions[revision].path, touch)
        for revision in reversed(list(revisions))
        for touch in touches[revision]
        if not touch.opaque
    ]


def _conflicts_between(first: list[TouchSite], second: list[TouchSite]) -> list[Conflict]:
    """Every risky pair of touches, one from each side; each pair reported once."""
    by_key: dict[str, list[TouchSite]] = {}
    for site in second:
        for key in _keys(site.touch):
            by_key.setdefault(key, []).append(site)
    found: list[Conflict] = []
    for site in first:
        seen: set[int] = set()
        for key in _keys(site.touch):
            for other in by_key.get(key, ()):
                if id(other) in seen:
                    continue
                seen.add(id(other))
                judged = _judge(site.touch, other.touch)
                if judged is not None:
                    found.append(Conflict(judged[0], judged[1], site, other))
    return found


def _keys(touch: Touch) -> set[str]:
    """Lookup keys under which two touches may clash: the tables and names they involve."""
    keys = {f"name:{touch.name}"} if touch.name is not None else set()
    for table in (touch.table, touch.new_name if touch.kind == "rename_table" else None):
        if table is not None:
            keys.add(f"table:{_bare(table)}")
    return keys


def _judge(a: Touch, b: Touch) -> tuple[str, str] | None:
    """The conflict kind and subject of two touches from different branches, if risky."""
    if a.bind != b.bind:
        return None
    if a.kind in COLUMN_KINDS and b.kind in COLUMN_KINDS and _same_table(a.table, b.table):
        return _column_conflict(a, b)
    table_conflict = _table_conflict(a, b) or _table_conflict(b, a)
    if table_conflict is not None:
        return table_conflict
    return _named_conflict(a, b)


def _column_conflict(a: Touch, b: Touch) -> tuple[str, str] | None:
    """Two column operations on one table: the same column, or the same new name."""
    if a.name == b.name:
        subject = f"column {a.table}.{a.name}"
        if a.kind == b.kind == "add_column":
            return "same_name", subject
        if "drop_column" in (a.kind, b.kind):
            return "dropped_while_changed", subject
        if a.new_name is not None and b.new_name is not None:
            return "same_rename", subject
        return "same_column", subject
    produced_a = (
        a.new_name if a.new_name is not None else (a.name if a.kind == "add_column" else None)
    )
    produced_b = (
        b.new_name if b.new_name is not None else (b.name if b.kind == "add_column" else None)
    )
    if produced_a is not None and produced_a == produced_b:
        return "same_name", f"column {a.table}.{produced_a}"
    return None


def _table_conflict(removal: Touch, other: Touch) -> tuple[str, str] | None:
    """A table dropped or renamed away on one side, touched (or renamed too) on the other."""
    if removal.kind in _TABLE_CREATIONS and other.kind in _TABLE_CREATIONS:
        produced = removal.new_name if removal.kind == "rename_table" else removal.table
        other_produced = other.new_name if other.kind == "rename_table" else other.table
        if _same_table(produced, other_produced):
            return "same_name", f"table {produced}"
    if removal.kind not in _TABLE_REMOVALS or not _same_table(removal.table, other.table):
        return None
    if removal.kind == other.kind == "rename_table":
        return "same_rename", f"table {removal.table}"
    return "dropped_while_changed", f"table {removal.table}"


def _named_conflict(a: Touch, b: Touch) -> tuple[str, str] | None:
    """An index or constraint name created on both sides, or dropped on one, used on the other."""
    if a.name is None or a.name != b.name:
        return None
    kinds = {a.kind, b.kind}
    if not kinds <= _NAMED_CREATIONS | _NAMED_REMOVALS:
        return None
    noun = "index" if kinds & {"create_index", "drop_index"} else "constraint"
    subject = f"{noun} {a.name}"
    if kinds & _NAMED_REMOVALS:
        return "dropped_while_changed", subject
    return "same_name", subject


def _bare(table: str) -> str:
    """A table name without its schema."""
    return table.rsplit(".", 1)[-1]


def _same_table(a: str | None, b: str | None) -> bool:
    """True for one table, named with or without its schema on either side."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    return ("." not in a or "." not in b) and _bare(a) == _bare(b)


@dataclass(frozen=True)
class MergePlan:
    """What ``merge`` would do: the analysis (conflicts first), the merge revision, the upgrades.

    ``upgrade`` is the plan of ``upgrade heads`` once the merge revision exists: for each
    database, the revisions it would run, in Alembic's order, ending with the merge.
    """

    analysis: BranchAnalysis
    parents: tuple[str, ...]
    revision: str
    message: str
    branch_label: str | None
    upgrade: Plan

    def describe(self, graph: RevisionGraph) -> str:
        """The plan as text, conflicts first."""
        analysis = self.analysis.describe(graph)
        label = f", branch label {self.branch_label!r}" if self.branch_label else ""
        # Alembic writes one parent as a string, several as a tuple
        parents = repr(self.parents[0]) if len(self.parents) == 1 else repr(self.parents)
        merge = (
            f"Merge revision: {self.revision} {self.message!r}, down_revision = {parents}{label}"
        )
        upgrades = [f"  {line}" for line in self.upgrade.describe().splitlines()]
        return "\n".join([analysis, merge, "After the merge:", *upgrades])


def plan_merge(
    graph: RevisionGraph,
    names: Sequence[str],
    statuses: Sequence[DatabaseStatus],
    message: str | None = None,
    revision: str | None = None,
    branch_label: str | None = None,
    bodies: BodyCache | None = None,
) -> MergePlan:
    """Plan ``merge <names>``: resolve them as Alembic does, analyze, order each database's run.

    Raises ``GraphError`` where Alembic's merge would refuse (unknown names, the same head
    twice, a revision that is not a head).
    """
    if not names:
        raise GraphError("name the revisions to merge, e.g. 'heads'")
    refused = why_no_writing(graph.diagnostics)
    if refused is not None:
        raise GraphError(f"cannot merge: {refused}")
    parents: list[str] = []
    for name in names:
        parents.extend(graph.resolve(name))
    if len(set(parents)) != len(parents):
        raise GraphError("Duplicate head revisions specified")
    for parent in parents:
        if graph.children[parent]:
            raise GraphError(f"Revision {parent} is not a head revision")
    labels = {label: r for r, scanned in graph.revisions.items() for label in scanned.branch_labels}
    paths = {r: scanned.path for r, scanned in graph.revisions.items()}
    try:
        check_new_revision(revision, branch_label, paths, labels)
    except UnsafeValue as exc:
        raise GraphError(str(exc)) from exc
    new_id = revision or NEW_MERGE
    text = message if message is not None else DEFAULT_MERGE_MESSAGE
    merged = build_graph(
        [
            *graph.revisions.values(),
            ScannedRevision(revision=new_id, down_revision=tuple(parents), message=text),
        ]
    )
    return MergePlan(
        analysis=analyze_branches(graph, parents, bodies),
        parents=tuple(parents),
        revision=new_id,
        message=text,
        branch_label=branch_label,
        upgrade=plan_upgrade(merged, statuses, "heads"),
    )


def revision_title(graph: RevisionGraph, revision: str) -> str:
    """A revision id with its message, on one line: ``bbbb0002 (add email)``."""
    message = one_line(graph.revisions[revision].message)
    return f"{revision} ({message})" if message else revision


def _listed(revisions: Sequence[str]) -> str:
    """Revision ids, newest first, the rest counted when there are many."""
    if len(revisions) <= _SHOWN_REVISIONS:
        return ", ".join(revisions)
    shown = ", ".join(revisions[:_SHOWN_REVISIONS])
    return f"{shown} and {len(revisions) - _SHOWN_REVISIONS} more"


def count(number: int, noun: str) -> str:
    """``1 revision``, ``3 revisions``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
