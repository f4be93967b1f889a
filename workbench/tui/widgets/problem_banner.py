"""A one-line banner above the panes while the revision files have problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from textual.widgets import Static

from workbench.core.scan import Diagnostic


def problem_summary(diagnostics: Sequence[Diagnostic]) -> str:
    """``3 problems in the revision files (2 missing_parent, 1 unreadable): press ! to list``."""
    kinds = Counter(diagnostic.kind for diagnostic in diagnostics)
    detail = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    noun = "problem" if len(diagnostics) == 1 else "problems"
    return f"⚠ {len(diagnostics)} {noun} in the revision files ({detail}): press ! to list them"


class ProblemBanner(Static):
    """Hidden while there is nothing wrong; the summary of the graph's diagnostics otherwise."""

    DEFAULT_CSS = """
    ProblemBanner {
        display: none;
        background: $error 30%;
        color: $text;
        padding: 0 1;
        &.-shown { display: block; }
    }
    """

    def show_problems(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Show the summary, or hide the banner when there are no problems."""
        self.set_class(bool(diagnostics), "-shown")
        self.update(problem_summary(diagnostics) if diagnostics else "")
