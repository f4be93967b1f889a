"""The migration workbench app, and the ways in: ``make_app``, ``run_workbench``, ``run_preloaded``.

The app composes the screen and holds three controllers: the ``Viewer`` (what is shown, and
the reading that feeds it), ``Search`` and ``Operations`` (everything that writes). Every
message and every key's action is handled here, in one place, by handing it to them.

``make_app`` is the one factory the CLI and the tests use; ``run_workbench`` is what
``flask db tui`` calls on the project it described, and ``run_preloaded`` what it calls
with what its forked child loaded (``workbench.tui.prefork``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.widgets import Header
from textual.worker import Worker, WorkerState

from workbench.core.databases import DatabaseStatus
from workbench.errors import describe_failure
from workbench.project import MigrationProject
from workbench.tui.context import STICKY
from workbench.tui.crash import run_app
from workbench.tui.history import History, Preloaded
from workbench.tui.keys import Scope, WorkbenchAction, bindings_for
from workbench.tui.messages import (
    ActionChosen,
    FilesChanged,
    HistoryFailed,
    HistoryLoaded,
    ScriptRead,
    SqlRendered,
    StatusesRead,
)
from workbench.tui.operations import Operations
from workbench.tui.palette import WorkbenchActions
from workbench.tui.viewer import POLL_SECONDS, Search, Viewer
from workbench.tui.widgets.database_panel import DatabasePanel
from workbench.tui.widgets.graph_view import GraphView
from workbench.tui.widgets.key_bar import KeyBar
from workbench.tui.widgets.problem_banner import ProblemBanner
from workbench.tui.widgets.revision_detail import RevisionDetail
from workbench.tui.widgets.search_bar import SearchBar

MessageT = TypeVar("MessageT")


def while_shown(
    handler: Callable[[WorkbenchApp, MessageT], None],
) -> Callable[[WorkbenchApp, MessageT], None]:
    """Drop a background result that arrives after the app has closed its screens.

    A scan, a reading or a rendering can finish while the app shuts down: nothing is left to
    show it on, and drawing it would fail.
    """

    @functools.wraps(handler)
    def handle(app: WorkbenchApp, message: MessageT) -> None:
        if app.screen_stack:
            handler(app, message)

    return handle


if TYPE_CHECKING:  # the screens are imported when first opened: a quicker start-up
    from textual.notifications import SeverityLevel
    from textual.theme import Theme

    from workbench.runtime.client import Launch
    from workbench.runtime.warm import WarmChild
    from workbench.tui.screens.progress import ProgressScreen
    from workbench.tui.widgets.log_pane import LogPane


class WorkbenchApp(App[None]):
    """The migration workbench for one project: the graph, the databases, and what writes."""

    TITLE = "Migration Workbench"
    CSS_PATH = "workbench.tcss"
    BINDINGS = bindings_for(Scope.APP)
    COMMANDS: ClassVar = App.COMMANDS | {WorkbenchActions}

    history: var[History | None] = var(None, bindings=True)
    """The graph as last scanned; None until the first scan ends."""
    target: var[str | None] = var(None, bindings=True)
    """The name of the database the actions apply to (the highlighted one)."""
    operation_running: var[bool] = var(False, bindings=True)
    """True while a child process runs an operation: nothing else may write meanwhile."""

    def __init__(
        self,
        project: MigrationProject,
        *,
        command_group: str,
        app_import_path: str | None = None,
        project_folder: str | None = None,
        read_only: bool = False,
        poll_seconds: float = POLL_SECONDS,
        history: History | None = None,
        statuses: Sequence[DatabaseStatus] | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self.command_group = command_group
        self._preloaded = (history, statuses)
        self.project_folder = project_folder or os.getcwd()
        self._app_import_path = app_import_path
        self._children_lock = threading.RLock()
        self._launcher: Launch | None = None
        self._warm_child: WarmChild | None = None
        self.read_only = read_only
        self._poll_seconds = poll_seconds
        self.graph_view = GraphView(id="graph")
        self.search_bar = SearchBar(id="search")
        self.graph_pane = Vertical(self.graph_view, self.search_bar, id="graph-pane")
        self.database_panel = DatabasePanel(id="databases")
        self.detail = RevisionDetail(id="detail")
        self._log_pane: LogPane | None = None
        self.problem_banner = ProblemBanner(id="problems")
        self.viewer = Viewer(self)
        self.search = Search(self)
        self.operations = Operations(self, self.viewer)

    def compose(self) -> ComposeResult:
        """Graph on the left; databases and the selected revision on the right; log below."""
        yield Header()
        yield self.problem_banner
        with Horizontal(id="main"):
            yield self.graph_pane
            with Vertical(id="side"):
                yield self.database_panel
                yield self.detail
        yield KeyBar()

    @property
    def launcher(self) -> Launch:
        """Starts the child processes that run operations on the project.

        Made on first use, as the warm child: the machinery of child processes is not needed
        to draw the first screen. Worker threads ask for them too, hence the lock.
        """
        with self._children_lock:
            if self._launcher is None:
                from workbench.runtime.client import Launch

                folder, directory = self.project_folder, self.project.directory
                self._launcher = Launch(folder, self._app_import_path, directory=directory)
            return self._launcher

    @property
    def warm_child(self) -> WarmChild:
        """The long-lived child that renders SQL and reviews scripts, the app loaded once."""
        with self._children_lock:
            if self._warm_child is None:
                from workbench.runtime.warm import WarmChild

                self._warm_child = WarmChild(self.launcher)
            return self._warm_child

    @property
    def log_pane(self) -> LogPane:
        """The log of operations, under the main panes; hidden until asked for (``l``).

        Made after the first frame (or on first use, if sooner): Textual's log widget imports
        much that the first screen does not need.
        """
        if self._log_pane is None:
            from workbench.tui.widgets.log_pane import LogPane

            self._log_pane = LogPane(id="log")
            main = self.graph_pane.parent
            assert main is not None and main.parent is not None
            main.parent.mount(self._log_pane, after=main)
        return self._log_pane

    def format_title(self, title: str, sub_title: str) -> Content:
        """``Migration Workbench — migrations``, the dash kept inside the title's own text.

        Textual puts `` — `` in a run of its own; a run starting with a space loses it in SVG
        renderers, which showed ``Workbench— migrations`` in the screenshots.
        """
        if not sub_title:
            return Content(title)
        return Content.assemble(f"{title} — ", (sub_title, "dim"))

    @property
    def target_status(self) -> DatabaseStatus | None:
        """Where the target database stands, once read."""
        return self.database_panel.target

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Writing actions are hidden in read-only mode, and greyed out while they cannot run."""
        return self.operations.check_action(action, parameters)

    def on_mount(self) -> None:
        """Show the history and statuses given, or an empty frame now and read them in workers."""
        self.viewer.show_frame()
        self.watch(self.graph_view, "cursor", self.viewer.show_cached_sql, init=False)
        history, statuses = self._preloaded
        self._preloaded = (None, None)
        if history is None:
            self.viewer.start_scanning()
        else:
            self.viewer.show_history(history)
            if statuses is None:
                self.viewer.refresh_statuses()
            else:
                self._show_statuses(statuses)
                self.viewer.show_selected_revision_soon()
        self.set_interval(self._poll_seconds, self.viewer.poll_files)
        self.call_after_refresh(lambda: self.log_pane)

    def on_unmount(self) -> None:
        """End the warm child; give the objects frozen after each scan back to the collector."""
        if self._warm_child is not None:
            self._warm_child.close()
        gc.unfreeze()

    def _show_statuses(self, statuses: Sequence[DatabaseStatus]) -> None:
        """Show the databases, then what the doctor finds wrong with the heads and with them.

        The doctor speaks once the screen is drawn: it is imported on first use, and the first
        screen shows the graph and the databases without waiting for it.
        """
        self.viewer.show_statuses(statuses)
        self.call_after_refresh(self.operations.show_doctor_problems, statuses)

    @while_shown
    def on_history_loaded(self, message: HistoryLoaded) -> None:
        """Draw the new graph, select a revision just written, and read the databases again."""
        self.operations.select_written_revision()
        self.viewer.show_history(message.history)
        self.viewer.refresh_statuses()

    @while_shown
    def on_history_failed(self, message: HistoryFailed) -> None:
        """Say why the graph could not be read."""
        self.viewer.history_failed(message.error)

    @while_shown
    def on_statuses_read(self, message: StatusesRead) -> None:
        """Report on an operation just run, show where each database stands, and mark it.

        A reading older than the last one asked for is dropped.
        """
        if message.generation != self.viewer.status_generation:
            return
        self.operations.report_statuses(message.statuses)
        self._show_statuses(message.statuses)
        self.viewer.show_selected_revision()
        self.viewer.report_refresh(len(message.statuses))

    @while_shown
    def on_files_changed(self, message: FilesChanged) -> None:
        """Files changed on disk: scan again."""
        self.viewer.files_changed()

    @while_shown
    def on_script_read(self, message: ScriptRead) -> None:
        """Show the script of the selected revision, if it is still the selected one."""
        self.viewer.script_read(message)

    @while_shown
    def on_sql_rendered(self, message: SqlRendered) -> None:
        """Show rendered SQL, if it is for what is selected now."""
        self.viewer.sql_rendered(message)

    def on_database_panel_target_changed(self, message: DatabasePanel.TargetChanged) -> None:
        """The highlighted database becomes the target."""
        self.viewer.target_changed(message.name)

    def on_graph_view_revision_highlighted(self, message: GraphView.RevisionHighlighted) -> None:
        """Show the selected revision in the detail pane once the cursor rests.

        Laying out and highlighting a script costs tens of milliseconds; a held ``j`` must not
        pay it on every row it passes, only where it stops. SQL rendered already shows at once,
        in the frame that moves the cursor (``on_mount`` watches the cursor for it).
        """
        self.viewer.show_selected_revision_soon()

    def on_progress_screen_log_line(self, message: ProgressScreen.LogLine) -> None:
        """Every line an operation prints goes to the log pane too."""
        self.log_pane.add_line(message.text, message.style)

    def on_key(self, event: events.Key) -> None:
        """A writing key that cannot run now says why, rather than doing nothing."""
        self.operations.explain_disabled_key(event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly: say so, and keep the workbench running."""
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.notify(
                f"{worker.name or worker.group} failed: {describe_failure(worker.error)}",
                title="Unexpected error",
                severity="error",
                timeout=STICKY,
            )

    @on(SearchBar.Changed, "#search")
    def _search_as_typed(self, event: SearchBar.Changed) -> None:
        self.search.show_matches(event.value)

    @on(SearchBar.Closed)
    def _search_closed(self, event: SearchBar.Closed) -> None:
        self.search.closed()

    async def on_action_chosen(self, message: ActionChosen) -> None:
        """Run an action chosen in the command palette where its key runs it."""
        await self.run_workbench_action(message.entry)

    async def run_workbench_action(self, entry: WorkbenchAction) -> None:
        """Run a registry action where its key runs it."""
        namespace = self.graph_view if entry.scope is Scope.GRAPH else self
        await self.run_action(entry.action, default_namespace=namespace)

    def action_help(self) -> None:
        """Show every key."""
        self.viewer.show_help()

    def action_search(self) -> None:
        """Open the search line under the graph."""
        self.search.open()

    def action_toggle_log(self) -> None:
        """Show or hide the operations log."""
        self.viewer.toggle_log()

    def action_toggle_sql(self) -> None:
        """Switch the detail pane between the script and its SQL on the target database."""
        self.viewer.toggle_sql()

    def action_refresh(self) -> None:
        """Scan the revision files and read the databases again; say so once both are read."""
        self.viewer.refresh()

    @property
    def current_theme(self) -> Theme:
        """The theme in use, found with one look-up.

        Textual asks for it for every line it draws, and its own property copies the table of
        themes twice each time (in a profile, an eighth of the time from the history's arrival
        to the first frame). A name it does not hold as such (a comma-separated list) is left
        to Textual.
        """
        theme = self._registered_themes.get(self.theme)
        return theme if theme is not None else super().current_theme

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a notification, its text as written, never read as markup.

        Messages quote paths, SQL and database errors, whose brackets (``[parameters: ...]``,
        ``data[old].db``) markup would drop. Screens ask for markup by default; none is used.
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_dismiss_messages(self) -> None:
        """Dismiss every notification, the sticky ones included, and the search."""
        self.clear_notifications()
        self.search.clear()

    def action_clear_search(self) -> None:
        """Forget the search: its matches and their count under the graph go."""
        self.search.clear()

    def action_show_problems(self) -> None:
        """List every problem, the doctor's with their fixes; enter on one opens its fix."""
        self.operations.show_problems()

    def action_upgrade_selected(self) -> None:
        """Upgrade the target database to the selected revision."""
        self.operations.upgrade_selected()

    def action_upgrade_heads(self) -> None:
        """Upgrade the target database to the heads."""
        self.operations.upgrade_heads()

    def action_downgrade_selected(self) -> None:
        """Downgrade the target database to the selected revision."""
        self.operations.downgrade_selected()

    def action_stamp_selected(self) -> None:
        """Stamp the target database with the selected revision (purge is offered)."""
        self.operations.stamp_selected()

    def action_edit_revision(self) -> None:
        """Edit the selected revision in $VISUAL or $EDITOR, or in the built-in editor."""
        self.operations.edit_revision()

    def action_merge_heads(self) -> None:
        """Show the plan of merging the marked heads (every head when none is marked)."""
        self.operations.merge_heads()

    def action_new_revision(self) -> None:
        """Ask for a message and options; review an autogenerated one before writing it."""
        self.operations.new_revision()

    def action_linearize_heads(self) -> None:
        """Preview moving the selected head's branch onto the other head; rewrite once confirmed."""
        self.operations.linearize_heads()

    def action_verify_history(self) -> None:
        """Open the verify checks; where the scratch databases go is shown before anything runs."""
        self.operations.verify_history()

    def action_squash_revision(self) -> None:
        """Open the squash plan of the selected revision; its proof starts at once."""
        self.operations.squash_revision()

    async def action_quit(self) -> None:
        """Quit, unless an operation is still running (cancel it first)."""
        if self.operation_running:
            self.notify("an operation is running: cancel it first (esc)", severity="warning")
            return
        self.exit()


def make_app(
    project: MigrationProject,
    *,
    command_group: str,
    app_import_path: str | None = None,
    project_folder: str | None = None,
    read_only: bool = False,
    poll_seconds: float = POLL_SECONDS,
    history: History | None = None,
    statuses: Sequence[DatabaseStatus] | None = None,
) -> WorkbenchApp:
    """Build the workbench for a project.

    ``command_group`` is the command the workbench was opened from (``flask db``,
    ``workbench``): the commands it advises start with it. ``app_import_path`` and
    ``project_folder`` (default: the current folder) tell the runner's child process how to
    load the Flask app, as ``flask`` did. A ``history`` (and the
    ``statuses`` read on it) already loaded are shown at once, instead of read after mounting.
    """
    return WorkbenchApp(
        project,
        command_group=command_group,
        app_import_path=app_import_path,
        project_folder=project_folder,
        read_only=read_only,
        poll_seconds=poll_seconds,
        history=history,
        statuses=statuses,
    )


def run_workbench(
    project: MigrationProject,
    *,
    command_group: str,
    app_import_path: str | None,
    read_only: bool,
) -> None:
    """Run the workbench on a project described in this process.

    A crash raises ``WorkbenchError`` naming the log file that holds its traceback.
    """
    _run(project, command_group=command_group, app_import_path=app_import_path, read_only=read_only)


def run_preloaded(
    preloaded: Preloaded, *, command_group: str, app_import_path: str | None, read_only: bool
) -> None:
    """Run the workbench on the project, history and statuses a forked child loaded.

    A crash raises ``WorkbenchError`` naming the log file that holds its traceback.
    """
    _run(
        preloaded.project,
        command_group=command_group,
        app_import_path=app_import_path,
        read_only=read_only,
        history=preloaded.history,
        statuses=preloaded.statuses,
    )


def _run(project: MigrationProject, **options: Any) -> None:
    """``make_app(project, **options)`` run until the user leaves, frames written promptly."""
    with frames_written_promptly():
        run_app(lambda: make_app(project, **options))


FRAME_SWITCH_SECONDS = 0.0005
"""How long a thread keeps the interpreter while another waits for it, as the workbench runs."""


@contextlib.contextmanager
def frames_written_promptly() -> Iterator[None]:
    """While the workbench runs, let a waiting thread have the interpreter after 0.5 ms, not 5.

    Textual writes each frame to the terminal from a thread of its own, which waited up to
    Python's default switch interval (5 ms) for the UI thread, busy with the next messages,
    to let it run: the first frame reached the terminal 7 ms later than it was ready.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(FRAME_SWITCH_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
