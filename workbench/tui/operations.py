"""The writing part of the workbench: every action that writes, and the doctor's fixes.

Upgrade, downgrade, stamp, edit, merge, linearize, new revision, verify: each asks first (the
plan from ``core.plan`` or ``core.branches``, a preview, a message prompt or where verify's
scratch databases go), then runs in a child process behind a progress screen;
afterwards the databases are read again and the user is told exactly where each one stands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from textual import events
from textual.app import SuspendNotSupported
from textual.widgets.data_table import RowDoesNotExist

from workbench.core.databases import DatabaseStatus
from workbench.core.editor import EditorError, configured_editor, open_in_editor
from workbench.core.files import FileChangedError, create_file, open_file
from workbench.core.graph import GraphError
from workbench.core.identifiers import SHORT_ID
from workbench.core.layout import layout_graph
from workbench.tui.context import STICKY, Controller, Workbench, thread_work
from workbench.tui.history import History, shown_path
from workbench.tui.keys import WRITING_ACTIONS, WRITING_KEYS
from workbench.tui.viewer import Viewer

BUILT_IN_EDITOR_BYTES = 256_000
"""The largest file the built-in editor opens (some 5,000 lines of code)."""

if TYPE_CHECKING:  # the screens, the planners, the doctor and the child processes' machinery
    # come with first use: the first screen needs none of them
    from workbench.core.branches import MergePlan
    from workbench.core.doctor import Problem
    from workbench.core.linearize import LinearizePlan
    from workbench.core.lock_report import LockReport
    from workbench.core.plan import Plan
    from workbench.core.preview import FixRequest, Preview
    from workbench.core.touches import BodyCache
    from workbench.runtime.client import RunningOperation
    from workbench.runtime.requests import Request
    from workbench.tui.runs import Outcome, PlanPreview
    from workbench.tui.screens.new_revision import NewRevisionAnswer
    from workbench.tui.screens.review import ReviewDecision

DATABASE_ACTIONS = frozenset(
    {"upgrade_selected", "upgrade_heads", "downgrade_selected", "stamp_selected"}
)
FIXABLE_KINDS = frozenset(
    {
        "multiple_heads",
        "behind",
        "empty_database",
        "other_branch",
        "not_stamped",
        "unknown_revision",
    }
)
"""The doctor's problems whose fix the workbench opens: a merge plan, an upgrade or a stamp."""

Report = tuple[str, str]
"""A report to give once the databases have been read again: (title, severity)."""


class Operations(Controller):
    """The actions that write files and databases, each run in a child behind a progress screen.

    After a run it has the ``viewer`` read the databases or scan the files again.
    """

    def __init__(self, app: Workbench, viewer: Viewer) -> None:
        super().__init__(app)
        self.viewer = viewer
        self._report: Report | None = None
        """What to say once the databases have been read again after an operation."""
        self._select_after_load: str | None = None
        """The revision to select once the graph is scanned again (a file just written)."""
        self._doctor_problems: tuple[Problem, ...] = ()
        """What the doctor found in the heads and the databases at the last reading."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writing actions are hidden in read-only mode, and greyed out while they cannot run."""
        if action not in WRITING_ACTIONS:
            return True
        if self.app.read_only:
            return False
        if self.app.history is None or self.app.operation_running:
            return None
        if action in DATABASE_ACTIONS:
            status = self.app.target_status
            if status is None or status.read_only:
                return None
        if action in ("upgrade_selected", "downgrade_selected", "stamp_selected", "edit_revision"):
            return True if self.app.graph_view.revision is not None else None
        return True

    def explain_disabled_key(self, event: events.Key) -> None:
        """A writing key that cannot run now says why, rather than doing nothing."""
        entry = WRITING_KEYS.get(event.key)
        if entry is None or self.app.screen is not self.app.screen_stack[0]:
            return
        if self.check_action(entry.action, ()) is not True:
            self.app.notify(f"{entry.label}: {self._why_not(entry.action)}", severity="warning")

    def _why_not(self, action: str) -> str:
        """Why a writing action cannot run now."""
        status = self.app.target_status
        if self.app.read_only:
            return "read-only (the workbench was opened with --read-only)"
        if self.app.operation_running:
            return "an operation is running"
        if self.app.history is None or (action in DATABASE_ACTIONS and status is None):
            return "still reading the revisions and the databases"
        if action in DATABASE_ACTIONS and status is not None and status.read_only:
            return f"{status.name} is read-only (watched, not migrated)"
        return "select a revision first"

    def upgrade_selected(self) -> None:
        """Upgrade the target database to the selected revision."""
        self._confirm_plan("upgrade", self.app.graph_view.revision)

    def upgrade_heads(self) -> None:
        """Upgrade the target database to the heads."""
        self._confirm_plan("upgrade", "heads")

    def downgrade_selected(self) -> None:
        """Downgrade the target database to the selected revision."""
        self._confirm_plan("downgrade", self.app.graph_view.revision)

    def stamp_selected(self) -> None:
        """Stamp the target database with the selected revision (purge is offered)."""
        self._confirm_plan("stamp", self.app.graph_view.revision)

    def _confirm_plan(self, action: str, target: str | None, purge: bool = False) -> None:
        """Plan the action, show the plan and its SQL, and run it once confirmed.

        ``purge`` starts a stamp's confirmation with the purge switched on.
        """
        history, status = self.app.history, self.app.target_status
        if history is None or status is None or target is None:
            return
        from workbench.core.plan import names_to_confirm, plan_downgrade, plan_stamp, plan_upgrade

        graph, statuses = history.graph, self.app.database_panel.statuses
        planners = {"upgrade": plan_upgrade, "downgrade": plan_downgrade, "stamp": plan_stamp}
        plan = planners[action](graph, statuses, target)
        replan: Callable[[bool], Plan] | None = None
        if action == "stamp":

            def replan(purge: bool) -> Plan:
                return plan_stamp(graph, statuses, target, purge)

            plan = replan(purge)

        shown = "the heads" if target == "heads" else target[:SHORT_ID]
        if len(plan.databases) > 1:
            names = ", ".join(database.name for database in plan.databases)
            title = f"{action.capitalize()} every database ({names}) to {shown}: one run"
        else:
            title = f"{action.capitalize()} {status.name} to {shown}"
        messages = {
            revision: graph.revisions[revision].message
            for database in plan.databases
            for revision in database.revisions
        }
        from workbench.runtime.client import start
        from workbench.runtime.requests import LocksRequest
        from workbench.services.running import locks_result
        from workbench.tui.runs import VersionTable, plan_preview

        launcher, warm = self.app.launcher, self.app.warm_child
        version_table = next(
            (
                VersionTable(target.version_table, target.version_table_schema)
                for target in self.app.project.targets
                if target.name == status.name
            ),
            VersionTable(),
        )

        def load_preview(plan: Plan) -> PlanPreview:
            return plan_preview(plan, status, launcher, version_table, warm)

        def measure(plan: Plan) -> list[LockReport]:
            revisions = dict.fromkeys(
                revision for database in plan.databases for revision in database.revisions
            )
            directory = self.app.project.directory
            return [
                report
                for revision in revisions
                for report in locks_result(
                    start(LocksRequest(directory=directory, revision=revision), launcher)
                )
            ]

        from workbench.tui.screens.confirm import ConfirmScreen

        screen = ConfirmScreen(
            title, plan, messages, names_to_confirm, load_preview, replan, measure
        )
        self.app.push_screen(screen, callback=lambda chosen: self._run_plan(title, chosen))

    def _run_plan(self, title: str, plan: Plan | None) -> None:
        """Run a confirmed plan; the databases are read again however it ends."""
        if plan is None:
            return
        from workbench.services.running import plan_request

        total = sum(len(database.revisions) for database in plan.databases)
        request = plan_request(plan, self.app.project.directory)
        self._run(title, request, total, self._after_database_run)

    def _run(
        self,
        title: str,
        request: Request,
        total: int,
        after: Callable[[str, Outcome], None],
    ) -> None:
        """Run a request behind the progress screen, then hand its outcome to ``after``."""
        from workbench.runtime.client import start

        self.app.operation_running = True
        self.app.log_pane.add_line(f"── {title}", "bold")

        def ended(outcome: Outcome | None) -> None:
            self.app.operation_running = False
            assert outcome is not None
            if outcome.kind != "finished":
                self.app.log_pane.add_class("-shown")
            after(title, outcome)

        from workbench.tui.screens.progress import ProgressScreen

        screen = ProgressScreen(title, total, lambda: start(request, self.app.launcher))
        self.app.push_screen(screen, callback=ended)

    def _after_database_run(self, title: str, outcome: Outcome) -> None:
        """Read the databases again; say where they stand once read."""
        severity = {"finished": "information", "cancelled": "warning"}.get(outcome.kind, "error")
        self._report = (f"{title}: {_ending(outcome)}", severity)
        self.app.log_pane.add_line(f"── {self._report[0]}", "bold")
        self.viewer.refresh_statuses()

    def report_statuses(self, statuses: Sequence[DatabaseStatus]) -> None:
        """After an operation, say exactly where each database stands now, as read."""
        if self._report is None:
            return
        from workbench.tui.runs import status_summary

        text, severity = self._report
        self._report = None
        sticky = severity != "information"
        timeout = STICKY if sticky else 8
        suffix = "\n(x dismisses this message)" if sticky else ""
        self.app.notify(
            f"{text}\n{status_summary(statuses)}{suffix}",
            severity=severity,  # type: ignore[arg-type]
            timeout=timeout,
        )

    def select_written_revision(self) -> None:
        """After a merge or a new revision, select the revision just written, once drawn."""
        revision, self._select_after_load = self._select_after_load, None
        if revision is not None:
            self.app.call_after_refresh(self.app.graph_view.select_revision, revision)

    def edit_revision(self) -> None:
        """Edit the selected revision in $VISUAL or $EDITOR, or in the built-in editor.

        With neither variable set the built-in editor opens, rather than whatever the system
        would guess. Ctrl+C in the external editor ends the editor only, and says so.
        """
        history, revision = self.app.history, self.app.graph_view.revision
        if history is None or revision is None:
            return
        path = history.graph.revisions[revision].path
        try:
            command = configured_editor()
        except EditorError as exc:
            self.app.notify(str(exc), title="Editor", severity="error", timeout=STICKY)
            return
        if command is None:
            self._edit_inside(path)
            return
        before = _contents(path)
        failure: EditorError | None = None
        try:
            # an exception leaving this block would leave the app suspended
            with self.app.suspend():
                try:
                    open_in_editor(path, command=command)
                except EditorError as exc:
                    failure = exc
        except SuspendNotSupported:
            self._edit_inside(path)
            return
        if failure is not None:
            self.app.notify(str(failure), title="Editor", severity="error", timeout=STICKY)
        else:
            changed = _contents(path) != before
            shown = shown_path(path, self.app.project_folder)
            self.app.notify(
                f"{'changed, re-read' if changed else 'unchanged'}:\n{shown}", timeout=6
            )
        self.viewer.load_history()

    def _edit_inside(self, path: str) -> None:
        """The built-in editor; a save re-scans the graph.

        Its text area lays out every line at once, which stalls the workbench for seconds on
        a data migration of megabytes: such a file is left to the user's own editor.
        """
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            self.app.notify(f"cannot open {path}: {exc}", severity="error", timeout=STICKY)
            return
        if size > BUILT_IN_EDITOR_BYTES:
            self.app.notify(
                f"{shown_path(path, self.app.project_folder)} is {size / 1e6:.1f} MB, too large for"
                f" the built-in editor (up to {BUILT_IN_EDITOR_BYTES // 1000} KB): set $EDITOR"
                " to edit it in your own editor",
                title="Editor",
                severity="warning",
                timeout=STICKY,
            )
            return
        try:
            opened = open_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            self.app.notify(f"cannot open {path}: {exc}", severity="error", timeout=STICKY)
            return

        def closed(saved: bool | None) -> None:
            if saved:
                self.viewer.load_history()

        from workbench.tui.screens.editor import EditorScreen

        self.app.push_screen(EditorScreen(opened, STICKY), callback=closed)

    def merge_heads(self) -> None:
        """Show the plan of merging the marked heads (every head when none is marked)."""
        history = self.app.history
        if history is None:
            return
        heads = self._marked_in_row_order()
        if not heads:
            heads = [row.revision for row in history.rows if row.revision in history.graph.heads]
        if len(heads) < 2:
            self.app.notify(
                "mark two or more heads with space (or none, to merge every head)",
                severity="warning",
            )
            return
        self._show_merge_plan(heads)

    def _show_merge_plan(self, heads: list[str]) -> None:
        """Plan the merge of ``heads``; once the plan is accepted, write its merge revision."""
        history = self.app.history
        if history is None:
            return
        graph, statuses, bodies = (
            history.graph,
            self.app.database_panel.statuses,
            self.revision_bodies,
        )
        names = " and ".join(head[:SHORT_ID] for head in heads)
        from workbench.core.branches import plan_merge

        def replan(message: str, rev_id: str | None, branch_label: str | None) -> MergePlan:
            return plan_merge(graph, heads, statuses, message, rev_id, branch_label, bodies)

        try:
            plan = replan(f"merge {names}", None, None)
        except GraphError as exc:
            self.app.notify(f"cannot merge {names}: {exc}", severity="error", timeout=STICKY)
            return
        from workbench.tui.screens.merge_plan import MergePlanScreen

        screen = MergePlanScreen(f"Merge {names}", plan, graph, replan)
        self.app.push_screen(screen, callback=lambda chosen: self._write_merge(names, chosen))

    def _write_merge(self, names: str, plan: MergePlan | None) -> None:
        """Write an accepted merge plan's revision in a child process, then re-scan."""
        if plan is None:
            return
        from workbench.core.branches import NEW_MERGE
        from workbench.runtime.requests import MergeRequest

        request = MergeRequest(
            directory=self.app.project.directory,
            revisions=tuple(plan.parents),
            message=plan.message,
            rev_id=None if plan.revision == NEW_MERGE else plan.revision,
            branch_label=plan.branch_label,
        )
        self._run(f"Merge {names}", request, 0, self._after_writing)

    def _marked_in_row_order(self) -> list[str]:
        """The marked heads, newest first, as the graph shows them."""
        marked = self.app.graph_view.marked
        history = self.app.history
        if history is None:
            return []
        return [row.revision for row in history.rows if row.revision in marked]

    def new_revision(self) -> None:
        """Ask for a message and options; review an autogenerated one before writing it."""
        history, selected = self.app.history, self.app.graph_view.revision
        if history is None:
            return
        heads = history.graph.heads
        if len(heads) > 1 and selected not in heads:
            self.app.notify(
                "there are several heads: select the one to build on first", severity="warning"
            )
            return
        head = selected if len(heads) > 1 and selected is not None else "head"
        on_top = "on top of " + (head[:SHORT_ID] if head != "head" else "the head")
        from workbench.tui.screens.new_revision import NewRevisionScreen

        graph = history.graph
        form = NewRevisionScreen(
            f"A new revision {on_top}.",
            existing={revision: scanned.path for revision, scanned in graph.revisions.items()},
            labels={label: r for r, s in graph.revisions.items() for label in s.branch_labels},
        )

        def answered(answer: NewRevisionAnswer | None) -> None:
            if answer is None:
                return
            if answer.autogenerate:
                self._review_new_revision(answer, head)
                return
            from workbench.runtime.requests import RevisionRequest

            request = RevisionRequest(
                directory=self.app.project.directory,
                message=answer.message,
                autogenerate=False,
                head=head,
                rev_id=answer.rev_id,
                branch_label=answer.branch_label,
                splice=answer.splice,
            )
            title = f"New revision {answer.message!r}"
            self._run(title, request, 0, self._after_writing)

        self.app.push_screen(form, callback=answered)

    def _review_new_revision(self, answer: NewRevisionAnswer, head: str) -> None:
        """Open the review of what autogenerate would write; write it once the user says so."""
        from workbench.runtime.client import start
        from workbench.runtime.requests import LocksRequest, PreviewRequest, ReviewScriptRequest
        from workbench.services.running import locks_result, preview_result

        launch, warm = self.app.launcher, self.app.warm_child
        directory = self.app.project.directory
        request = PreviewRequest(
            directory=directory,
            message=answer.message,
            head=head,
            splice=answer.splice,
            branch_label=answer.branch_label,
            rev_id=answer.rev_id,
        )

        def generate(fixes: tuple[FixRequest, ...]) -> Preview:
            # a child of its own: it imports the models as they are now
            return preview_result(start(dataclasses.replace(request, fixes=fixes), launch))

        def review_text(text: str, path: str | None) -> Preview:
            review = ReviewScriptRequest(directory=directory, script=text, path=path)
            return preview_result(warm.start(review))

        def measure(text: str) -> tuple[LockReport, ...]:
            return locks_result(start(LocksRequest(directory=directory, script=text), launch))

        title = f"Review of the new revision {answer.message!r}: nothing is written until w"
        from workbench.tui.screens.review import ReviewScreen, ReviewSource

        screen = ReviewScreen(title, ReviewSource(generate, review_text, measure), STICKY)
        self.app.push_screen(screen, callback=self._write_reviewed)

    def verify_history(self) -> None:
        """Open the verify checks; where the scratch databases go is shown before anything runs."""
        from workbench.runtime.client import start
        from workbench.runtime.requests import VerifyRequest
        from workbench.tui.screens.verify import VerifyScreen

        project = self.app.project
        targets = [
            target
            for target in project.targets
            if not target.read_only and (project.multidb or target.name == "default")
        ]
        launch, request = self.app.launcher, VerifyRequest(directory=project.directory)
        self.app.push_screen(VerifyScreen(targets, lambda: start(request, launch)))

    def squash_revision(self) -> None:
        """Open the squash plan of the selected revision; its proof starts at once."""
        from workbench.runtime.client import start
        from workbench.runtime.requests import SquashRequest
        from workbench.tui.screens.squash import SquashScreen

        revision = self.app.graph_view.revision
        if revision is None:
            return
        launch, directory = self.app.launcher, self.app.project.directory

        def run(write: bool) -> RunningOperation:
            request = SquashRequest(directory=directory, revision=revision, write=write)
            return start(request, launch)

        self.app.push_screen(SquashScreen(revision, run), callback=self._squashed)

    def _squashed(self, written: bool | None) -> None:
        """After a written squash, scan the files and read the databases again."""
        if written:
            self.app.action_refresh()

    def _write_reviewed(self, decision: ReviewDecision | None) -> None:
        """Write the reviewed script as a new file (never over an existing one), then re-scan."""
        if decision is None:
            return
        try:
            create_file(decision.path, decision.text)
        except (FileChangedError, OSError) as exc:
            self.app.notify(f"not written: {exc}", severity="error", timeout=STICKY)
            return
        self.app.log_pane.add_line(f"── wrote {decision.path}", "bold")
        self.app.notify(f"wrote {decision.path}", timeout=8)
        if decision.revision:
            self._select_after_load = decision.revision
        self.viewer.load_history()

    def _after_writing(self, title: str, outcome: Outcome) -> None:
        """After a revision or merge: re-scan, select the new file, or say what went wrong."""
        if outcome.kind != "finished":
            self.app.notify(
                f"{title}: {_ending(outcome)}\n(x dismisses this message)",
                severity="error",
                timeout=STICKY,
            )
            return
        scripts = outcome.scripts
        if not scripts:
            self.app.notify(f"{title}: no changes in the schema were detected; nothing written")
            return
        self._select_after_load = str(scripts[-1]["revision"])
        self.app.notify(f"{title}: wrote {', '.join(str(s['path']) for s in scripts)}", timeout=8)
        self.viewer.load_history()

    @cached_property
    def revision_bodies(self) -> BodyCache:
        """Revision files' bodies read for branch analyses and the doctor, kept between them."""
        from workbench.core.touches import BodyCache

        return BodyCache()

    def linearize_heads(self) -> None:
        """Preview moving the selected head's branch onto the other head; rewrite once confirmed.

        The two heads are the marked ones, or the history's when it has exactly two.
        """
        history, head = self.app.history, self.app.graph_view.revision
        if history is None:
            return
        graph, statuses = history.graph, self.app.database_panel.statuses
        pair = self._marked_in_row_order()
        if len(pair) != 2:
            pair = list(graph.heads)
        if len(pair) != 2:
            self.app.notify("linearize needs two heads: mark two with space", severity="warning")
            return
        if head not in pair:
            names = " or ".join(revision[:SHORT_ID] for revision in pair)
            self.app.notify(f"select the head whose branch moves: {names}", severity="warning")
            return
        if not statuses:
            self.app.notify("the databases are still being read: try again", severity="warning")
            return
        onto = pair[1] if head == pair[0] else pair[0]
        from workbench.core.branches import analyze_branches
        from workbench.core.linearize import LinearizeRefused, plan_linearize

        try:
            plan = plan_linearize(graph, head, onto, statuses)
        except LinearizeRefused as exc:
            self.app.notify(
                f"cannot linearize {head[:SHORT_ID]} onto {onto[:SHORT_ID]}: {exc}"
                "\n(x dismisses this message)",
                title="Linearize refused",
                severity="error",
                timeout=STICKY,
            )
            return
        conflicts = analyze_branches(graph, (head, onto), self.revision_bodies).conflicts
        from workbench.tui.screens.linearize import LinearizeScreen

        screen = LinearizeScreen(
            plan,
            layout_graph(plan.graph),
            self.app.graph_view.markers,
            conflicts,
            shown_path(plan.path, self.app.project_folder),
        )
        self.app.push_screen(screen, callback=self._apply_linearize)

    def _apply_linearize(self, plan: LinearizePlan | None) -> None:
        """Rewrite the file of an accepted linearize (only if unchanged), then scan again."""
        if plan is None:
            return
        from workbench.core.linearize import apply_linearize

        path = shown_path(plan.path, self.app.project_folder)
        try:
            apply_linearize(plan)
        except (FileChangedError, OSError) as exc:
            self.app.notify(
                f"not rewritten: {exc}\n(x dismisses this message)",
                severity="error",
                timeout=STICKY,
            )
            self.viewer.load_history()
            return
        check = plan.check
        self.app.log_pane.add_line(f"── rewrote {path}: down_revision = {check.onto!r}", "bold")
        self.app.notify(
            f"rewrote {path}: the branch of {check.head[:SHORT_ID]} now follows "
            f"{check.onto[:SHORT_ID]}",
            timeout=8,
        )
        self._select_after_load = check.head
        self.viewer.load_history()

    def show_doctor_problems(self, statuses: Sequence[DatabaseStatus]) -> None:
        """Show what the doctor finds wrong with the heads and with the databases as read."""
        history = self.app.history
        if history is None:
            return
        from workbench.core.doctor import diagnose

        problems = diagnose(history.graph, statuses, command=self.app.command_group)
        self._doctor_problems = tuple(problem for problem in problems if _beyond_the_scan(problem))
        self.app.problem_banner.show_doctor_problems(self._doctor_problems, not self.app.read_only)

    def show_problems(self) -> None:
        """List every problem, the doctor's with their fixes; enter on one opens its fix."""
        history = self.app.history
        if history is None:
            return
        from workbench.tui.screens.problems import ProblemsScreen

        problems = self._doctor_problems
        openable = [problem for problem in problems if self._can_open_fix(problem)]
        screen = ProblemsScreen(history.graph.diagnostics, problems, openable)
        self.app.push_screen(screen, callback=self._open_fix)

    def _can_open_fix(self, problem: Problem) -> bool:
        """True when the workbench can open this problem's fix now (never on a watched database)."""
        if problem.kind not in FIXABLE_KINDS or self.app.read_only or self.app.operation_running:
            return False
        if problem.database is None:
            return True
        status = self._status_of(problem.database)
        return status is not None and not status.read_only

    def _open_fix(self, problem: Problem | None) -> None:
        """Open what fixes a problem: the merge plan, an upgrade or a stamp, after a git search."""
        history = self.app.history
        if problem is None or history is None:
            return
        if problem.kind == "multiple_heads":
            self._show_merge_plan(list(problem.revisions))
            return
        if problem.database is None:
            return
        self._select_database(problem.database)
        if problem.kind == "unknown_revision":
            self.app.notify(f"looking for {', '.join(problem.revisions)} in git…", timeout=4)
            self.examine_unknown_revision(
                history, self.app.database_panel.statuses, problem.database
            )
        elif problem.kind == "not_stamped":
            self._confirm_plan("stamp", "heads")
        else:
            self._confirm_plan("upgrade", "heads")

    @thread_work("doctor")
    def examine_unknown_revision(
        self, history: History, statuses: Sequence[DatabaseStatus], database: str
    ) -> None:
        """Ask git where a database's unknown revision lives (slow: git runs); offer a stamp."""
        from workbench.core.doctor import examine

        problems = examine(
            history.graph,
            statuses,
            self.app.project.directory,
            self.revision_bodies,
            command=self.app.command_group,
        )
        found = next(
            (p for p in problems if p.kind == "unknown_revision" and p.database == database),
            None,
        )
        self.app.call_from_thread(self._offer_stamp, database, found)

    def _offer_stamp(self, database: str, problem: Problem | None) -> None:
        """Say where git has the unknown revision; offer stamping its nearest known ancestor."""
        if problem is None:
            self.app.notify(f"{database} no longer stands on an unknown revision", timeout=8)
            return
        history = self.app.history
        ancestor = problem.stamp_target
        known = history is not None and ancestor in history.graph.revisions
        self.app.notify(
            f"{problem.message}\n(x dismisses this message)",
            title="Unknown revision",
            severity="warning" if known else "error",
            timeout=STICKY,
        )
        if known:
            self._select_database(database)
            self._confirm_plan("stamp", ancestor, purge=True)

    def _status_of(self, database: str) -> DatabaseStatus | None:
        """Where a database stands, as last read."""
        return next((s for s in self.app.database_panel.statuses if s.name == database), None)

    def _select_database(self, database: str) -> None:
        """Make a database the target of the actions, as highlighting its row does."""
        table = self.app.database_panel.table
        with contextlib.suppress(RowDoesNotExist):
            table.move_cursor(row=table.get_row_index(database))


def _contents(path: str) -> bytes | None:
    """A file's bytes, to tell whether an editor changed it; None when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def _beyond_the_scan(problem: Problem) -> bool:
    """A doctor's problem a scan of the files does not report: several heads, a database's state."""
    return problem.kind == "multiple_heads" or problem.database is not None


def _ending(outcome: Outcome) -> str:
    """``done.``, ``cancelled.`` or ``failed: <why>`` for a notification."""
    if outcome.kind == "finished":
        return "done."
    if outcome.message and outcome.message != outcome.kind:
        return f"{outcome.kind}: {outcome.message}"
    return f"{outcome.kind}."
