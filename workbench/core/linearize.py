"""Linearize two heads: move one branch on top of the other head instead of writing a merge.

A merge revision keeps both branches in the history forever; when no database has run one
branch yet, pointing that branch's first revision at the other head gives one straight line.
Only that revision's ``down_revision`` (and its docstring's ``Revises:``) change; the rest of
the file stays byte for byte, and the file is written only if unchanged since it was read.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.branches import split_branches
from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.files import OpenedFile, open_file, save_if_unchanged
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.identifiers import revision_id_problem
from workbench.core.scan import ScannedRevision, scan_source
from workbench.core.verdict import why_no_writing

_REVISES_LINE = re.compile(r"^(Revises:[ \t]*)([^\r\n]*)", re.M)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LinearizeRefused(ValueError):
    """Linearizing these heads is not safe or not possible; the message says why, in one line."""


@dataclass(frozen=True)
class LinearizeCheck:
    """What moving ``head``'s branch onto ``onto`` means, once it is known to be allowed.

    ``branch`` holds the revisions that move, oldest first; ``first`` is the one rewritten
    (its parent ``old_parent`` becomes ``onto``).
    """

    head: str
    onto: str
    merge_bases: tuple[str, ...]
    branch: tuple[str, ...]
    first: str
    old_parent: str


@dataclass(frozen=True)
class LinearizePlan:
    """The checked move, the file as read, its new text and the history after the rewrite."""

    check: LinearizeCheck
    opened: OpenedFile
    new_text: str
    graph: RevisionGraph

    @property
    def path(self) -> str:
        """The revision file that is rewritten."""
        return self.opened.path


def check_linearize(
    graph: RevisionGraph, head: str, onto: str, statuses: Sequence[DatabaseStatus]
) -> LinearizeCheck:
    """Check that ``head``'s branch can move onto ``onto``; raise ``LinearizeRefused`` if not.

    Refused when either is not a head, when the branch does not start with exactly one
    single-parent revision, when a revision outside the branch depends on one inside, and
    when any known database has applied a revision of the branch (or cannot be read).
    """
    refused = why_no_writing(graph.diagnostics)
    if refused is not None:
        raise LinearizeRefused(refused)
    for name in (head, onto):
        if name not in graph.revisions:
            raise LinearizeRefused(f"no revision {name!r}")
        if graph.children[name]:
            raise LinearizeRefused(f"{name} is not a head; linearize moves a head's branch")
    if head == onto:
        raise LinearizeRefused(f"{head} cannot be moved onto itself")
    split = split_branches(graph, (head, onto))
    branch = split.only_from(head)
    moving = set(branch)
    starts = [r for r in branch if any(parent not in moving for parent in graph.parents[r])]
    if len(starts) != 1:
        raise LinearizeRefused(
            f"the branch of {head} starts at {len(starts)} revisions ({', '.join(starts)}); "
            "linearize moves a branch that starts at one revision: merge instead"
        )
    first = starts[0]
    parents = graph.parents[first]
    if len(parents) != 1:
        raise LinearizeRefused(
            f"{first}, the first revision of the branch of {head}, is a merge of "
            f"{', '.join(parents)}; linearize rewrites a single down_revision: merge instead"
        )
    if any(name == "down_revision" for name, _ in graph.revisions[first].expressions):
        raise LinearizeRefused(f"the down_revision of {first} is an expression, not a literal")
    for revision in branch:
        outside = [r for r in graph.dependents[revision] if r not in moving]
        if outside:
            raise LinearizeRefused(
                f"{outside[0]} depends on {revision} of the branch being moved; "
                "moving it would put a revision above one that needs it: merge instead"
            )
    _refuse_if_applied(graph, moving, statuses)
    return LinearizeCheck(
        head=head,
        onto=onto,
        merge_bases=split.merge_bases,
        branch=tuple(reversed(branch)),
        first=first,
        old_parent=parents[0],
    )


def _refuse_if_applied(
    graph: RevisionGraph, moving: set[str], statuses: Sequence[DatabaseStatus]
) -> None:
    """Refuse when any database ran a revision of the branch, or may have: naming each."""
    holders: list[str] = []
    for status in statuses:
        if status.state is DatabaseState.UNREACHABLE:
            holders.append(f"database {status.name} cannot be read ({status.reason})")
            continue
        unknown = [revision for revision in status.current if revision not in graph.revisions]
        if unknown:
            holders.append(
                f"database {status.name} stands on {', '.join(unknown)}, which no revision file has"
            )
            continue
        applied = graph.ancestors(status.current) & moving
        if applied:
            ordered = [revision for revision in graph.order if revision in applied]
            holders.append(f"database {status.name} has applied {', '.join(ordered)}")
    if holders:
        raise LinearizeRefused(
            "; ".join(holders) + ": linearize rewrites only revisions no database has run"
        )


def plan_linearize(
    graph: RevisionGraph, head: str, onto: str, statuses: Sequence[DatabaseStatus]
) -> LinearizePlan:
    """Check the move, read the first revision's file and compute its new text and history."""
    check = check_linearize(graph, head, onto, statuses)
    problem = revision_id_problem(check.onto, max_length=None)
    if problem is not None:
        raise LinearizeRefused(f"{problem}; linearize writes only ids safe in a file and in SQL")
    scanned = graph.revisions[check.first]
    try:
        opened = open_file(scanned.path)
    except (OSError, UnicodeDecodeError) as error:
        raise LinearizeRefused(f"cannot read {scanned.path}: {error}") from error
    new_text = rewrite_down_revision(opened.text, check.old_parent, check.onto)
    rescanned = scan_source(new_text, scanned.path)
    if (
        not isinstance(rescanned, ScannedRevision)
        or rescanned.revision != check.first
        or rescanned.down_revision != (check.onto,)
    ):
        raise LinearizeRefused(f"{scanned.path} could not be rewritten safely; edit it by hand")
    moved = scanned._replace(down_revision=(check.onto,), revises=rescanned.revises)
    revisions = [moved if r == check.first else s for r, s in graph.revisions.items()]
    return LinearizePlan(check, opened, new_text, build_graph(revisions))


def apply_linearize(plan: LinearizePlan) -> None:
    """Write the rewritten file atomically; ``FileChangedError`` if it changed meanwhile."""
    save_if_unchanged(plan.opened, plan.new_text)


def rewrite_down_revision(text: str, old_parent: str, new_parent: str) -> str:
    """Point a revision file's ``down_revision`` (and ``Revises:`` line) at ``new_parent``.

    Only the literal naming ``old_parent`` changes, keeping its quotes and its form (a plain
    string or a one-element tuple or list); every other byte of the file stays as it was.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as error:
        raise LinearizeRefused(f"the revision file does not parse: {error}") from error
    value = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets, assigned = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, assigned = [statement.target], statement.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "down_revision" for t in targets):
            value = assigned
    literal = _parent_literal(value, old_parent)
    starts = _line_starts(text)
    edits = [(*_span(text, starts, literal), new_parent, old_parent)]
    docstring = _docstring_node(tree)
    if docstring is not None:
        doc_start, doc_end = _span(text, starts, docstring)
        match = _REVISES_LINE.search(text, doc_start, doc_end)
        if match is not None:
            edits.append((match.start(2), match.end(2), new_parent, None))
    for start, end, replacement, replaced in sorted(edits, reverse=True):
        segment = text[start:end]
        if replaced is not None:
            if segment.count(replaced) != 1:
                raise LinearizeRefused(f"down_revision {segment} is not a plain literal")
            segment = segment.replace(replaced, replacement)
        else:
            segment = replacement
        text = text[:start] + segment + text[end:]
    return text


def _parent_literal(value: ast.expr | None, old_parent: str) -> ast.Constant:
    """The string literal naming the parent, alone or as the one element of a tuple or list."""
    if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == 1:
        value = value.elts[0]
    if isinstance(value, ast.Constant) and value.value == old_parent:
        return value
    raise LinearizeRefused(f"down_revision is not the literal {old_parent!r}; edit it by hand")


def _docstring_node(tree: ast.Module) -> ast.Constant | None:
    """The module docstring's node, if the file has one."""
    if tree.body and isinstance(tree.body[0], ast.Expr):
        node = tree.body[0].value
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node
    return None


def _line_starts(text: str) -> list[int]:
    """The offset where each line starts, by Python's line breaks (1-based like ``ast``)."""
    return [0, 0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def _span(text: str, starts: list[int], node: ast.expr) -> tuple[int, int]:
    """A node's start and end as text offsets (``ast`` counts columns in UTF-8 bytes)."""

    def offset(line: int, column: int) -> int:
        start = starts[line]
        head = text[start : start + column]
        while len(head.encode()) > column:
            head = head[:-1]
        return start + len(head)

    end_line = node.end_lineno or node.lineno
    end_column = node.end_col_offset if node.end_col_offset is not None else node.col_offset
    return offset(node.lineno, node.col_offset), offset(end_line, end_column)
