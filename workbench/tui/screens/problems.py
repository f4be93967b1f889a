"""Every problem found, listed: the doctor's (heads, databases) with their fixes, then the files'.

The graph marks the rows concerned; this list also shows problems that have no row (a file
that could not be read at all, a database on a revision no file has). Enter on a problem the
workbench can fix dismisses the list with it, and the app opens that fix.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from workbench.core.doctor import ERROR, Problem
from workbench.core.scan import Diagnostic
from workbench.core.verdict import kind_name
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar


def problem_text(problem: Problem, openable: bool) -> Text:
    """A doctor's problem: its severity and message, then each command that fixes it."""
    text = Text()
    if problem.severity == ERROR:
        text.append("✖ error  ", style="bold red")
    else:
        text.append("⚠ warning  ", style="bold yellow")
    text.append(problem.message)
    if problem.fix_command:
        text.append("\n  fix: ", style="dim")
        text.append(problem.fix_command, style="bold")
    for fix in problem.other_fixes:
        text.append("\n  or:  ", style="dim")
        text.append(fix, style="bold")
    if openable:
        text.append("\n  enter opens the fix here", style="italic green")
    return text


def diagnostic_text(diagnostic: Diagnostic) -> Text:
    """A revision file's diagnostic: kind, revision, file, and what is wrong."""
    text = Text()
    text.append(f"⚠ {kind_name(diagnostic.kind)}  ", style="bold red")
    where = [diagnostic.revision, os.path.basename(diagnostic.path) if diagnostic.path else None]
    text.append("  ".join(part for part in where if part) or "—", style="bold")
    text.append(f"\n  {diagnostic.message}")
    return text


class ProblemsScreen(ModalScreen[Problem | None]):
    """The doctor's problems, then the graph's diagnostics; dismissed with one to fix, or None."""

    BINDINGS: ClassVar = [*bindings_for(Scope.LISTS), *bindings_for(Scope.PROBLEMS)]

    def __init__(
        self,
        diagnostics: Sequence[Diagnostic],
        problems: Sequence[Problem] = (),
        openable: Collection[Problem] = (),
    ) -> None:
        super().__init__()
        self._diagnostics = diagnostics
        self._problems = problems
        self._openable = openable

    def compose(self) -> ComposeResult:
        """One entry per problem, the doctor's first."""
        count = len(self._problems) + len(self._diagnostics)
        with Vertical(classes="dialog") as frame:
            frame.border_title = f"{count} problem{'s' if count != 1 else ''}"
            frame.border_subtitle = "enter opens the fix · esc closes"
            yield OptionList(
                *(
                    Option(problem_text(problem, problem in self._openable))
                    for problem in self._problems
                ),
                *(Option(diagnostic_text(diagnostic)) for diagnostic in self._diagnostics),
            )
        yield KeyBar()

    def action_open_fix(self) -> None:
        """Close the list with the highlighted problem, when the workbench can fix it."""
        index = self.query_one(OptionList).highlighted
        problem = (
            self._problems[index] if index is not None and index < len(self._problems) else None
        )
        if problem is not None and problem in self._openable:
            self.dismiss(problem)
            return
        fix = problem.fix_command if problem is not None else None
        how = f"run {fix}" if fix else "correct it by hand"
        self.notify(f"no fix to open here: {how}", severity="warning")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a problem opens its fix too."""
        event.stop()
        self.action_open_fix()

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)
