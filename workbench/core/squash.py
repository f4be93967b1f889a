"""Squash: what collapsing an old history into one baseline revision removes, keeps and loses.

A squash of REVISION turns REVISION and everything it depends on into one baseline revision
that keeps REVISION's id and creates the schema as it stands there. This module holds the
plan as data: which revisions go, which stay, where every database stands, why the squash is
refused, what the baseline cannot carry (data steps, views, functions, triggers made by raw
SQL, with the revision and line that made them), and the comparison of two schemas that
proves the baseline builds what the old revisions built. Nothing here runs a migration.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.graph import GraphError, RevisionGraph
from workbench.core.verdict import refusals as history_refusals
from workbench.core.verdict import summary

SHOWN_FILES = 10
"""How many removed files and kept revisions a plan lists before "and N more"."""
OBJECT_KINDS = frozenset({"view", "materialized view", "function", "procedure", "trigger"})
"""Objects that raw SQL makes and autogenerate cannot render."""

_CREATE_OBJECT = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(?:definer\s*=\s*\S+\s+)?"
    r"(?:(?:temp|temporary|recursive)\s+)*"
    r"(materialized\s+view|view|function|procedure|trigger|constraint\s+trigger)"
    r"\s+(?:if\s+not\s+exists\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)
_DATA_STATEMENT = re.compile(r"^\s*(insert|update|delete|merge|copy|truncate)\b", re.IGNORECASE)
_DATA_CALLS = frozenset({"bulk_insert", "get_bind", "get_context", "inline_literal"})
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Uncarried:
    """Something a squashed revision does that the baseline cannot carry.

    ``kind`` is ``data`` (rows written: ``op.execute`` of INSERT/UPDATE/DELETE,
    ``bulk_insert``, Python code on the connection), an object raw SQL creates (``view``,
    ``function``, ``trigger``...) with its ``name``, or ``sql`` (other raw SQL: the proof
    tells whether the baseline reproduces its effect).
    """

    revision: str
    path: str
    line: int
    kind: str
    name: str
    text: str

    def describe(self) -> str:
        """``view active_users: versions/0003_views.py line 14 (revision 0003)``."""
        what = f"{self.kind} {self.name}" if self.name else self.kind
        return f"{what}: {self.path} line {self.line} (revision {self.revision}): {self.text}"


@dataclass(frozen=True)
class Refusal:
    """Why the squash cannot go ahead; ``database`` and ``revision`` name where, when known."""

    reason: str
    database: str | None = None
    revision: str | None = None

    def describe(self) -> str:
        """The refusal in one line, naming the database first."""
        return f"database {self.database}: {self.reason}" if self.database else self.reason


@dataclass(frozen=True)
class DatabasePosition:
    """Where one known database stands when the squash is planned."""

    name: str
    current: tuple[str, ...]
    state: str
    read_only: bool = False

    def describe(self) -> str:
        """``default: at 3f2a (at head)``."""
        where = ", ".join(self.current) if self.current else "no revision"
        watched = ", watched" if self.read_only else ""
        return f"{self.name}: at {where} ({self.state}{watched})"


@dataclass(frozen=True)
class SquashPlan:
    """What a squash of ``revision`` does: the files it removes, what stays, who stands where.

    ``squashed`` is in upgrade order and ends with ``revision``, whose file becomes the
    baseline; ``paths`` maps each squashed revision to its file.
    """

    revision: str
    squashed: tuple[str, ...]
    paths: Mapping[str, str]
    kept: tuple[str, ...]
    positions: tuple[DatabasePosition, ...]
    refusals: tuple[Refusal, ...]
    uncarried: tuple[Uncarried, ...] = ()
    branch_labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """True when anything keeps the squash from being written."""
        return bool(self.refusals)

    @property
    def baseline_path(self) -> str:
        """The file the baseline is written to: REVISION's own."""
        return self.paths[self.revision]

    @property
    def removed_paths(self) -> tuple[str, ...]:
        """The files the squash deletes (every squashed one but REVISION's)."""
        return tuple(self.paths[item] for item in self.squashed if item != self.revision)

    def with_refusals(self, more: Iterable[Refusal]) -> SquashPlan:
        """The plan with further refusals (found outside the graph: git, files)."""
        return _replace(self, refusals=(*self.refusals, *more))

    @property
    def not_carried(self) -> tuple[Uncarried, ...]:
        """Data steps and raw-SQL objects: what the baseline leaves out, to add by hand."""
        return tuple(item for item in self.uncarried if item.kind != "sql")

    @property
    def raw_sql(self) -> tuple[Uncarried, ...]:
        """Other raw SQL: carried as far as the schema shows it, which the proof checks."""
        return tuple(item for item in self.uncarried if item.kind == "sql")

    def with_uncarried(self, found: Iterable[Uncarried]) -> SquashPlan:
        """The plan with what the squashed files do that the baseline cannot carry."""
        return _replace(self, uncarried=(*self.uncarried, *found))

    def with_notes(self, more: Iterable[str]) -> SquashPlan:
        """The plan with further notes for the user."""
        return _replace(self, notes=(*self.notes, *more))

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        data = asdict(self)
        data["paths"] = dict(self.paths)
        return data


def _replace(plan: SquashPlan, **changes: Any) -> SquashPlan:
    from dataclasses import replace

    return replace(plan, **changes)


def plan_squash(
    graph: RevisionGraph, revision: str, statuses: Sequence[DatabaseStatus]
) -> SquashPlan:
    """Plan the squash of ``revision`` and everything it depends on; refusals as data.

    Refused: a history Alembic cannot load; a revision that is not one revision; a revision
    that is not an ancestor of every head; a kept revision whose parent or dependency would
    be removed; a database standing before the revision, or whose position cannot be read.
    """
    broken = history_refusals(graph.diagnostics)
    if broken:
        reason = f"the revision history is broken, Alembic cannot load it ({summary(broken)})"
        return _refused(revision, statuses, Refusal(reason))
    try:
        resolved = graph.resolve(revision)
    except GraphError as exc:
        return _refused(revision, statuses, Refusal(str(exc), revision=revision))
    if len(resolved) != 1:
        reason = f"{revision} names {len(resolved)} revisions; squash one revision"
        return _refused(revision, statuses, Refusal(reason, revision=revision))
    target = resolved[0]
    squashed_set = graph.ancestors([target])
    squashed = tuple(item for item in graph.order if item in squashed_set)
    kept = tuple(item for item in graph.order if item not in squashed_set)
    found: list[Refusal] = []
    for head in graph.heads:
        if target not in graph.ancestors([head]):
            found.append(
                Refusal(
                    f"{target} is not an ancestor of head {head}: that branch would lose "
                    "the revisions it shares with the squashed ones",
                    revision=head,
                )
            )
    for item in kept if not found else ():
        for below in (*graph.parents[item], *graph.dependencies[item]):
            if below in squashed_set and below != target:
                found.append(
                    Refusal(
                        f"revision {item} stays but builds on {below}, which the squash removes",
                        revision=item,
                    )
                )
    positions = tuple(_position(status) for status in statuses)
    for status in statuses:
        refusal = _database_refusal(status, target, squashed_set)
        if refusal is not None:
            found.append(refusal)
    labels = sorted({label for item in squashed for label in graph.branch_labels.get(item, ())})
    return SquashPlan(
        revision=target,
        squashed=squashed,
        paths={item: graph.revisions[item].path for item in squashed},
        kept=kept,
        positions=positions,
        refusals=tuple(found),
        branch_labels=tuple(labels),
    )


def _refused(revision: str, statuses: Sequence[DatabaseStatus], refusal: Refusal) -> SquashPlan:
    return SquashPlan(
        revision=revision,
        squashed=(),
        paths={},
        kept=(),
        positions=tuple(_position(status) for status in statuses),
        refusals=(refusal,),
    )


def _position(status: DatabaseStatus) -> DatabasePosition:
    return DatabasePosition(status.name, status.current, status.state.value, status.read_only)


def _database_refusal(status: DatabaseStatus, target: str, squashed: set[str]) -> Refusal | None:
    """Why one database keeps the squash from going ahead, if it does."""
    name = status.name
    if status.state is DatabaseState.EMPTY:
        return None
    if status.state in (
        DatabaseState.UNREACHABLE,
        DatabaseState.UNKNOWN_REVISION,
        DatabaseState.INCONSISTENT,
        DatabaseState.NOT_STAMPED,
        DatabaseState.BROKEN_HISTORY,
        DatabaseState.UNDETERMINED,
    ):
        where = ", ".join(status.current) or None
        return Refusal(
            f"cannot tell whether it stands before {target} ({status.state.value}: "
            f"{status.reason})",
            database=name,
            revision=where,
        )
    before = [item for item in status.current if item in squashed and item != target]
    if before:
        return Refusal(
            f"stands at {', '.join(before)}, before {target}: upgrade it to {target} or later "
            "first (the revisions it still needs would be gone)",
            database=name,
            revision=before[0],
        )
    return None


def find_uncarried(revision: str, path: str, source: str) -> list[Uncarried]:
    """What one revision file's upgrade functions do that a baseline cannot carry.

    Read with ``ast``, never imported: ``op.execute`` with literal SQL is classified
    (rows written, a view/function/trigger created, or other SQL); ``op.bulk_insert``,
    ``op.get_bind()``/``op.get_context()`` and other ``.execute`` calls are data steps.
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError:
        return []
    found: dict[tuple[int, str, str], Uncarried] = {}
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not function.name.startswith("upgrade"):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            item = _classify_call(revision, path, source, node)
            if item is not None:
                found.setdefault((item.line, item.kind, item.name), item)
    return sorted(found.values(), key=lambda item: item.line)


def _classify_call(revision: str, path: str, source: str, node: ast.Call) -> Uncarried | None:
    attribute = node.func
    assert isinstance(attribute, ast.Attribute)
    text = (ast.get_source_segment(source, node) or attribute.attr).splitlines()[0]
    text = text if len(text) <= 100 else text[:97] + "..."
    on_op = isinstance(attribute.value, ast.Name) and attribute.value.id == "op"
    if attribute.attr == "execute":
        sql = _literal_sql(node.args[0]) if node.args else None
        if sql is None:
            return Uncarried(revision, path, node.lineno, "data", "", text)
        kind, name = classify_sql(sql)
        if kind == "sql" and not on_op:
            kind = "data"
        return Uncarried(revision, path, node.lineno, kind, name, text)
    if on_op and attribute.attr in _DATA_CALLS:
        return Uncarried(revision, path, node.lineno, "data", "", text)
    return None


def _literal_sql(argument: ast.expr) -> str | None:
    """The SQL text of ``"..."`` or ``sa.text("...")``; None when it is not a literal."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if (
        isinstance(argument, ast.Call)
        and argument.args
        and isinstance(argument.args[0], ast.Constant)
        and isinstance(argument.args[0].value, str)
    ):
        return argument.args[0].value
    return None


def classify_sql(sql: str) -> tuple[str, str]:
    """(kind, name) of raw SQL: ``("view", "active_users")``, ``("data", "")``, ``("sql", "")``.

    The first statement decides; an object is named by its unquoted, unqualified name.
    """
    text = _COMMENT.sub(" ", sql).strip()
    match = _CREATE_OBJECT.match(text)
    if match:
        kind = " ".join(match.group(1).lower().split()).replace("constraint trigger", "trigger")
        return kind, unquoted_name(match.group(2).split("(")[0])
    if _DATA_STATEMENT.match(text):
        return "data", ""
    return "sql", ""


def unquoted_name(name: str) -> str:
    """``public."Active"`` -> ``Active``: the last part of a name, without quotes."""
    last = name.rsplit(".", 1)[-1]
    return last.strip('"`[]')


SchemaSnapshot = Mapping[tuple[str, str], str]
"""A schema as comparable text: (kind, name) -> its definition."""


@dataclass(frozen=True)
class SchemaDifference:
    """One object the two schemas disagree on; ``old``/``baseline`` is None where it is missing."""

    database: str
    kind: str
    name: str
    old: str | None
    baseline: str | None

    def describe(self) -> str:
        """The difference in one line, object first."""
        where = f"[{self.database}] {self.kind} {self.name}"
        if self.baseline is None:
            return f"{where}: made by the old revisions, missing through the baseline ({self.old})"
        if self.old is None:
            return f"{where}: made by the baseline only ({self.baseline})"
        return f"{where}: old revisions make {self.old}; the baseline makes {self.baseline}"


def compare_schemas(
    database: str, old: SchemaSnapshot, baseline: SchemaSnapshot
) -> tuple[SchemaDifference, ...]:
    """Every object the two snapshots disagree on, sorted by kind and name."""
    differences = [
        SchemaDifference(database, kind, name, old.get((kind, name)), baseline.get((kind, name)))
        for kind, name in sorted(set(old) | set(baseline))
        if old.get((kind, name)) != baseline.get((kind, name))
    ]
    return tuple(differences)


def left_after_downgrade(database: str, snapshot: SchemaSnapshot) -> tuple[SchemaDifference, ...]:
    """What the baseline's downgrade leaves behind, as differences against an empty schema."""
    return tuple(
        SchemaDifference(database, f"{kind} after downgrade", name, None, definition)
        for (kind, name), definition in sorted(snapshot.items())
    )


def acknowledged(difference: SchemaDifference, uncarried: Sequence[Uncarried]) -> bool:
    """True when a difference is an object the plan already names as not carried."""
    if difference.baseline is not None:
        return False
    name = difference.name.split(" on ", 1)[0].split("(", 1)[0].rsplit(".", 1)[-1].lower()
    kind = difference.kind
    return any(
        item.kind in OBJECT_KINDS
        and item.name.lower() == name
        and (item.kind == kind or {item.kind, kind} <= {"function", "procedure"})
        for item in uncarried
    )


@dataclass(frozen=True)
class Proof:
    """The proof's outcome: per database, how many objects matched and every difference.

    ``blocking`` differences stop the squash; ``expected`` ones are objects the plan names
    as not carried (written only once the user acknowledges them).
    """

    databases: tuple[str, ...]
    compared: int
    blocking: tuple[SchemaDifference, ...] = ()
    expected: tuple[SchemaDifference, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        """True when nothing blocks."""
        return not self.blocking and self.error is None

    def to_dict(self) -> dict[str, Any]:
        """The proof as JSON-ready data."""
        return {**asdict(self), "passed": self.passed}


def judge(
    differences: Sequence[SchemaDifference],
    uncarried: Sequence[Uncarried],
    databases: Sequence[str],
    compared: int,
) -> Proof:
    """Split the differences into those the plan names as not carried and those that block."""
    expected = tuple(item for item in differences if acknowledged(item, uncarried))
    blocking = tuple(item for item in differences if not acknowledged(item, uncarried))
    return Proof(tuple(databases), compared, blocking, expected)


def uncarried_comment(uncarried: Sequence[Uncarried]) -> list[str]:
    """Comment lines the baseline's upgrade carries: what to add by hand, and from where."""
    if not uncarried:
        return []
    lines = ["# Not carried by this baseline (add by hand here, or acknowledge):"]
    lines += [f"#   {item.describe()}" for item in uncarried]
    return lines


@dataclass(frozen=True)
class SquashOutcome:
    """What a written squash did: the baseline file and the files removed."""

    revision: str
    baseline_path: str
    removed: tuple[str, ...] = field(default_factory=tuple)


def plan_lines(plan: SquashPlan) -> list[str]:
    """The plan as terminal lines."""
    count = len(plan.squashed)
    lines = [
        f"Squash {count} revision(s) up to {plan.revision} into one baseline "
        f"(keeps the id {plan.revision}, down_revision None):",
        f"  baseline: {os.path.relpath(plan.baseline_path)} (rewritten)",
    ]
    removed = plan.removed_paths
    lines.append(f"  removes {len(removed)} file(s):")
    lines += [f"    {os.path.relpath(path)}" for path in removed[:SHOWN_FILES]]
    if len(removed) > SHOWN_FILES:
        lines.append(f"    ... and {len(removed) - SHOWN_FILES} more")
    kept = ", ".join(plan.kept[:SHOWN_FILES]) + (" ..." if len(plan.kept) > SHOWN_FILES else "")
    lines.append(f"  keeps {len(plan.kept)} revision(s) after it" + (f": {kept}" if kept else ""))
    if plan.branch_labels:
        lines.append(f"  branch labels carried: {', '.join(plan.branch_labels)}")
    lines.append("Databases:")
    lines += [f"  {position.describe()}" for position in plan.positions] or ["  (none)"]
    if plan.not_carried:
        lines.append("Not carried by the baseline (add by hand in its upgrade, or acknowledge):")
        lines += [f"  {item.describe()}" for item in plan.not_carried]
    if plan.raw_sql:
        lines.append("Raw SQL, carried as far as the schema shows it (the proof checks that):")
        lines += [f"  {item.describe()}" for item in plan.raw_sql]
    lines += [f"Note: {note}" for note in plan.notes]
    return lines


def proof_lines(proof: Proof) -> list[str]:
    """The proof's result as terminal lines, one per difference."""
    databases = ", ".join(proof.databases)
    if proof.error:
        return [f"Proof FAILED ({databases}): {proof.error}"]
    lines = []
    if proof.passed:
        lines.append(
            f"Proof passed ({databases}): the baseline builds the schema the old revisions "
            f"build ({proof.compared} objects compared) and its downgrade leaves it empty"
        )
    else:
        lines.append(f"Proof FAILED ({databases}): {len(proof.blocking)} difference(s)")
        lines += [f"  {difference.describe()}" for difference in proof.blocking]
    if proof.expected:
        lines.append("Missing through the baseline, as named above (not carried):")
        lines += [f"  {difference.describe()}" for difference in proof.expected]
    return lines


@dataclass(frozen=True)
class SquashReport:
    """A squash as the workbench shows it: the plan's and the proof's lines, and what happened."""

    revision: str
    plan: tuple[str, ...]
    refusals: tuple[str, ...] = ()
    proof: tuple[str, ...] = ()
    passed: bool = False
    written: str | None = None

    @property
    def refused(self) -> bool:
        """True when the plan refuses the squash."""
        return bool(self.refusals)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what the child sends)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SquashReport:
        """The report a child sent."""
        return cls(
            revision=data["revision"],
            plan=tuple(data.get("plan", ())),
            refusals=tuple(data.get("refusals", ())),
            proof=tuple(data.get("proof", ())),
            passed=bool(data.get("passed")),
            written=data.get("written"),
        )
