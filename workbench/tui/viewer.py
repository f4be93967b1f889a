"""The viewing half of the workbench: the graph, the databases and the selected revision.

Everything here reads: scanning, reading databases, showing scripts, searching. The actions
that write (``operations``) build on it. Blocking work runs in thread workers that post
``messages``; the handlers only pass data from core to the widgets.
"""

from __future__ import annotations

import gc
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.core.databases import DatabaseStatus, database_status
from workbench.core.export import database_markers
from workbench.core.identifiers import SHORT_ID
from workbench.errors import describe_failure
from workbench.project import MigrationProject
from workbench.runtime.client import Launch
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.history import (
    History,
    folder_stamp,
    load_history,
    revision_facts,
    shown_path,
)
from workbench.tui.keys import WRITING_ACTIONS, Scope, WorkbenchAction, bindings_for
from workbench.tui.messages import (
    FilesChanged,
    HistoryFailed,
    HistoryLoaded,
    ScriptRead,
    SqlRendered,
    StatusesRead,
)
from workbench.tui.runs import database_section, revision_sql_request, run_to_end
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.problems import ProblemsScreen
from workbench.tui.widgets.code_view import code_lines
from workbench.tui.widgets.database_panel import DatabasePanel
from workbench.tui.widgets.graph_view import GraphView
from workbench.tui.widgets.log_pane import LogPane
from workbench.tui.widgets.problem_banner import ProblemBanner
from workbench.tui.widgets.revision_detail import RevisionDetail
from workbench.tui.widgets.search_bar import SearchBar

POLL_SECONDS = 2.0
DETAIL_DELAY = 0.06
"""Seconds the cursor must rest on a revision before the detail pane shows it."""
SQL_CACHE_LINES = 200_000
"""Lines of rendered SQL kept for revisions shown again (a bulk insert can render 100,000)."""
STICKY = 24 * 60 * 60.0
"""The timeout of a notification that stays until dismissed (``x``, or a click on it)."""


class WorkbenchViewer(App[None]):
    """The workbench's screen and everything it shows; no action here writes anything."""

    TITLE = "Migration Workbench"
    BINDINGS = bindings_for(Scope.APP)
    COMMANDS: ClassVar = App.COMMANDS | {WorkbenchCommands}

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
        app_import_path: str | None = None,
        project_folder: str | None = None,
        read_only: bool = False,
        poll_seconds: float = POLL_SECONDS,
        history: History | None = None,
        statuses: Sequence[DatabaseStatus] | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self._preloaded = (history, statuses)
        self.project_folder = project_folder or os.getcwd()
        self.launcher = Launch(self.project_folder, app_import_path, directory=project.directory)
        self.read_only = read_only
        self._poll_seconds = poll_seconds
        self._status_generation = 0
        self._sql_cache: OrderedDict[tuple[str, str], SqlRendered] = OrderedDict()
        self._detail_timer: Timer | None = None
        self._refresh_started: float | None = None
        self.graph_view = GraphView(id="graph")
        self.search_bar = SearchBar(id="search")
        self.graph_pane = Vertical(self.graph_view, self.search_bar, id="graph-pane")
        self.database_panel = DatabasePanel(id="databases")
        self.detail = RevisionDetail(id="detail")
        self.log_pane = LogPane(id="log")
        self.problem_banner = ProblemBanner(id="problems")

    def compose(self) -> ComposeResult:
        """Graph on the left; databases and the selected revision on the right; log below."""
        yield Header()
        yield self.problem_banner
        with Horizontal(id="main"):
            yield self.graph_pane
            with Vertical(id="side"):
                yield self.database_panel
                yield self.detail
        yield self.log_pane
        yield Footer()

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

    def on_mount(self) -> None:
        """Show the history and statuses given, or an empty frame now and read them in workers."""
        folder = shown_path(self.project.directory, self.project_folder)
        self.sub_title = folder + ("  (read-only)" if self.read_only else "")
        self.database_panel.border_title = "Databases"
        self.detail.border_title = "Revision"
        self.graph_view.focus()
        history, statuses = self._preloaded
        self._preloaded = (None, None)
        if history is None:
            self.graph_pane.border_title = "Revisions: scanning…"
            self.detail.show_nothing("scanning the revision files…")
            self.database_panel.show_reading(self.project.targets)
            self.load_history()
        else:
            self._show_history(history)
            if statuses is None:
                self.refresh_statuses()
            else:
                self._show_statuses(statuses)
                self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_selected_revision)
        self.set_interval(self._poll_seconds, self.check_files)

    async def run_workbench_action(self, entry: WorkbenchAction) -> None:
        """Run a registry action where its key runs it (the command palette's entry point)."""
        namespace = self.graph_view if entry.scope is Scope.GRAPH else self
        await self.run_action(entry.action, default_namespace=namespace)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        """Scan the version folders and lay out the graph, off the UI thread."""
        try:
            history = load_history(self.project)
        except Exception as exc:
            self.post_message(HistoryFailed(describe_failure(exc, self.project.directory)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(HistoryLoaded(history))

    @work(thread=True, exclusive=True, group="statuses", exit_on_error=False)
    def read_statuses(self, history: History, generation: int) -> None:
        """Read every database's version table, all at once, off the UI thread."""
        statuses = database_status(self.project.targets, history.graph)
        self.post_message(StatusesRead(statuses, generation))

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def check_files(self) -> None:
        """Stat the version folders; post ``FilesChanged`` when they differ from the last scan."""
        history = self.history
        if history is None or self.operation_running:
            return
        stamp = folder_stamp(
            self.project.version_locations, self.project.recursive_version_locations
        )
        if stamp != history.stamp:
            self.post_message(FilesChanged(stamp))

    @work(thread=True, exclusive=True, group="sql", exit_on_error=False)
    def render_sql(self, history: History, revision: str, database: str) -> None:
        """Render a revision's SQL offline in a child process (env.py picks the dialect)."""
        request = revision_sql_request(history.graph, revision, self.project.directory)
        outcome = run_to_end(self.launcher, request)
        if outcome.kind == "finished":
            sql = database_section("\n".join(outcome.lines), database)
            rendered = SqlRendered(revision, database, code_lines(sql), None)
        else:
            rendered = SqlRendered(revision, database, None, outcome.message)
        self.post_message(rendered)

    @work(thread=True, exclusive=True, group="script", exit_on_error=False)
    def read_script(self, revision: str, path: str) -> None:
        """Read a revision file for the detail pane."""
        try:
            with open(path, encoding="utf-8") as file:
                lines, error = code_lines(file.read()), None
        except (OSError, UnicodeDecodeError) as exc:
            lines, error = None, f"cannot read {path}: {exc}"
        if not get_current_worker().is_cancelled:
            self.post_message(ScriptRead(revision, lines, error))

    def refresh_statuses(self) -> None:
        """Mark the databases as being read and read them again."""
        if self.history is None:
            return
        self._status_generation += 1
        self.database_panel.show_reading(self.project.targets)
        self.read_statuses(self.history, self._status_generation)

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        """Draw the new graph and read where the databases stand on it."""
        self._show_history(message.history)
        self.refresh_statuses()

    def _show_history(self, history: History) -> None:
        """Draw a graph.

        Then freeze what exists (the graph above all) out of the collector's sight: a full
        collection walking 10,000 revisions' objects stalls a key press by 70-90 ms. A start-up
        that turned the collector off (``workbench.tui.prefork``) has it back once this is drawn.
        """
        self.history = history
        self._sql_cache.clear()
        graph = history.graph
        self.graph_view.show_rows(history.rows, graph, history.problem_revisions)
        self.problem_banner.show_problems(graph.diagnostics)
        heads = len(graph.heads)
        plural = "s" if heads != 1 else ""
        self.graph_pane.border_title = f"Revisions: {len(graph.revisions)}, {heads} head{plural}"
        if not history.rows:
            self.detail.show_nothing("no revisions yet: press c to create one")
        gc.freeze()
        if not gc.isenabled():
            self.call_after_refresh(gc.enable)

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

    def on_unmount(self) -> None:
        """Give the objects frozen after each scan back to the garbage collector."""
        gc.unfreeze()

    def on_history_failed(self, message: HistoryFailed) -> None:
        """Say why the graph could not be read; the message stays until dismissed."""
        self._refresh_started = None
        self.graph_pane.border_title = "Revisions: not readable"
        self.notify(
            message.error, title="Cannot read the revisions", severity="error", timeout=STICKY
        )

    def on_statuses_read(self, message: StatusesRead) -> None:
        """Show where each database stands and mark it in the graph."""
        if message.generation == self._status_generation:
            self._show_statuses(message.statuses)
            self._show_selected_revision()
            self._report_refresh(len(message.statuses))

    def _report_refresh(self, databases: int) -> None:
        """After ``r``: what was scanned and read, and how long it took."""
        history, started = self.history, self._refresh_started
        if history is None or started is None:
            return
        self._refresh_started = None
        revisions, heads = len(history.graph.revisions), len(history.graph.heads)
        self.notify(
            f"refreshed in {time.monotonic() - started:.1f} s: {revisions} revisions, "
            f"{heads} head{'s' if heads != 1 else ''}, {databases} database"
            f"{'s' if databases != 1 else ''} read",
            timeout=4,
        )

    def _show_statuses(self, statuses: Sequence[DatabaseStatus]) -> None:
        """Show the databases, their markers in the graph, and what the target has pending."""
        self.database_panel.show_statuses(statuses)
        self.graph_view.markers = database_markers(statuses)
        self.target = self.database_panel.target.name if self.database_panel.target else None
        self._show_target_pending()
        self.refresh_bindings()

    def on_files_changed(self, message: FilesChanged) -> None:
        """Files changed on disk: scan again."""
        self.notify("revision files changed on disk: graph reloaded", timeout=3)
        self.load_history()

    def on_database_panel_target_changed(self, message: DatabasePanel.TargetChanged) -> None:
        """The highlighted database becomes the target: show what it has pending."""
        self.target = message.name
        self._show_target_pending()
        if self.detail.mode == "sql":
            self._request_sql()

    def on_graph_view_revision_highlighted(self, message: GraphView.RevisionHighlighted) -> None:
        """Show the selected revision in the detail pane once the cursor rests.

        Laying out and highlighting a script costs tens of milliseconds; a held ``j`` must not
        pay it on every row it passes, only where it stops.
        """
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._show_selected_revision)

    def on_script_read(self, message: ScriptRead) -> None:
        """Show the script of the selected revision, if it is still the selected one."""
        history = self.history
        if history is None or message.revision != self.graph_view.revision:
            return
        facts = revision_facts(
            history, message.revision, self.graph_view.markers, self.project_folder
        )
        self.detail.show_revision(facts, message.lines, message.error)

    def on_sql_rendered(self, message: SqlRendered) -> None:
        """Show rendered SQL, if it is for what is selected now; keep it for next time."""
        if message.lines is not None:
            self._keep_sql(message)
        if message.revision == self.graph_view.revision and message.database == self.target:
            title = f"SQL of {message.revision[:SHORT_ID]} on {message.database}"
            self.detail.show_sql(title, message.lines, message.error)

    def _keep_sql(self, rendered: SqlRendered) -> None:
        """Keep rendered SQL for next time, the most recent first, up to ``SQL_CACHE_LINES``."""
        self._sql_cache[rendered.revision, rendered.database] = rendered
        self._sql_cache.move_to_end((rendered.revision, rendered.database))
        kept = sum(len(cached.lines or ()) for cached in self._sql_cache.values())
        while kept > SQL_CACHE_LINES and len(self._sql_cache) > 1:
            _key, dropped = self._sql_cache.popitem(last=False)
            kept -= len(dropped.lines or ())

    @on(SearchBar.Changed, "#search")
    def _search_as_typed(self, event: SearchBar.Changed) -> None:
        self.graph_view.query = event.value

    @on(SearchBar.Closed)
    def _search_closed(self, event: SearchBar.Closed) -> None:
        self.graph_view.focus()

    def _show_target_pending(self) -> None:
        """Tint, in the graph, the revisions an upgrade of the target to the heads would run."""
        status = self.target_status
        self.graph_view.pending = frozenset(status.pending) if status else frozenset()
        self.database_panel.border_subtitle = f"target: {status.name}" if status else ""

    def _show_selected_revision(self) -> None:
        """Header now, script from a worker, SQL from a child process when the pane shows SQL."""
        history, revision = self.history, self.graph_view.revision
        if history is None or revision is None:
            return
        self.detail.border_title = f"Revision {revision[:SHORT_ID]}"
        self.read_script(revision, history.graph.revisions[revision].path)
        if self.detail.mode == "sql":
            self._request_sql()

    def _request_sql(self) -> None:
        """Ask for the SQL of the selected revision on the target database."""
        history, revision, target = self.history, self.graph_view.revision, self.target
        if history is None or revision is None or target is None:
            self.detail.show_sql("SQL", None, "select a revision and a database first")
            return
        cached = self._sql_cache.get((revision, target))
        if cached is not None:
            self.on_sql_rendered(cached)
            return
        self.detail.show_sql(f"SQL of {revision[:SHORT_ID]} on {target}", None)
        self.render_sql(history, revision, target)

    def action_help(self) -> None:
        """Show every key."""
        disabled = frozenset(
            action for action in WRITING_ACTIONS if self.check_action(action, ()) is not True
        )
        self.push_screen(HelpScreen(disabled))

    def action_search(self) -> None:
        """Open the search line under the graph."""
        self.search_bar.open()

    def action_toggle_log(self) -> None:
        """Show or hide the operations log."""
        self.log_pane.toggle_class("-shown")

    def action_toggle_sql(self) -> None:
        """Switch the detail pane between the script and its SQL on the target database."""
        detail = self.detail
        detail.mode = "script" if detail.mode == "sql" else "sql"
        if detail.mode == "sql":
            self._request_sql()

    def action_refresh(self) -> None:
        """Scan the revision files and read the databases again; say so once both are read."""
        self._refresh_started = time.monotonic()
        self.graph_pane.border_title = "Revisions: scanning…"
        self.load_history()

    def action_show_problems(self) -> None:
        """List the problems found in the revision files."""
        if self.history is not None:
            self.push_screen(ProblemsScreen(self.history.graph.diagnostics))

    def action_dismiss_messages(self) -> None:
        """Dismiss every notification, the sticky ones included, and the search."""
        self.clear_notifications()
        self.action_clear_search()

    def action_clear_search(self) -> None:
        """Forget the search: its matches and their count under the graph go."""
        self.search_bar.clear()
        self.graph_view.query = ""

    async def action_quit(self) -> None:
        """Quit, unless an operation is still running (cancel it first)."""
        if self.operation_running:
            self.notify("an operation is running: cancel it first (esc)", severity="warning")
            return
        self.exit()
