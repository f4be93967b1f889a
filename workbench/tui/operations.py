"""The writing half of the workbench: upgrade, downgrade, stamp, edit, merge, new revision.

Each action asks first (a confirmation with the plan from ``core.plan``, or a message prompt),
then runs in the runner's child process behind a progress screen; afterwards the databases
are read again and the user is told exactly where each one stands.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import SuspendNotSupported

from workbench.core.editor import EditorError, editor_command, open_in_editor
from workbench.core.files import open_file
from workbench.core.plan import Plan, plan_downgrade, plan_stamp, plan_upgrade
from workbench.core.runner import Operation
from workbench.tui.keys import WRITING_ACTIONS
from workbench.tui.messages import HistoryLoaded, StatusesRead
from workbench.tui.runs import (
    Outcome,
    Preview,
    VersionTable,
    name_to_type,
    plan_preview,
    status_summary,
)
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.editor import EditorScreen
from workbench.tui.screens.progress import ProgressScreen
from workbench.tui.screens.prompt import PromptAnswer, PromptScreen
from workbench.tui.viewer import STICKY, WorkbenchViewer

SHORT_ID = 12
DATABASE_ACTIONS = frozenset(
    {"upgrade_selected", "upgrade_heads", "downgrade_selected", "stamp_selected"}
)
PLANNERS = {"upgrade": plan_upgrade, "downgrade": plan_downgrade, "stamp": plan_stamp}

Report = tuple[str, str]
"""A report to give once the databases have been read again: (title, severity)."""


class WorkbenchOperations(WorkbenchViewer):
    """The workbench with the actions that write files and databases."""

    _report: Report | None = None
    """What to say once the databases have been read again after an operation."""
    _select_after_load: str | None = None
    """The revision to select once the graph is scanned again (a file just written)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writing actions are greyed out in read-only mode and while they cannot run."""
        if action not in WRITING_ACTIONS:
            return True
        if self.read_only or self.history is None or self.operation_running:
            return None
        if action in DATABASE_ACTIONS:
            status = self.target_status
            if status is None or status.read_only:
                return None
        if action in ("upgrade_selected", "downgrade_selected", "stamp_selected", "edit_revision"):
            return True if self.graph_view.revision is not None else None
        return True

    def action_upgrade_selected(self) -> None:
        """Upgrade the target database to the selected revision."""
        self._confirm_plan("upgrade", self.graph_view.revision)

    def action_upgrade_heads(self) -> None:
        """Upgrade the target database to the heads."""
        self._confirm_plan("upgrade", "heads")

    def action_downgrade_selected(self) -> None:
        """Downgrade the target database to the selected revision."""
        self._confirm_plan("downgrade", self.graph_view.revision)

    def action_stamp_selected(self) -> None:
        """Stamp the target database with the selected revision (purge is offered)."""
        self._confirm_plan("stamp", self.graph_view.revision)

    def _confirm_plan(self, action: str, target: str | None) -> None:
        """Plan the action, show the plan and its SQL, and run it once confirmed."""
        history, status = self.history, self.target_status
        if history is None or status is None or target is None:
            return
        graph, statuses = history.graph, self.database_panel.statuses
        plan = PLANNERS[action](graph, statuses, target)
        replan: Callable[[bool], Plan] | None = None
        if action == "stamp":

            def replan(purge: bool) -> Plan:
                return plan_stamp(graph, statuses, target, purge)

        shown = "the heads" if target == "heads" else target[:SHORT_ID]
        title = f"{action.capitalize()} {status.name} to {shown}"
        messages = {
            revision: graph.revisions[revision].message
            for database in plan.databases
            for revision in database.revisions
        }
        launcher = self.launcher
        version_table = next(
            (
                VersionTable(target.version_table, target.version_table_schema)
                for target in self.project.targets
                if target.name == status.name
            ),
            VersionTable(),
        )

        def load_preview(plan: Plan) -> Preview:
            return plan_preview(plan, status, launcher, version_table)

        screen = ConfirmScreen(title, plan, messages, name_to_type, load_preview, replan)
        self.push_screen(screen, callback=lambda chosen: self._run_plan(title, chosen))

    def _run_plan(self, title: str, plan: Plan | None) -> None:
        """Run a confirmed plan; the databases are read again however it ends."""
        if plan is None:
            return
        total = sum(len(database.revisions) for database in plan.databases)
        self._run(title, plan.operation(self.project.directory), total, self._after_database_run)

    def _run(
        self,
        title: str,
        operation: Operation,
        total: int,
        after: Callable[[str, Outcome], None],
    ) -> None:
        """Run an operation behind the progress screen, then hand its outcome to ``after``."""
        self.operation_running = True
        self.log_pane.add_line(f"── {title}", "bold")

        def ended(outcome: Outcome | None) -> None:
            self.operation_running = False
            assert outcome is not None
            if outcome.kind != "finished":
                self.log_pane.add_class("-shown")
            after(title, outcome)

        screen = ProgressScreen(title, total, lambda: self.launcher.start(operation))
        self.push_screen(screen, callback=ended)

    def on_progress_screen_log_line(self, message: ProgressScreen.LogLine) -> None:
        """Every line an operation prints goes to the log pane too."""
        self.log_pane.add_line(message.text, message.style)

    def _after_database_run(self, title: str, outcome: Outcome) -> None:
        """Read the databases again; say where they stand once read."""
        severity = {"finished": "information", "cancelled": "warning"}.get(outcome.kind, "error")
        self._report = (f"{title}: {_ending(outcome)}", severity)
        self.refresh_statuses()

    def on_statuses_read(self, message: StatusesRead) -> None:
        """After an operation, say exactly where each database stands now, as read."""
        if self._report is None or message.generation != self._status_generation:
            return
        text, severity = self._report
        self._report = None
        sticky = severity != "information"
        timeout = STICKY if sticky else 8
        suffix = "\n(x dismisses this message)" if sticky else ""
        self.notify(
            f"{text}\n{status_summary(message.statuses)}{suffix}",
            severity=severity,  # type: ignore[arg-type]
            timeout=timeout,
        )

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        """After a merge or a new revision, select the revision just written."""
        revision, self._select_after_load = self._select_after_load, None
        if revision is not None:
            self.call_after_refresh(self.graph_view.select_revision, revision)

    def action_edit_revision(self) -> None:
        """Edit the selected revision in $EDITOR, or in the built-in editor if need be."""
        history, revision = self.history, self.graph_view.revision
        if history is None or revision is None:
            return
        path = history.graph.revisions[revision].path
        try:
            editor_command()
        except EditorError:
            self._edit_inside(path)
            return
        try:
            with self.suspend():
                open_in_editor(path)
        except SuspendNotSupported:
            self._edit_inside(path)
            return
        except EditorError as exc:
            self.notify(str(exc), title="Editor", severity="error", timeout=STICKY)
            return
        self.load_history()

    def _edit_inside(self, path: str) -> None:
        """The built-in editor; a save re-scans the graph."""
        try:
            opened = open_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"cannot open {path}: {exc}", severity="error", timeout=STICKY)
            return

        def closed(saved: bool | None) -> None:
            if saved:
                self.load_history()

        self.push_screen(EditorScreen(opened, STICKY), callback=closed)

    def action_merge_heads(self) -> None:
        """Ask for a message, then write a revision merging the marked heads."""
        marked = self._marked_in_row_order()
        if len(marked) < 2:
            self.notify("mark two or more heads with space first", severity="warning")
            return
        names = " and ".join(revision[:SHORT_ID] for revision in marked)
        prompt = PromptScreen("Merge heads", f"A revision merging {names}.", f"merge {names}")

        def answered(answer: PromptAnswer | None) -> None:
            if answer is None:
                return
            arguments = {
                "directory": self.project.directory,
                "revisions": marked,
                "message": answer.message,
            }
            self._run(f"Merge {names}", Operation("merge", arguments), 0, self._after_writing)

        self.push_screen(prompt, callback=answered)

    def _marked_in_row_order(self) -> list[str]:
        """The marked heads, newest first, as the graph shows them."""
        marked = self.graph_view.marked
        history = self.history
        if history is None:
            return []
        return [row.revision for row in history.rows if row.revision in marked]

    def action_new_revision(self) -> None:
        """Ask for a message (and whether to autogenerate), then write a new revision."""
        history, selected = self.history, self.graph_view.revision
        if history is None:
            return
        heads = history.graph.heads
        if len(heads) > 1 and selected not in heads:
            self.notify(
                "there are several heads: select the one to build on first", severity="warning"
            )
            return
        head = selected if len(heads) > 1 and selected is not None else "head"
        on_top = "on top of " + (head[:SHORT_ID] if head != "head" else "the head")
        prompt = PromptScreen(
            "New revision",
            f"A new revision {on_top}.",
            "",
            switch_label="autogenerate: compare the models with the database",
        )

        def answered(answer: PromptAnswer | None) -> None:
            if answer is None:
                return
            arguments = {
                "directory": self.project.directory,
                "message": answer.message,
                "autogenerate": answer.switch,
                "head": head,
            }
            title = f"New revision {answer.message!r}"
            self._run(title, Operation("revision", arguments), 0, self._after_writing)

        self.push_screen(prompt, callback=answered)

    def _after_writing(self, title: str, outcome: Outcome) -> None:
        """After a revision or merge: re-scan, select the new file, or say what went wrong."""
        if outcome.kind != "finished":
            self.notify(
                f"{title}: {_ending(outcome)}\n(x dismisses this message)",
                severity="error",
                timeout=STICKY,
            )
            return
        scripts = outcome.scripts
        if not scripts:
            self.notify(f"{title}: no changes in the schema were detected; nothing written")
            return
        self._select_after_load = str(scripts[-1]["revision"])
        self.notify(f"{title}: wrote {', '.join(str(s['path']) for s in scripts)}", timeout=8)
        self.load_history()


def _ending(outcome: Outcome) -> str:
    """``done.``, ``cancelled.`` or ``failed: <why>`` for a notification."""
    if outcome.kind == "finished":
        return "done."
    if outcome.message and outcome.message != outcome.kind:
        return f"{outcome.kind}: {outcome.message}"
    return f"{outcome.kind}."
