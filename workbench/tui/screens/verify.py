"""Verify the history on scratch databases, from the workbench: each check as it ends.

The screen first says where the scratch databases will be made (a temporary SQLite file, or a
new database on the same server, dropped afterwards) and runs nothing until enter. The checks
then run in a child process (a ``VerifyRequest``); a thread worker reads them and the screen shows
each one the moment it ends, with the failing revision and SQL of a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from workbench.core.databases import DatabaseTarget
from workbench.core.verify import CHECKS, CheckResult, VerifyError, VerifyReport
from workbench.errors import describe_failure
from workbench.runtime.client import RunningOperation
from workbench.services.running import verify_result
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar

CANCEL_GRACE_SECONDS = 15.0
"""How long stopped checks get to drop their scratch databases before being terminated."""
STATUS_MARKS = {
    "passed": ("✓ passed ", "bold green"),
    "failed": ("✗ FAILED ", "bold red"),
    "skipped": ("- skipped", "dim"),
}


def scratch_plan(targets: Sequence[DatabaseTarget]) -> Text:
    """Where each database's scratch stand-in will be made, as the screen says before running."""
    text = Text("The checks run on scratch databases; the real ones are not touched:\n")
    for target in targets:
        backend = str(target.masked_url).split(":", 1)[0].split("+", 1)[0]
        text.append(f"  {target.name}: ", style="bold")
        if backend == "sqlite":
            text.append("a temporary SQLite file\n")
        else:
            text.append("a new database wb_verify_… created on the server of ")
            text.append(str(target.masked_url), style="cyan")
            text.append(", dropped afterwards\n")
    return text


def checks_table(checks: Sequence[CheckResult], running: bool) -> Table:
    """Every check in order: outcome and message, failed revisions under it; the rest waiting."""
    done = {check.name: check for check in checks}
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    waiting_shown = False
    for name in CHECKS:
        check = done.get(name)
        if check is None:
            waiting = Text("· waiting", style="dim")
            if running and not waiting_shown:
                waiting = Text("… running", style="yellow")
            waiting_shown = True
            table.add_row(name, waiting, "")
            continue
        mark, style = STATUS_MARKS[check.status]
        table.add_row(name, Text(mark, style=style), Text(check.message))
        for revision in check.revisions:
            if not revision.passed:
                step = f" ({revision.step})" if revision.step else ""
                table.add_row(
                    "",
                    Text(f"✗ {revision.revision}{step}", style="red"),
                    Text(revision.message or ""),
                )
    return table


def report_text(report: VerifyReport) -> Text:
    """The verdict, then the scratch databases the checks ran on."""
    failed = [check.name for check in report.checks if not check.passed]
    if failed:
        text = Text()
        text.append(f"{len(failed)} of {len(report.checks)} checks failed: ", style="bold red")
        text.append(", ".join(failed))
    else:
        text = Text()
        text.append("Every check passed.", style="bold green")
    for database in report.databases:
        text.append(f"\n  {database.name} ran on ", style="dim")
        text.append(database.url, style="dim cyan")
    text.append("\nThe scratch databases are gone.", style="dim")
    return text


class VerifyScreen(ModalScreen[None]):
    """Runs the verify checks once asked, showing each as it ends; escape closes (and stops)."""

    BINDINGS: ClassVar = bindings_for(Scope.VERIFY)

    def __init__(
        self, targets: Sequence[DatabaseTarget], start: Callable[[], RunningOperation]
    ) -> None:
        super().__init__()
        self._targets = tuple(targets)
        self._start = start
        self.running: RunningOperation | None = None
        self.checks: list[CheckResult] = []
        self.report: VerifyReport | None = None
        self.started = False
        self.ended = False
        self.closed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._intro(), id="verify-intro")
            with VerticalScroll(id="verify-checks-box"):
                yield Static(checks_table((), running=False), id="verify-checks")
            yield Static("", id="verify-verdict")
        yield KeyBar()

    def _intro(self) -> Text:
        """The title, the scratch databases and the keys."""
        text = Text()
        text.append("Verify the history\n", style="bold")
        text.append("one head · upgrade from base to head · the models match · up/down/up\n")
        text.append_text(scratch_plan(self._targets))
        text.append("enter runs the checks · escape closes", style="italic")
        return text

    def action_run_verify(self) -> None:
        """Start the checks (once)."""
        if self.started:
            return
        self.started = True
        self._show()
        self._verify()

    def action_close_verify(self) -> None:
        """Close; checks still running are stopped, and their scratch databases dropped."""
        self.closed = True
        if self.running is not None and not self.ended:
            self.running.cancel(CANCEL_GRACE_SECONDS)
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, description="_verify")
    def _verify(self) -> None:
        """Run the checks in the child; post each one, then the report (or why it could not run)."""
        worker = get_current_worker()

        def checked(check: CheckResult) -> None:
            if not (worker.is_cancelled or self.closed):
                self.app.call_from_thread(self._checked, check)

        try:
            self.running = self._start()
            if self.closed:
                self.running.cancel(CANCEL_GRACE_SECONDS)
            report, error = verify_result(self.running, on_check=checked), None
        except VerifyError as exc:
            report, error = None, str(exc)
        except Exception as exc:
            report, error = None, describe_failure(exc)
        if not (worker.is_cancelled or self.closed):
            self.app.call_from_thread(self._ended, report, error)

    def _checked(self, check: CheckResult) -> None:
        """Show a check that has just ended."""
        self.checks.append(check)
        self._show()

    def _ended(self, report: VerifyReport | None, error: str | None) -> None:
        """Show the verdict, or why verification could not run (it stays on screen)."""
        self.report, self.ended = report, True
        if report is not None:
            self.checks = list(report.checks)
        self._show()
        verdict = report_text(report) if report is not None else Text(f"Error: {error}", "red")
        self.query_one("#verify-verdict", Static).update(verdict)

    def _show(self) -> None:
        """Redraw the check list."""
        running = self.started and not self.ended
        self.query_one("#verify-checks", Static).update(checks_table(self.checks, running))
