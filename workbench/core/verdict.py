"""What Alembic makes of the revision files, judged from the scan's diagnostics.

One definition for every face (status, graph, doctor, plans, the workbench): which findings
make Alembic refuse the history, which leave a value the static scan cannot know (Alembic
may load the file fine; nothing may then be claimed, advised or written from a guess), and
which are only worth a note. ``tests/core/test_alembic_verdict.py`` holds each kind against
Alembic itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from workbench.core.scan import Diagnostic

# Alembic cannot load the history: every command fails (for duplicate ids, its map loads with
# a head too many, so ``upgrade`` fails with "Multiple head revisions").
REFUSED_KINDS = frozenset(
    {
        "unreadable",
        "syntax_error",
        "duplicate_id",
        "missing_parent",
        "missing_dependency",
        "cycle",
        "empty_dependency",
        "illegal_id",
        "duplicate_label",
    }
)
# A header value the scan cannot know without running the file; Alembic may load it.
UNKNOWN_KINDS = frozenset(
    {
        "unknown_id",
        "unknown_parents",
        "unknown_labels",
        "unknown_dependencies",
        "unresolved_parent",
        "unresolved_dependency",
    }
)
# Unknowns that leave the heads and the bases unknown, and with them any upgrade path.
_HEADS_UNKNOWN = frozenset({"unknown_id", "unknown_parents", "unresolved_parent"})
# Unknowns that leave what an upgrade runs unknown (the heads stay known).
_UPGRADES_UNKNOWN = _HEADS_UNKNOWN | {"unknown_dependencies", "unresolved_dependency"}
# Alembic loads the history but warns on every command.
WARNING_KINDS = frozenset({"loaded_twice"})

_KIND_NAMES = {
    "unreadable": ("unreadable file", "unreadable files"),
    "syntax_error": ("file that does not compile", "files that do not compile"),
    "duplicate_id": ("duplicate revision id", "duplicate revision ids"),
    "missing_parent": ("missing parent", "missing parents"),
    "missing_dependency": ("missing dependency", "missing dependencies"),
    "cycle": ("cycle", "cycles"),
    "empty_dependency": ("empty depends_on on a base", "empty depends_on on bases"),
    "illegal_id": ("illegal revision id", "illegal revision ids"),
    "duplicate_label": ("branch label used twice", "branch labels used twice"),
    "unknown_id": ("revision id not known", "revision ids not known"),
    "unknown_parents": ("down_revision not known", "down_revisions not known"),
    "unknown_labels": ("branch_labels not known", "branch_labels not known"),
    "unknown_dependencies": ("depends_on not known", "depends_on not known"),
    "unresolved_parent": ("parent not found", "parents not found"),
    "unresolved_dependency": ("dependency not found", "dependencies not found"),
    "loaded_twice": ("file loaded twice", "files loaded twice"),
    "missing_folder": ("missing version folder", "missing version folders"),
}


def refusals(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The findings for which Alembic refuses the history; any at all means it is broken."""
    return [diagnostic for diagnostic in diagnostics if diagnostic.kind in REFUSED_KINDS]


def unknowns(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The header values the scan cannot know."""
    return [diagnostic for diagnostic in diagnostics if diagnostic.kind in UNKNOWN_KINDS]


def heads_unknown(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The unknowns that leave the heads (and so any merge, linearize or stamp) unknown."""
    return [diagnostic for diagnostic in diagnostics if diagnostic.kind in _HEADS_UNKNOWN]


def upgrades_unknown(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The unknowns that leave what an upgrade runs, and where a database stands, unknown."""
    return [diagnostic for diagnostic in diagnostics if diagnostic.kind in _UPGRADES_UNKNOWN]


def worth_a_line(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """What ``status`` and ``graph`` print of a scan, in order: refusals, the unknowns that
    leave the heads or an upgrade unknown, and the warnings Alembic itself gives.

    A history Alembic loads cleanly gives none; an unknown branch label alone is no reason
    to speak on every call.
    """
    shown = REFUSED_KINDS | _UPGRADES_UNKNOWN | WARNING_KINDS
    return [diagnostic for diagnostic in diagnostics if diagnostic.kind in shown]


def kind_name(kind: str, count: int = 1) -> str:
    """A kind in words, for people: ``missing parent``, ``2 missing parents`` with a count."""
    singular, plural = _KIND_NAMES.get(kind, (kind.replace("_", " "),) * 2)
    return singular if count == 1 else plural


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    """``2 missing parents, 1 file that does not compile``: the kinds counted, in words."""
    kinds = Counter(diagnostic.kind for diagnostic in diagnostics)
    return ", ".join(f"{count} {kind_name(kind, count)}" for kind, count in kinds.most_common())


def line(diagnostic: Diagnostic) -> str:
    """One diagnostic on one line: ``error: path: message`` or ``unknown: ...``."""
    if diagnostic.kind in REFUSED_KINDS:
        label = "error"
    elif diagnostic.kind in UNKNOWN_KINDS:
        label = "unknown"
    else:
        label = "warning"
    return f"{label}: {diagnostic.path or diagnostic.revision or '?'}: {diagnostic.message}"


def why_no_writing(diagnostics: Sequence[Diagnostic]) -> str | None:
    """Why no revision may be written from this graph (a merge, a linearize), or None.

    Alembic refuses the history, or a header the heads depend on is unknown: anything
    written would rest on a guess.
    """
    broken = refusals(diagnostics)
    if broken:
        first = broken[0]
        return (
            f"Alembic cannot load the revision history ({summary(broken)}; first: "
            f"{first.path or first.revision}: {first.message})"
        )
    unknown = heads_unknown(diagnostics)
    if unknown:
        return (
            f"{unknown[0].path}: {unknown[0].message}, so the heads are not known "
            "(make it a literal)"
        )
    return None
