"""A one-line banner above the panes while the revision files, the heads or a database are wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.widgets import Static

from workbench.core.databases import DatabaseState
from workbench.core.scan import Diagnostic
from workbench.core.verdict import refusals, summary, worth_a_line

if TYPE_CHECKING:  # the doctor comes with its first problems, after the first screen
    from workbench.core.doctor import Problem


def problem_summary(diagnostics: Sequence[Diagnostic]) -> str:
    """``broken history: 3 problems in the revision files (2 missing parents, 1 cycle)``."""
    noun = "problem" if len(diagnostics) == 1 else "problems"
    text = f"{len(diagnostics)} {noun} in the revision files ({summary(diagnostics)})"
    return f"broken history: {text}" if refusals(diagnostics) else text


def problem_phrase(problem: Problem, with_keys: bool = True) -> str:
    """A few words on one of the doctor's problems, and the key that fixes it (``with_keys``).

    ``2 heads: M merges or L linearizes``, ``default on unknown revision 'abc'``.
    """
    if problem.kind == "multiple_heads":
        linearize = " or L linearizes" if problem.other_fixes else ""
        keys = f": M merges{linearize}" if with_keys else ""
        return f"{len(problem.revisions)} heads{keys}"
    if problem.kind == "unknown_revision":
        revisions = ", ".join(repr(revision) for revision in problem.revisions)
        return f"{problem.database} on unknown revision {revisions}"
    if problem.kind == "behind":
        count = len(problem.revisions)
        noun = "revision" if count == 1 else "revisions"
        keys = ": U upgrades" if with_keys and problem.fix_command else ""
        return f"{problem.database} is {count} {noun} behind{keys}"
    if problem.kind == "other_branch":
        return f"{problem.database}: {DatabaseState.OTHER_BRANCH.value}"
    return f"{problem.database}: {problem.kind.replace('_', ' ')}"


def banner_text(
    diagnostics: Sequence[Diagnostic], problems: Sequence[Problem], with_keys: bool = True
) -> str:
    """Every problem in a few words, the doctor's first, then how to see the details."""
    parts = [problem_phrase(problem, with_keys) for problem in problems]
    if diagnostics:
        parts.append(problem_summary(diagnostics))
    return f"⚠ {' · '.join(parts)} (press ! for details)"


class ProblemBanner(Static):
    """Hidden while nothing is wrong; the scan's diagnostics and the doctor's problems otherwise.

    The two are shown as they arrive: the diagnostics with each scan, the doctor's problems
    once the databases have been read on that scan's graph.
    """

    DEFAULT_CSS = """
    ProblemBanner {
        display: none;
        background: $warning 30%;
        color: $text;
        padding: 0 1;
        &.-shown { display: block; }
        &.-error { background: $error 30%; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._diagnostics: Sequence[Diagnostic] = ()
        self._problems: Sequence[Problem] = ()
        self._with_keys = True

    def show_problems(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Show what the latest scan found that Alembic refuses, or that leaves a state unknown."""
        self._diagnostics = worth_a_line(diagnostics)
        self._show()

    def show_doctor_problems(self, problems: Sequence[Problem], with_keys: bool = True) -> None:
        """Show what the doctor found in the heads and the databases, and the keys fixing it."""
        self._problems = problems
        self._with_keys = with_keys
        self._show()

    def _show(self) -> None:
        """The banner for both kinds of problems, or no banner when there are none."""
        shown = bool(self._diagnostics or self._problems)
        severe = bool(refusals(self._diagnostics)) or _any_error(self._problems)
        self.set_class(shown, "-shown")
        self.set_class(severe, "-error")
        text = banner_text(self._diagnostics, self._problems, self._with_keys)
        self.update(text if shown else "")


def _any_error(problems: Sequence[Problem]) -> bool:
    """True when one of the doctor's problems is an error, not a warning."""
    if not problems:
        return False
    from workbench.core.doctor import ERROR

    return any(problem.severity == ERROR for problem in problems)
