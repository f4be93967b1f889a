"""The preview of a linearize: the one line of the file that changes, and the history after it.

``core.linearize.plan_linearize`` has checked the move and computed the new file and graph;
this screen shows them (the new graph drawn as the main one is, scrollable) and is dismissed
with the plan to apply, or None.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from workbench.core.branches import Conflict, count
from workbench.core.identifiers import SHORT_ID
from workbench.core.layout import LayoutRow
from workbench.core.linearize import LinearizePlan
from workbench.tui.highlight import highlighted
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.screens.merge_plan import conflicts_text
from workbench.tui.widgets.graph_view import GraphView
from workbench.tui.widgets.key_bar import KeyBar


def file_change(plan: LinearizePlan, shown_path: str) -> str:
    """The rewrite as a diff without context: the ``down_revision`` and ``Revises:`` lines."""
    return "\n".join(
        difflib.unified_diff(
            plan.opened.text.splitlines(),
            plan.new_text.splitlines(),
            fromfile=shown_path,
            tofile=shown_path,
            lineterm="",
            n=0,
        )
    )


class LinearizeScreen(ModalScreen[LinearizePlan | None]):
    """Shows what a linearize rewrites and the graph it leaves; ctrl+s rewrites the file."""

    BINDINGS = bindings_for(Scope.BRANCH_PLAN)

    def __init__(
        self,
        plan: LinearizePlan,
        rows: Sequence[LayoutRow],
        markers: Mapping[str, Sequence[str]],
        conflicts: Sequence[Conflict],
        shown_path: str,
    ) -> None:
        super().__init__()
        self.plan = plan
        self._rows = rows
        self._markers = markers
        self._conflicts = conflicts
        self._shown_path = shown_path
        self.new_graph = GraphView(id="new-graph")

    def compose(self) -> ComposeResult:
        """What moves, the file's change, the conflicts if any, then the new graph."""
        check = self.plan.check
        with Vertical(classes="dialog") as frame:
            frame.border_title = (
                f"Linearize: move the branch of {check.head[:SHORT_ID]} "
                f"onto {check.onto[:SHORT_ID]}"
            )
            frame.border_subtitle = "ctrl+s rewrites the file · esc cancels"
            yield Static(id="change")
            with Vertical(id="new-graph-pane") as pane:
                pane.border_title = "The history after the rewrite (↑ the revisions that move)"
                yield self.new_graph
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Rewrite", id="write", variant="primary")
        yield KeyBar()

    def on_mount(self) -> None:
        """Describe the change and draw the new graph, its moved revisions tinted."""
        check = self.plan.check
        moving = count(len(check.branch), "revision")
        summary = Text()
        summary.append(
            f"{moving} ({', '.join(r[:SHORT_ID] for r in check.branch)}) move on top of "
            f"{check.onto[:SHORT_ID]}; no merge revision is written.\n"
        )
        summary.append(f"{self._shown_path}: ", style="bold")
        summary.append(f"down_revision {check.old_parent!r} → {check.onto!r}\n")
        change = self.query_one("#change", Static)
        diff = highlighted(file_change(self.plan, self._shown_path), "diff", change)
        parts = [summary, diff]
        if self._conflicts:
            parts.append(conflicts_text(self._conflicts, self.plan.graph))
        change.update(Group(*parts))
        self.new_graph.show_rows(self._rows, self.plan.graph, frozenset())
        self.new_graph.markers = self._markers
        self.new_graph.pending = frozenset(check.branch)
        self.new_graph.focus()

    def on_graph_view_revision_highlighted(self, event: GraphView.RevisionHighlighted) -> None:
        """The preview's cursor is its own: the main screen's selection stays where it was."""
        event.stop()

    @on(Button.Pressed, "#write")
    def _write_pressed(self) -> None:
        self.action_write_plan()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_write_plan(self) -> None:
        """Rewrite the file as shown."""
        self.dismiss(self.plan)

    def action_cancel(self) -> None:
        """Go back without writing anything."""
        self.dismiss(None)
