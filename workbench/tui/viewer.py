"""The viewing part of the workbench: the graph, the databases and the selected revision.

Everything here reads: scanning, reading databases, showing scripts, searching. Blocking work
runs in thread workers that post ``messages``; the app's handlers hand them to ``Viewer``, which
only passes data from core to the widgets.
"""

from __future__ import annotations

import gc
import os
import time
from collections import OrderedDict
from collections.abc import Sequence

from textual.timer import Timer
from textual.worker import get_current_worker

from workbench.core.databases import DatabaseStatus, database_status
from workbench.core.export import database_markers
from workbench.core.identifiers import SHORT_ID
from workbench.errors import describe_failure
from workbench.tui.context import STICKY, Controller, Workbench, thread_work
from workbench.tui.history import (
    History,
    folder_stamp,
    load_history,
    revision_facts,
    shown_path,
)
from workbench.tui.keys import WRITING_ACTIONS
from workbench.tui.messages import (
    FilesChanged,
    HistoryFailed,
    HistoryLoaded,
    ScriptRead,
    SqlRendered,
    StatusesRead,
)
from workbench.tui.widgets.code_view import code_lines

POLL_SECONDS = 2.0
POLL_SHARE = 0.05
"""At most this share of the time goes to checking the files: a history so large that a check
takes longer than ``POLL_SHARE * POLL_SECONDS`` (50,000 files: 0.2 s) is checked less often."""
DETAIL_DELAY = 0.06
"""Seconds the cursor must rest on a revision before the detail pane shows it."""
SQL_AHEAD = 2
"""Revisions above and below the selection whose SQL is rendered ahead, while it shows SQL."""
SQL_CACHE_LINES = 200_000
"""Lines of rendered SQL kept for revisions shown again (a bulk insert can render 100,000)."""

SqlKey = tuple[str, str, tuple[int, int] | None]
"""Rendered SQL is kept by revision, database and the file's identity."""


def file_identity(path: str) -> tuple[int, int] | None:
    """A file's (modification time, size): another identity means the file changed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class Viewer(Controller):
    """What the workbench shows, and the reading that feeds it; nothing here writes anything."""

    def __init__(self, app: Workbench) -> None:
        super().__init__(app)
        self._status_generation = 0
        self._sql_cache: OrderedDict[SqlKey, SqlRendered] = OrderedDict()
        self._detail_timer: Timer | None = None
        self._refresh_started: float | None = None
        self._check_after = 0.0

    @property
    def status_generation(self) -> int:
        """Which reading of the databases is the latest asked for."""
        return self._status_generation

    def show_frame(self) -> None:
        """Title the panes and put the cursor in the graph."""
        app = self.app
        folder = shown_path(app.project.directory, app.project_folder)
        app.sub_title = folder + ("  (read-only)" if app.read_only else "")
        app.database_panel.border_title = "Databases"
        app.detail.border_title = "Revision"
        app.graph_view.focus()

    def start_scanning(self) -> None:
        """Show an empty frame that says what is being read, and read it in workers."""
        app = self.app
        app.graph_pane.border_title = "Revisions: scanning…"
        app.detail.show_nothing("scanning the revision files…")
        app.database_panel.show_reading(app.project.targets)
        self.load_history()

    def show_selected_revision_soon(self) -> None:
        """Show the selected revision once the cursor has rested on it for ``DETAIL_DELAY``."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.app.set_timer(DETAIL_DELAY, self.show_selected_revision)

    @thread_work("history")
    def load_history(self) -> None:
        """Scan the version folders and lay out the graph, off the UI thread."""
        project = self.app.project
        try:
            history = load_history(project)
        except Exception as exc:
            self.app.post_message(HistoryFailed(describe_failure(exc, project.directory)))
            return
        if not get_current_worker().is_cancelled:
            self.app.post_message(HistoryLoaded(history))

    @thread_work("statuses")
    def read_statuses(self, history: History, generation: int) -> None:
        """Read every database's version table, all at once, off the UI thread."""
        statuses = database_status(self.app.project.targets, history.graph)
        self.app.post_message(StatusesRead(statuses, generation))

    def poll_files(self) -> None:
        """Check the files for changes, unless the last check's cost asks for a longer pause.

        Each check stats every revision file, in a thread that holds the interpreter from the
        UI's keys for most of its time: at most ``POLL_SHARE`` of the time goes to it.
        """
        if time.monotonic() >= self._check_after:
            self.check_files()

    @thread_work("poll")
    def check_files(self) -> None:
        """Stat the version folders; post ``FilesChanged`` when they differ from the last scan."""
        app = self.app
        history = app.history
        if history is None or app.operation_running:
            return
        started = time.monotonic()
        stamp = folder_stamp(app.project.version_locations, app.project.recursive_version_locations)
        ended = time.monotonic()
        self._check_after = started + (ended - started) / POLL_SHARE
        if stamp != history.stamp:
            app.post_message(FilesChanged(stamp))

    @thread_work("sql")
    def render_sql(self, history: History, revisions: Sequence[str], database: str) -> None:
        """Render revisions' SQL in the warm child, the first (selected) one first.

        The others are the selection's neighbours, rendered ahead unless the selection
        moved meanwhile (this worker is then cancelled).
        """
        from workbench.runtime.events import Event, Finished, Output
        from workbench.tui.runs import SQL_STREAMS, database_section, revision_sql_request

        worker = get_current_worker()
        for index, revision in enumerate(revisions):
            if index and worker.is_cancelled:
                return
            identity = file_identity(history.graph.revisions[revision].path)
            if (revision, database, identity) in self._sql_cache:
                continue
            request = revision_sql_request(history.graph, revision, self.app.project.directory)
            lines: list[str] = []

            def keep(event: Event, lines: list[str] = lines) -> None:
                if isinstance(event, Output) and event.stream in SQL_STREAMS:
                    lines.append(event.text)

            final = self.app.warm_child.run(request, keep)
            if isinstance(final, Finished):
                sql = database_section("\n".join(lines), database)
                rendered = SqlRendered(revision, database, code_lines(sql), None, identity)
            else:
                rendered = SqlRendered(revision, database, None, final.message, identity)
            self.app.post_message(rendered)

    @thread_work("script")
    def read_script(self, revision: str, path: str) -> None:
        """Read a revision file for the detail pane."""
        try:
            with open(path, encoding="utf-8") as file:
                lines, error = code_lines(file.read()), None
        except (OSError, UnicodeDecodeError) as exc:
            lines, error = None, f"cannot read {path}: {exc}"
        if not get_current_worker().is_cancelled:
            self.app.post_message(ScriptRead(revision, lines, error))

    def refresh_statuses(self) -> None:
        """Mark the databases as being read and read them again."""
        history = self.app.history
        if history is None:
            return
        self._status_generation += 1
        self.app.database_panel.show_reading(self.app.project.targets)
        self.read_statuses(history, self._status_generation)

    def show_history(self, history: History) -> None:
        """Draw a graph.

        Then freeze what exists (the graph above all) out of the collector's sight: a full
        collection walking 10,000 revisions' objects stalls a key press by 70-90 ms. A start-up
        that turned the collector off (``workbench.tui.prefork``) has it back once this is drawn.
        """
        app = self.app
        app.history = history
        self._sql_cache.clear()
        graph = history.graph
        app.graph_view.show_rows(history.rows, graph, history.problem_revisions)
        app.problem_banner.show_problems(graph.diagnostics)
        heads = len(graph.heads)
        plural = "s" if heads != 1 else ""
        app.graph_pane.border_title = f"Revisions: {len(graph.revisions)}, {heads} head{plural}"
        if not history.rows:
            app.detail.show_nothing("no revisions yet: press c to create one")
        gc.freeze()
        if not gc.isenabled():
            app.call_after_refresh(gc.enable)

    def history_failed(self, error: str) -> None:
        """Say why the graph could not be read; the message stays until dismissed."""
        self._refresh_started = None
        self.app.graph_pane.border_title = "Revisions: not readable"
        self.app.notify(error, title="Cannot read the revisions", severity="error", timeout=STICKY)

    def report_refresh(self, databases: int) -> None:
        """After ``r``: what was scanned and read, and how long it took."""
        history, started = self.app.history, self._refresh_started
        if history is None or started is None:
            return
        self._refresh_started = None
        revisions, heads = len(history.graph.revisions), len(history.graph.heads)
        self.app.notify(
            f"refreshed in {time.monotonic() - started:.1f} s: {revisions} revisions, "
            f"{heads} head{'s' if heads != 1 else ''}, {databases} database"
            f"{'s' if databases != 1 else ''} read",
            timeout=4,
        )

    def show_statuses(self, statuses: Sequence[DatabaseStatus]) -> None:
        """Show the databases, their markers in the graph, and what the target has pending."""
        app = self.app
        app.database_panel.show_statuses(statuses)
        app.graph_view.markers = database_markers(statuses)
        app.target = app.database_panel.target.name if app.database_panel.target else None
        self._show_target_pending()
        app.refresh_bindings()

    def files_changed(self) -> None:
        """Files changed on disk: scan again."""
        self.app.notify("revision files changed on disk: graph reloaded", timeout=3)
        self.load_history()

    def target_changed(self, name: str | None) -> None:
        """The highlighted database becomes the target: show what it has pending."""
        self.app.target = name
        self._show_target_pending()
        if self.app.detail.mode == "sql":
            self._request_sql()

    def script_read(self, message: ScriptRead) -> None:
        """Show the script of the selected revision, if it is still the selected one."""
        app = self.app
        history = app.history
        if history is None or message.revision != app.graph_view.revision:
            return
        facts = revision_facts(
            history, message.revision, app.graph_view.markers, app.project_folder
        )
        app.detail.show_revision(facts, message.lines, message.error)

    def sql_rendered(self, message: SqlRendered) -> None:
        """Show rendered SQL, if it is for what is selected now; keep it for next time."""
        app = self.app
        if message.lines is not None:
            self._keep_sql(message)
        if message.revision == app.graph_view.revision and message.database == app.target:
            title = f"SQL of {message.revision[:SHORT_ID]} on {message.database}"
            app.detail.show_sql(title, message.lines, message.error)

    def _keep_sql(self, rendered: SqlRendered) -> None:
        """Keep rendered SQL for next time, the most recent first, up to ``SQL_CACHE_LINES``.

        The key holds the file's identity: a file changed on disk is rendered again.
        """
        key = (rendered.revision, rendered.database, rendered.identity)
        self._sql_cache[key] = rendered
        self._sql_cache.move_to_end(key)
        kept = sum(len(cached.lines or ()) for cached in self._sql_cache.values())
        while kept > SQL_CACHE_LINES and len(self._sql_cache) > 1:
            _key, dropped = self._sql_cache.popitem(last=False)
            kept -= len(dropped.lines or ())

    def _show_target_pending(self) -> None:
        """Tint, in the graph, the revisions an upgrade of the target to the heads would run."""
        app = self.app
        status = app.target_status
        app.graph_view.pending = frozenset(status.pending) if status else frozenset()
        app.database_panel.border_subtitle = f"target: {status.name}" if status else ""

    def show_selected_revision(self) -> None:
        """Header now, script from a worker, SQL from a child process when the pane shows SQL."""
        app = self.app
        history, revision = app.history, app.graph_view.revision
        if history is None or revision is None:
            return
        app.detail.border_title = f"Revision {revision[:SHORT_ID]}"
        self.read_script(revision, history.graph.revisions[revision].path)
        if app.detail.mode == "sql":
            self._request_sql()

    def _request_sql(self) -> None:
        """Ask for the SQL of the selected revision on the target database."""
        app = self.app
        history, revision, target = app.history, app.graph_view.revision, app.target
        if history is None or revision is None or target is None:
            app.detail.show_sql("SQL", None, "select a revision and a database first")
            return
        identity = file_identity(history.graph.revisions[revision].path)
        ahead = app.graph_view.neighbours(SQL_AHEAD)
        cached = self._sql_cache.get((revision, target, identity))
        if cached is not None:
            self._sql_cache.move_to_end((revision, target, identity))
            self.sql_rendered(cached)
            self.render_sql(history, ahead, target)
            return
        app.detail.show_sql(f"SQL of {revision[:SHORT_ID]} on {target}", None)
        self.render_sql(history, [revision, *ahead], target)

    def show_cached_sql(self) -> None:
        """Show the selection's SQL at once when it was rendered already (ahead, or before)."""
        app = self.app
        history, revision, target = app.history, app.graph_view.revision, app.target
        if app.detail.mode != "sql" or history is None or revision is None or target is None:
            return
        identity = file_identity(history.graph.revisions[revision].path)
        cached = self._sql_cache.get((revision, target, identity))
        if cached is not None:
            app.detail.border_title = f"Revision {revision[:SHORT_ID]}"
            self.sql_rendered(cached)

    def show_help(self) -> None:
        """Show every key, the writing actions that cannot run now greyed out."""
        from workbench.tui.screens.help import HelpScreen

        app = self.app
        disabled = frozenset(
            action for action in WRITING_ACTIONS if app.check_action(action, ()) is not True
        )
        app.push_screen(HelpScreen(disabled))

    def toggle_log(self) -> None:
        """Show or hide the operations log."""
        self.app.log_pane.toggle_class("-shown")

    def toggle_sql(self) -> None:
        """Switch the detail pane between the script and its SQL on the target database."""
        detail = self.app.detail
        detail.mode = "script" if detail.mode == "sql" else "sql"
        if detail.mode == "sql":
            self._request_sql()

    def refresh(self) -> None:
        """Scan the revision files and read the databases again; say so once both are read."""
        self._refresh_started = time.monotonic()
        self.app.graph_pane.border_title = "Revisions: scanning…"
        self.load_history()


class Search(Controller):
    """The search line under the graph: the graph shows what matches as it is typed."""

    def open(self) -> None:
        """Open the search line."""
        self.app.search_bar.open()

    def show_matches(self, query: str) -> None:
        """Match the revisions against what is typed."""
        self.app.graph_view.query = query

    def closed(self) -> None:
        """The search line closed: back to the graph."""
        self.app.graph_view.focus()

    def clear(self) -> None:
        """Forget the search: its matches and their count under the graph go."""
        self.app.search_bar.clear()
        self.app.graph_view.query = ""
