"""The squash plan of the selected revision: what goes, what stays, who stands where, the proof.

Opening the screen starts the plan and the proof in the child process (scratch databases only);
``ctrl+s`` writes the baseline once the proof has passed, by running it again with writing on
(the files are checked unchanged and the proof repeated before anything is written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from workbench.core.squash import SquashReport
from workbench.errors import describe_failure
from workbench.runtime.client import RunningOperation
from workbench.services.running import squash_result
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar

CANCEL_GRACE_SECONDS = 15.0
"""How long a stopped proof gets to drop its scratch databases before being terminated."""


def report_text(report: SquashReport) -> Text:
    """The plan, its refusals, and the proof, as the screen shows them."""
    text = Text()
    for line in report.plan:
        text.append(line + "\n")
    for refusal in report.refusals:
        text.append(f"Refused: {refusal}\n", style="bold red")
    for number, line in enumerate(report.proof):
        style = ("bold green" if report.passed else "bold red") if number == 0 else ""
        text.append(line + "\n", style=style)
    return text


class SquashScreen(ModalScreen[bool]):
    """Shows the squash plan and the proof's result; ctrl+s writes once the proof has passed."""

    BINDINGS: ClassVar = bindings_for(Scope.SQUASH)

    DEFAULT_CSS = """
    SquashScreen {
        align: center middle;
    }
    SquashScreen > Vertical {
        width: 90%;
        height: 85%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    SquashScreen #squash-body-box {
        height: 1fr;
        margin: 1 0;
    }
    SquashScreen #squash-verdict {
        height: auto;
    }
    """

    def __init__(self, revision: str, start: Callable[[bool], RunningOperation]) -> None:
        super().__init__()
        self.revision = revision
        self._start = start
        self.running: RunningOperation | None = None
        self.report: SquashReport | None = None
        self.busy = False
        self.closed = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._intro(), id="squash-intro")
            with VerticalScroll(id="squash-body-box"):
                yield Static(
                    Text("… planning and proving on scratch databases", "yellow"), id="squash-body"
                )
            yield Static("", id="squash-verdict")
        yield KeyBar()

    def on_mount(self) -> None:
        self.busy = True
        self._run(False)

    def _intro(self) -> Text:
        text = Text()
        text.append(f"Squash up to {self.revision[:12]} into one baseline\n", style="bold")
        text.append(
            "The baseline is rendered from a scratch database upgraded through the old "
            "revisions and proven on a second one; the real databases are not touched.\n"
        )
        text.append("ctrl+s writes once the proof has passed · escape closes", style="italic")
        return text

    def action_write_squash(self) -> None:
        """Write the baseline (the plan and the proof run again first)."""
        report = self.report
        if self.busy:
            self.notify("the squash is still running", severity="warning")
            return
        if report is None or report.refused or not report.passed:
            self.notify("nothing to write: the squash is refused or unproven", severity="error")
            return
        self.busy = True
        self.query_one("#squash-verdict", Static).update(Text("… writing", "yellow"))
        self._run(True)

    def action_close_squash(self) -> None:
        """Close; a running proof is stopped and its scratch databases dropped."""
        self.closed = True
        if self.running is not None and self.busy:
            self.running.cancel(CANCEL_GRACE_SECONDS)
        self.dismiss(False)

    @work(thread=True, exclusive=True, group="squash", exit_on_error=False, description="_run")
    def _run(self, write: bool) -> None:
        """Run the squash in the child; post its report, or why it could not run."""
        worker = get_current_worker()
        try:
            self.running = self._start(write)
            report, error = squash_result(self.running), None
        except Exception as exc:
            report, error = None, describe_failure(exc)
        if not (worker.is_cancelled or self.closed):
            self.app.call_from_thread(self._ended, report, error)

    def _ended(self, report: SquashReport | None, error: str | None) -> None:
        """Show the report (or the error); a written squash closes the screen."""
        self.busy = False
        verdict = self.query_one("#squash-verdict", Static)
        if report is None:
            verdict.update(Text(f"Error: {error}", "red"))
            return
        self.report = report
        self.query_one("#squash-body", Static).update(report_text(report))
        if report.written:
            self.notify(report.written)
            self.dismiss(True)
        elif report.refused:
            verdict.update(Text("Refused: nothing can be written.", "bold red"))
        elif report.passed:
            verdict.update(Text("The proof passed: ctrl+s writes the baseline.", "bold green"))
        else:
            verdict.update(Text("The proof failed: nothing can be written.", "bold red"))
