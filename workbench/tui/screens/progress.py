"""A running operation: revision i of n, the lines it prints, and a key to cancel it.

A thread worker reads the child's events and posts each one to this screen; the screen never
waits on the child, so the UI stays live, and escape / ctrl+c asks the child to stop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, RichLog, Static
from textual.worker import Worker, WorkerState

from workbench.core.identifiers import SHORT_ID
from workbench.runtime.client import RunningOperation
from workbench.runtime.events import Cancelled, Ending, Event, Failed, Finished, Log, Output, Step
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.runs import Outcome
from workbench.tui.widgets.key_bar import KeyBar

LOG_STYLES = {"ERROR": "bold red", "WARNING": "yellow", "CRITICAL": "bold red"}


def event_line(event: Event) -> tuple[str, str] | None:
    """The log line (text, style) an event adds, or None for events that only move progress."""
    if isinstance(event, Step) and event.phase == "done":
        return (
            f"{event.database}: revision {event.number} of "
            f"{event.total} done: {event.kind} {event.revision}",
            "green",
        )
    if isinstance(event, Log):
        return f"{event.level} [{event.logger}] {event.message}", LOG_STYLES.get(event.level, "")
    if isinstance(event, Output):
        return event.text, "dim" if event.stream == "child" else ""
    if isinstance(event, Failed):
        return f"FAILED: {event.message}\n{event.traceback}".rstrip(), "red"
    if isinstance(event, Cancelled):
        return f"CANCELLED: {event.message}", "yellow"
    if isinstance(event, Finished):
        return "finished", "green"
    return None


class ProgressScreen(ModalScreen[Outcome]):
    """Runs one operation to its end; dismissed with its ``Outcome``."""

    BINDINGS = bindings_for(Scope.PROGRESS)

    @dataclass
    class EventArrived(Message):
        """The child reported an event (posted from the reading worker)."""

        event: Event

    @dataclass
    class LogLine(Message):
        """A line for the app's log pane (the screen's own log shows it too)."""

        text: str
        style: str

    def __init__(self, title: str, total: int, start: Callable[[], RunningOperation]) -> None:
        super().__init__()
        self._title = title
        self._total = total
        self._start = start
        self._running: RunningOperation | None = None
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        """What runs, how far it is, what it prints."""
        with Vertical(classes="dialog") as frame:
            frame.border_title = self._title
            frame.border_subtitle = "esc / ctrl+c to cancel"
            yield Static("starting…", id="step")
            yield ProgressBar(total=self._total or None, show_eta=False)
            yield RichLog(max_lines=2000, wrap=False, markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        """Start the child and read its events."""
        self.read_events()

    @work(
        thread=True,
        exclusive=True,
        group="operation",
        exit_on_error=False,
        description="read_events",
    )
    def read_events(self) -> None:
        """Start the operation and post every event it sends, until the last one."""
        try:
            running = self._start()
        except OSError as exc:
            self.post_message(self.EventArrived(Failed(f"cannot start the child: {exc}")))
            return
        self._running = running
        running.wait(lambda event: self.post_message(self.EventArrived(event)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Reading the events failed (the app hears of the error too): end as failed."""
        if event.state is WorkerState.ERROR:
            failed = Failed(f"lost the operation: {event.worker.error}")
            self.post_message(self.EventArrived(failed))

    def on_progress_screen_event_arrived(self, message: EventArrived) -> None:
        """Move the progress on, log the line, and close once the operation has ended."""
        event = message.event
        if isinstance(event, Step):
            self._show_step(event)
        line = event_line(event)
        if line is not None:
            text, style = line
            self._lines.append(text)
            self.query_one(RichLog).write(Text(text, style=style))
            self.post_message(self.LogLine(text, style))
        if isinstance(event, Ending):
            self.dismiss(Outcome.from_event(event, self._lines))

    def _show_step(self, event: Step) -> None:
        """``default: revision 3 of 12 — abc123 (upgrade)``; the bar moves when a step is done."""
        state = "done" if event.phase == "done" else "running"
        self.query_one("#step", Static).update(
            Text.assemble(
                (f"{event.database}: ", "bold"),
                f"revision {event.number} of {event.total}  ",
                ((event.revision or "")[:SHORT_ID], "bold"),
                f"  {event.kind} {state}",
            )
        )
        if event.phase == "done":
            self.query_one(ProgressBar).advance(1)

    def action_cancel_operation(self) -> None:
        """Ask the child to stop (Alembic rolls the running transaction back)."""
        if self._running is None:
            return
        self._running.cancel()
        self.query_one("#step", Static).update(Text("cancelling…", style="yellow"))
