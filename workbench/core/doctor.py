"""Every broken state of a migration project, each explained with the command that fixes it.

Users meet these states as Alembic errors ("Multiple head revisions are present", "Can't
locate revision identified by ...") long after their cause; this finds them all at once, as
data, so the CLI prints them and the workbench shows them as a banner. Nothing is changed.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.branches import revision_title
from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.gitinfo import GitLocation, locate_revision, repository_root
from workbench.core.graph import RevisionGraph
from workbench.core.linearize import LinearizeRefused, check_linearize
from workbench.core.touches import BodyCache, RevisionBody
from workbench.core.verdict import (
    REFUSED_KINDS,
    UNKNOWN_KINDS,
    WARNING_KINDS,
    heads_unknown,
    refusals,
    upgrades_unknown,
)

ERROR = "error"
WARNING = "warning"
INFO = "info"

# The problem kind of a refusal, where it is not the diagnostic's own kind.
_PROBLEM_KINDS = {"unreadable": "unreadable_file", "duplicate_id": "duplicate_revision"}
# Alembic loads the history despite these, but a user wants to know.
_DOUBTFUL_DIAGNOSTICS = WARNING_KINDS | {"missing_folder"}


@dataclass(frozen=True)
class Problem:
    """One broken state: what it is, how bad, the command that fixes it, what it concerns.

    ``fix_command`` is None where no command fixes it (a file to correct by hand, a server
    to reach); ``other_fixes`` are alternatives (linearize instead of merge);
    ``stamp_target`` is the revision the fix stamps (after emptying the version table), when
    the fix is exactly that stamp, so a workbench can open its confirmation.
    """

    kind: str
    severity: str
    message: str
    fix_command: str | None
    revisions: tuple[str, ...] = ()
    database: str | None = None
    other_fixes: tuple[str, ...] = ()
    stamp_target: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "fix_command": self.fix_command,
            "revisions": list(self.revisions),
            "database": self.database,
            "other_fixes": list(self.other_fixes),
            "stamp_target": self.stamp_target,
        }


def examine(
    graph: RevisionGraph,
    statuses: Sequence[DatabaseStatus],
    repository_path: str | None = None,
    bodies: BodyCache | None = None,
    *,
    command: str,
) -> list[Problem]:
    """Read what ``diagnose`` needs (revision bodies, git for unknown revisions), then diagnose.

    Git runs only when a database stands on a revision no file has, in the repository
    holding ``repository_path`` (if any). ``command`` is how the user calls the migration
    commands (``flask db``, ``workbench``): only the caller knows it.
    """
    cache = bodies if bodies is not None else BodyCache()
    read = {
        revision: cache.get(scanned.path)
        for revision, scanned in graph.revisions.items()
        if scanned.path.endswith(".py")
    }
    unknown = sorted(
        {
            revision
            for status in statuses
            for revision in status.current
            if revision not in graph.revisions
        }
    )
    locations: dict[str, GitLocation | None] = {}
    root = repository_root(repository_path) if unknown and repository_path else None
    if root is not None:
        locations = {revision: locate_revision(root, revision) for revision in unknown}
    return diagnose(graph, statuses, read, locations, command=command)


def diagnose(
    graph: RevisionGraph,
    statuses: Sequence[DatabaseStatus],
    bodies: Mapping[str, RevisionBody] | None = None,
    locations: Mapping[str, GitLocation | None] | None = None,
    *,
    command: str,
) -> list[Problem]:
    """Every problem of the history, its files and its databases, errors first.

    ``bodies`` are the revisions' read functions (for empty, duplicated and unparsable
    ones); ``locations`` says where git has each unknown revision (None: searched, not
    found; absent: not searched); the fixes start with ``command``. Pure: nothing is read
    or run.
    """
    problems = _history_problems(graph, statuses, command)
    problems.extend(_body_problems(graph, bodies or {}, command))
    problems.extend(_stale_docstrings(graph, command))
    migrated = [status for status in statuses if not status.read_only]
    for status in statuses:
        problem = _database_problem(graph, status, locations, command, len(migrated) > 1)
        if problem is not None:
            problems.append(problem)
    return sorted(problems, key=lambda problem: _SEVERITY_ORDER[problem.severity])


_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def needs_attention(problems: Sequence[Problem]) -> bool:
    """True when a problem is an error or a warning (information alone is not a problem)."""
    return any(problem.severity != INFO for problem in problems)


def describe_problems(problems: Sequence[Problem]) -> str:
    """The problems as text: one paragraph each, its fixes indented below it."""
    if not problems:
        return "No problems found.\n"
    lines = []
    for problem in problems:
        lines.append(f"{problem.severity}: {problem.message}")
        if problem.fix_command:
            lines.append(f"  fix: {problem.fix_command}")
        lines.extend(f"  or:  {fix}" for fix in problem.other_fixes)
    return "\n".join(lines) + "\n"


def _history_problems(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus], command: str
) -> list[Problem]:
    """Problems of the revision files: graph diagnostics and several heads.

    While the history is broken or a header the heads depend on is unknown, the heads are
    not counted: no merge is advised that Alembic could not run, or on a guess.
    """
    problems = []
    broken = refusals(graph.diagnostics)
    uncertain = set(upgrades_unknown(graph.diagnostics))
    for diagnostic in graph.diagnostics:
        where = diagnostic.path or diagnostic.revision or "?"
        revisions = (diagnostic.revision,) if diagnostic.revision else ()
        if diagnostic.kind in REFUSED_KINDS:
            problems.append(
                Problem(
                    _PROBLEM_KINDS.get(diagnostic.kind, diagnostic.kind),
                    ERROR,
                    f"{where}: {diagnostic.message}; Alembic cannot load the history",
                    None,
                    revisions,
                )
            )
        elif diagnostic.kind in UNKNOWN_KINDS:
            consequence = (
                "; the heads and where each database stands cannot be checked"
                if diagnostic in uncertain
                else ""
            )
            problems.append(
                Problem(
                    "unknown_header",
                    WARNING if consequence else INFO,
                    f"{where}: {diagnostic.message}{consequence}",
                    None,
                    revisions,
                )
            )
        elif diagnostic.kind in _DOUBTFUL_DIAGNOSTICS:
            problems.append(
                Problem(diagnostic.kind, WARNING, f"{where}: {diagnostic.message}", None, revisions)
            )
    if len(graph.heads) > 1 and not heads_unknown(graph.diagnostics) and not broken:
        heads = ", ".join(revision_title(graph, head) for head in graph.heads)
        problems.append(
            Problem(
                "multiple_heads",
                ERROR,
                f"{len(graph.heads)} heads: {heads}; `upgrade` needs one head",
                f'{command} merge heads -m "merge heads"',
                graph.heads,
                other_fixes=_linearize_fixes(graph, statuses, command),
            )
        )
    return problems


def _linearize_fixes(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus], command: str
) -> tuple[str, ...]:
    """The ``linearize`` commands allowed for two heads, moving the shorter branch first."""
    if len(graph.heads) != 2:
        return ()
    allowed = []
    for head, onto in (graph.heads, tuple(reversed(graph.heads))):
        try:
            check = check_linearize(graph, head, onto, statuses)
        except LinearizeRefused:
            continue
        fix = _command_line(command, "linearize", head, "--onto", onto)
        allowed.append((len(check.branch), fix))
    return tuple(fix for _, fix in sorted(allowed))


def _body_problems(
    graph: RevisionGraph, bodies: Mapping[str, RevisionBody], command: str
) -> list[Problem]:
    """Revision files that do not parse, do nothing, or repeat a parallel branch's change."""
    problems = []
    merges = set(graph.merge_points)
    reported = {diagnostic.path for diagnostic in refusals(graph.diagnostics)}
    by_fingerprint: dict[str, list[str]] = {}
    for revision in graph.order:
        body = bodies.get(revision)
        if body is None:
            continue
        if body.error is not None and body.path in reported:
            continue
        if body.error is not None:
            problems.append(
                Problem(
                    "unreadable_file",
                    ERROR,
                    f"{body.path}: {body.error}; Alembic cannot load it",
                    None,
                    (revision,),
                )
            )
        elif body.empty and revision not in merges:
            problems.append(
                Problem(
                    "empty_revision",
                    WARNING,
                    f"{revision_title(graph, revision)} changes nothing: "
                    "its upgrade and downgrade only pass",
                    _command_line(command, "edit", revision),
                    (revision,),
                )
            )
        elif body.fingerprint is not None:
            by_fingerprint.setdefault(body.fingerprint, []).append(revision)
    if heads_unknown(graph.diagnostics):
        return problems  # which branches are parallel is not known
    for revisions in by_fingerprint.values():
        problems.extend(_parallel_duplicates(graph, revisions))
    return problems


def _stale_docstrings(graph: RevisionGraph, command: str) -> list[Problem]:
    """Docstrings whose ``Revises:`` names other revisions than ``down_revision`` does.

    Information only: Alembic reads ``down_revision``; the docstring is a comment that
    rebased or merged histories often leave behind. Compared as sets of ids, not as text.
    """
    problems = []
    for revision, scanned in graph.revisions.items():
        revises = scanned.revises
        if revises is None or set(revises) == set(scanned.down_revision):
            continue
        if any(name == "down_revision" for name, _ in scanned.expressions):
            continue
        problems.append(
            Problem(
                "stale_docstring",
                INFO,
                f"{revision_title(graph, revision)}: its docstring says Revises: "
                f"{', '.join(revises) or 'nothing'}, but down_revision is "
                f"{', '.join(scanned.down_revision) or 'None'} (Alembic reads down_revision; "
                "the docstring is only a comment)",
                f"{command} edit {revision}",
                (revision,),
            )
        )
    return problems


def _parallel_duplicates(graph: RevisionGraph, revisions: Sequence[str]) -> list[Problem]:
    """Revisions with the same code where neither comes after the other: both would run."""
    problems: list[Problem] = []
    if len(revisions) < 2:
        return problems
    below = {revision: graph.ancestors([revision], dependencies=False) for revision in revisions}
    for index, first in enumerate(revisions):
        for second in revisions[index + 1 :]:
            if first in below[second] or second in below[first]:
                continue
            problems.append(
                Problem(
                    "duplicate_change",
                    WARNING,
                    f"{revision_title(graph, first)} and {revision_title(graph, second)} "
                    "make the same change on parallel branches; after a merge both would "
                    "run: keep one (empty the other)",
                    None,
                    (first, second),
                )
            )
    return problems


def _database_problem(
    graph: RevisionGraph,
    status: DatabaseStatus,
    locations: Mapping[str, GitLocation | None] | None,
    command: str,
    several_databases: bool,
) -> Problem | None:
    """What is wrong with one database, if anything."""
    name = f"database {status.name} ({status.url})"
    watched = " (watched only: this app does not migrate it)" if status.read_only else ""
    several_heads = len(graph.heads) > 1
    upgrade = f"{command} upgrade heads" if several_heads else f"{command} upgrade"

    def problem(kind: str, severity: str, message: str, fix: str | None, **extra: Any) -> Problem:
        return Problem(
            kind,
            severity,
            message + watched,
            None if status.read_only else fix,
            database=status.name,
            **extra,
        )

    state = status.state
    if state is DatabaseState.UNREACHABLE:
        return problem("unreachable", ERROR, f"{name} cannot be read: {status.reason}", None)
    if state is DatabaseState.UNKNOWN_REVISION:
        return _unknown_revision(
            graph, status, name, locations, command, several_databases, problem
        )
    if state is DatabaseState.INCONSISTENT:
        return _stale_rows(graph, status, name, command, problem)
    if state is DatabaseState.NOT_STAMPED:
        target = "heads" if several_heads else "head"
        return problem(
            "not_stamped",
            WARNING,
            f"{name} has tables but an empty version table; if its schema matches the latest "
            "revision stamp it, otherwise stamp the revision it matches",
            f"{command} stamp {target}",
        )
    if state is DatabaseState.EMPTY and status.pending:
        return problem("empty_database", WARNING, f"{name}: {status.reason}", upgrade)
    if state is DatabaseState.BEHIND:
        return problem(
            "behind", WARNING, f"{name} is {status.reason}", upgrade, revisions=status.pending
        )
    if state is DatabaseState.OTHER_BRANCH:
        return problem(
            "other_branch", WARNING, f"{name} is {status.reason}", upgrade, revisions=status.pending
        )
    return None


def _unknown_revision(
    graph: RevisionGraph,
    status: DatabaseStatus,
    name: str,
    locations: Mapping[str, GitLocation | None] | None,
    command: str,
    several_databases: bool,
    problem: Callable[..., Problem],
) -> Problem:
    """A database on a revision no file has: where git has it, and the nearest known ancestor."""
    unknown = [revision for revision in status.current if revision not in graph.revisions]
    sentences = [f"{name} stands on {', '.join(unknown)}, which no revision file here has"]
    fix = stamp_target = None
    others: list[str] = []
    for revision in unknown:
        if locations is None or revision not in locations:
            continue
        location = locations[revision]
        if location is None:
            sentences.append(f"git has no file for {revision} on any branch or in its history")
            continue
        sentences.append(f"{revision} is on {location.describe()}")
        ancestors = _known_ancestors(graph, location)
        if len(ancestors) != 1:
            continue
        ancestor = ancestors[0]
        sentences.append(
            f"its nearest ancestor here is {revision_title(graph, ancestor)}: stamping marks the "
            f"database as there without undoing {revision}; downgrading from "
            f"{location.ref} undoes it"
        )
        if len(unknown) == 1:
            fix, stamp_target = _command_line(command, "stamp", "--purge", ancestor), ancestor
            checkout = shlex.quote(location.ref)
            downgrade = _command_line(command, "downgrade", ancestor)
            others.append(f"git checkout {checkout} && {downgrade}")
    if several_databases and fix is not None:
        sentences.append("stamp and downgrade act on every database this app migrates")
    return problem(
        "unknown_revision",
        ERROR,
        "; ".join(sentences),
        fix,
        revisions=tuple(unknown),
        other_fixes=tuple(others),
        stamp_target=stamp_target,
    )


def _command_line(command: str, *arguments: str) -> str:
    """``command`` followed by shell-quoted arguments: a line that works pasted into a shell.

    Revision ids read from a database or a file can hold quotes, spaces or ``$``.
    """
    return " ".join([command, *(shlex.quote(argument) for argument in arguments)])


def _known_ancestors(graph: RevisionGraph, location: GitLocation) -> list[str]:
    """The nearest revisions below the located one that the working tree also has."""
    found: list[str] = []
    seen = {location.revision}
    pending = [location.revision]
    while pending:
        for parent in location.parents.get(pending.pop(), ()):
            if parent in seen:
                continue
            seen.add(parent)
            if parent in graph.revisions:
                found.append(parent)
            else:
                pending.append(parent)
    return [
        revision
        for revision in found
        if not any(other != revision and revision in graph.ancestors([other]) for other in found)
    ]


def _stale_rows(
    graph: RevisionGraph,
    status: DatabaseStatus,
    name: str,
    command: str,
    problem: Callable[..., Problem],
) -> Problem:
    """A version table with a row below another row: keep the top rows only."""
    rows = status.current
    stale = [
        row
        for row in rows
        if any(row in graph.ancestors([other]) for other in rows if other != row)
    ]
    tops = [row for row in rows if row not in stale]
    fixes = [_command_line(command, "stamp", "--purge", tops[0])] if tops else []
    fixes.extend(_command_line(command, "stamp", top) for top in tops[1:])
    return problem(
        "stale_rows",
        ERROR,
        f"{name}'s version table holds {', '.join(rows)}; {', '.join(stale)} "
        f"{'is' if len(stale) == 1 else 'are'} below another row (stale)",
        " && ".join(fixes) or None,
        revisions=tuple(stale),
        stamp_target=tops[0] if len(tops) == 1 else None,
    )
