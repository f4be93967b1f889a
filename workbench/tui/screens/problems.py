"""The problems found in the revision files (unreadable files, missing parents...), listed.

The graph marks the rows concerned; this list also shows problems that have no row (a file
that could not be read at all).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer

from workbench.core.scan import Diagnostic
from workbench.tui.keys import Scope, bindings_for


class ProblemsScreen(ModalScreen[None]):
    """A table of the graph's diagnostics: kind, revision, file, message."""

    BINDINGS = bindings_for(Scope.LISTS)

    DEFAULT_CSS = """
    ProblemsScreen {
        align: center middle;
        & > Vertical {
            width: 90%;
            height: 80%;
            border: thick $error;
            background: $surface;
        }
    }
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__()
        self._diagnostics = diagnostics

    def compose(self) -> ComposeResult:
        """The table, one row per diagnostic."""
        with Vertical() as frame:
            frame.border_title = f"{len(self._diagnostics)} problems in the revision files"
            frame.border_subtitle = "esc to close"
            table: DataTable[str] = DataTable(cursor_type="row")
            table.add_columns("kind", "revision", "file", "message")
            for diagnostic in self._diagnostics:
                table.add_row(
                    diagnostic.kind,
                    diagnostic.revision or "—",
                    os.path.basename(diagnostic.path) if diagnostic.path else "—",
                    diagnostic.message,
                )
            yield table
        yield Footer()

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss()
