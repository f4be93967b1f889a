"""The merge plan: where the branches clash, the merge revision, each database's run after it.

Alembic's merge is blind; this screen lays out ``core.branches.plan_merge`` (conflicts first),
takes the merge revision's message, id and branch label, and is dismissed with the final plan
to write, or None.
"""

from __future__ import annotations

import linecache
import os
from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from workbench.core.branches import BranchAnalysis, Conflict, MergePlan, revision_title
from workbench.core.graph import GraphError, RevisionGraph
from workbench.core.identifiers import SHORT_ID
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.screens.confirm import plan_renderable
from workbench.tui.widgets.key_bar import KeyBar

Replan = Callable[[str, str | None, str | None], MergePlan]
"""Plans the merge again with a message, a revision id and a branch label (GraphError if not)."""


def conflicts_text(conflicts: Sequence[Conflict], graph: RevisionGraph) -> Text:
    """Each conflict: what both branches touch, then both revisions with file, line and code."""
    text = Text()
    if not conflicts:
        text.append("No conflicts found between the branches.\n", style="green")
        return text
    noun = "conflict" if len(conflicts) == 1 else "conflicts"
    text.append(
        f"✖ {len(conflicts)} {noun}: both branches change the same things; "
        "check that they still work in the order below\n",
        style="bold red",
    )
    for conflict in conflicts:
        text.append(f"  {conflict.subject}", style="bold red")
        text.append(f"  ({conflict.kind.replace('_', ' ')})\n", style="red")
        for site in (conflict.first, conflict.second):
            text.append(f"    {revision_title(graph, site.revision)}", style="bold")
            text.append(f"  {os.path.basename(site.path)} line {site.touch.line}", style="cyan")
            text.append(f"  {site.touch.describe()}\n")
            code = _source_line(site.path, site.touch.line)
            if code:
                text.append(f"      {code}\n", style="bold yellow")
    return text


def _source_line(path: str, line: int) -> str:
    """One line of a revision file, as it is on disk now."""
    linecache.checkcache(path)
    return linecache.getline(path, line).strip()


def branches_text(analysis: BranchAnalysis, graph: RevisionGraph) -> Text:
    """The common ancestor, each head's own revisions, and what could not be read."""
    text = Text()
    bases = ", ".join(revision_title(graph, base) for base in analysis.merge_bases) or "none"
    text.append(f"Common ancestor: {bases}\n")
    for branch in analysis.branches:
        own = ", ".join(revision[:SHORT_ID] for revision in branch.revisions) or "none"
        text.append(f"Branch of {branch.head[:SHORT_ID]}: ", style="bold")
        text.append(f"{own}\n")
    if analysis.unread:
        text.append("Not read, so not checked for conflicts:\n", style="yellow")
        for site in analysis.unread:
            text.append(f"  {site.describe()}\n", style="yellow")
    return text


def upgrade_renderable(plan: MergePlan, graph: RevisionGraph, message: str) -> RenderableType:
    """What ``upgrade heads`` runs on each database once the merge revision exists."""
    messages = {
        revision: graph.revisions[revision].message
        for database in plan.upgrade.databases
        for revision in database.revisions
        if revision in graph.revisions
    }
    messages[plan.revision] = message
    heading = Text("After the merge, upgrading to the head runs:", style="bold")
    return Group(heading, plan_renderable(plan.upgrade, messages))


class MergePlanScreen(ModalScreen[MergePlan | None]):
    """Shows a merge plan and asks for the merge revision's headers; ctrl+s writes it."""

    BINDINGS = bindings_for(Scope.BRANCH_PLAN)

    def __init__(self, title: str, plan: MergePlan, graph: RevisionGraph, replan: Replan) -> None:
        super().__init__()
        self._title = title
        self.plan = plan
        self._graph = graph
        self._replan = replan

    def compose(self) -> ComposeResult:
        """Conflicts and branches, the merge revision's inputs, the runs after the merge."""
        plan, graph = self.plan, self._graph
        parents = ", ".join(revision_title(graph, parent) for parent in plan.parents)
        with Vertical(classes="dialog") as frame:
            frame.border_title = self._title
            frame.border_subtitle = "ctrl+s writes the merge revision · esc cancels"
            with VerticalScroll(id="merge-plan"):
                yield Static(conflicts_text(plan.analysis.conflicts, graph), id="conflicts")
                yield Static(branches_text(plan.analysis, graph), id="branches")
                yield Static(f"Merge revision, down_revision = {parents}", id="merge-heading")
                yield Input(plan.message, placeholder="message", id="message")
                yield Input(placeholder="revision id (empty: a random one)", id="rev-id")
                yield Input(placeholder="branch label (optional)", id="branch-label")
                yield Static(id="problem")
                yield Static(upgrade_renderable(plan, graph, plan.message), id="after")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Write", id="write", variant="primary")
        yield KeyBar()

    def on_mount(self) -> None:
        """Name each input in its border; type the message at once."""
        for name, label in (
            ("message", "message"),
            ("rev-id", "revision id"),
            ("branch-label", "branch label"),
        ):
            self.query_one(f"#{name}", Input).border_title = label
        self.query_one("#message", Input).focus()

    @on(Input.Changed, "#message")
    def _message_typed(self, event: Input.Changed) -> None:
        self.query_one("#after", Static).update(
            upgrade_renderable(self.plan, self._graph, event.value.strip())
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_write_plan()

    @on(Button.Pressed, "#write")
    def _write_pressed(self) -> None:
        self.action_write_plan()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_write_plan(self) -> None:
        """Write the merge revision with the headers typed, unless the merge refuses them."""
        message = self.query_one("#message", Input).value.strip()
        if not message:
            self.notify("type a message first", severity="warning")
            return
        rev_id = self.query_one("#rev-id", Input).value.strip() or None
        branch_label = self.query_one("#branch-label", Input).value.strip() or None
        try:
            self.plan = self._replan(message, rev_id, branch_label)
        except GraphError as exc:
            self.query_one("#problem", Static).update(Text(f"✖ cannot merge: {exc}"))
            self.notify(f"cannot merge: {exc}", severity="error")
            return
        self.dismiss(self.plan)

    def action_cancel(self) -> None:
        """Go back without writing anything."""
        self.dismiss(None)
