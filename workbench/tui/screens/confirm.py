"""The confirmation of an upgrade, downgrade or stamp: the exact plan, its SQL, then run or not.

The plan comes from ``core.plan`` as it is; this screen lays it out, loads the SQL preview in
a worker, and for destructive plans on server databases asks for their real names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static
from textual.worker import Worker, WorkerState

from workbench.core.identifiers import SHORT_ID, one_line
from workbench.core.lock_report import LockReport, report_lines
from workbench.core.plan import DatabasePlan, Plan
from workbench.errors import describe_failure
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.runs import PlanPreview
from workbench.tui.widgets.code_view import CodeView, code_lines
from workbench.tui.widgets.key_bar import KeyBar

SHOWN_STEPS = 200


def _rows(revisions: tuple[str, ...]) -> str:
    return ", ".join(revision[:SHORT_ID] for revision in revisions) or "(empty)"


def database_plan_text(plan: Plan, database: DatabasePlan, messages: Mapping[str, str]) -> Text:
    """One database's part of the plan: the revisions in order, the version table before/after."""
    text = Text()
    text.append(database.name, style="bold")
    text.append(f"  {database.url}\n", style="dim")
    verb = {"upgrade": "applied", "downgrade": "reverted", "stamp": "run"}[plan.action]
    if plan.action == "stamp":
        text.append("  no migration runs; only the version table changes\n")
    elif not database.revisions:
        text.append("  nothing to run\n", style="dim")
    else:
        count = len(database.revisions)
        text.append(f"  {count} revision{'s' if count != 1 else ''} {verb}, in this order:\n")
        for number, revision in enumerate(database.revisions[:SHOWN_STEPS], 1):
            text.append(f"  {number:>4}. ", style="dim")
            text.append(revision[:SHORT_ID].ljust(SHORT_ID), style="bold")
            text.append(f"  {one_line(messages.get(revision, ''))}\n")
        if count > SHOWN_STEPS:
            text.append(f"        … and {count - SHOWN_STEPS} more\n", style="dim")
    purged = " (emptied first)" if plan.purge else ""
    text.append(
        f"  version table{purged}: {_rows(database.current)} → {_rows(database.versions_after)}\n"
    )
    for problem in database.problems:
        text.append(f"  ✖ {problem}\n", style="bold red")
    for warning in database.warnings:
        text.append(f"  ⚠ {warning}\n", style="yellow")
    return text


def plan_renderable(plan: Plan, messages: Mapping[str, str]) -> RenderableType:
    """The whole plan: every database it touches, then the problems that stop it."""
    parts: list[RenderableType] = []
    if len(plan.databases) > 1:
        names = ", ".join(database.name for database in plan.databases)
        parts.append(
            Text(
                f"env.py migrates every database in one run: this {plan.action} runs on "
                f"all {len(plan.databases)} ({names})\n",
                style="bold yellow",
            )
        )
    parts.extend(database_plan_text(plan, database, messages) for database in plan.databases)
    for problem in plan.problems:
        parts.append(Text(f"✖ {problem}", style="bold red"))
    if not plan.runnable and not plan.all_problems:
        parts.append(Text("Nothing would change: there is nothing to run.", style="yellow"))
    return Group(*parts)


class ConfirmScreen(ModalScreen[Plan | None]):
    """Shows a plan and its SQL; dismissed with the plan to run, or None."""

    BINDINGS = bindings_for(Scope.CONFIRM)

    def __init__(
        self,
        title: str,
        plan: Plan,
        messages: Mapping[str, str],
        names_to_type: Callable[[Plan], tuple[str, ...]],
        load_preview: Callable[[Plan], PlanPreview],
        replan: Callable[[bool], Plan] | None = None,
        measure: Callable[[Plan], Sequence[LockReport]] | None = None,
    ) -> None:
        super().__init__()
        self._measure = measure
        self._title = title
        self.plan = plan
        self._messages = messages
        self._names_to_type = names_to_type
        self._load_preview = load_preview
        self._replan = replan

    def compose(self) -> ComposeResult:
        """Plan, optional purge switch, SQL preview, optional name input, buttons."""
        with Vertical(classes="dialog") as frame:
            frame.border_title = self._title
            frame.border_subtitle = "ctrl+s run · esc cancel"
            with VerticalScroll(id="plan"):
                yield Static(plan_renderable(self.plan, self._messages), id="plan-text")
                yield Static("", id="locks-text")
            if self._replan is not None:
                yield Checkbox("purge: empty the version table first", self.plan.purge, id="purge")
            with VerticalScroll(id="preview"):
                yield Static(Text("rendering the SQL…", style="dim"), id="preview-text")
                yield CodeView(id="preview-sql")
            yield Input(id="typed-name")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(
                    "Run", id="run", variant="error" if self.plan.destructive else "primary"
                )
        yield KeyBar()

    def on_mount(self) -> None:
        """Focus where the next keystroke belongs; start rendering the SQL."""
        self._update_run_button()
        if self._names_to_type(self.plan):
            self.query_one("#typed-name", Input).focus()
        else:
            self.query_one("#run" if self.plan.runnable else "#cancel", Button).focus()
        self.load_preview(self.plan)

    @work(
        thread=True,
        exclusive=True,
        group="preview",
        exit_on_error=False,
        description="load_preview",
    )
    def load_preview(self, plan: Plan) -> None:
        """Render the plan's SQL off the UI thread (a child process runs env.py offline)."""
        preview = self._load_preview(plan)
        lines = code_lines(preview.sql) if preview.sql is not None else None
        self.app.call_from_thread(self._show_preview, plan, preview, lines)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The preview failed unexpectedly (the app hears of it too): say there is none."""
        if event.state is WorkerState.ERROR:
            self._show_preview(self.plan, PlanPreview("SQL", None, "the SQL preview failed"), None)

    def _show_preview(
        self, plan: Plan, preview: PlanPreview, lines: tuple[str, ...] | None
    ) -> None:
        """The preview's title, then its SQL (drawn a line at a time: it can be megabytes)."""
        if plan is not self.plan:
            return
        heading = Text(preview.title, style="bold")
        if lines is None:
            heading.append(f"\n{preview.note or ''}", style="dim")
        self.query_one("#preview-text", Static).update(heading)
        self.query_one("#preview-sql", CodeView).show(lines or (), "sql", line_numbers=False)

    def _typed_names_match(self) -> bool:
        """True when every name asked for was typed (in any order, separated by spaces)."""
        typed = self.query_one("#typed-name", Input).value.replace(",", " ").split()
        return set(typed) == set(self._names_to_type(self.plan))

    @property
    def _names_prompt(self) -> str:
        """What to type, as the input's placeholder and the refusal say it."""
        names = self._names_to_type(self.plan)
        if len(names) == 1:
            return f"type the database's name, {names[0]!r}, to confirm"
        quoted = " ".join(names)
        return f"type the names of the {len(names)} databases, {quoted!r}, to confirm"

    def _update_run_button(self) -> None:
        typed_name = self.query_one("#typed-name", Input)
        typed_name.display = bool(self._names_to_type(self.plan))
        typed_name.placeholder = self._names_prompt if typed_name.display else ""
        self.query_one("#run", Button).disabled = not (
            self.plan.runnable and self._typed_names_match()
        )

    @on(Input.Changed, "#typed-name")
    def _name_typed(self) -> None:
        self._update_run_button()

    @on(Input.Submitted, "#typed-name")
    def _name_submitted(self) -> None:
        self.action_confirm()

    @on(Checkbox.Changed, "#purge")
    def _purge_toggled(self, event: Checkbox.Changed) -> None:
        assert self._replan is not None
        self.plan = self._replan(event.value)
        self.query_one("#plan-text", Static).update(plan_renderable(self.plan, self._messages))
        self.query_one("#preview-text", Static).update(Text("rendering the SQL…", style="dim"))
        self.query_one("#preview-sql", CodeView).show((), "sql")
        self._update_run_button()
        self.load_preview(self.plan)

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_confirm(self) -> None:
        """Run the plan, if nothing stops it and the name (when asked for) was typed."""
        if not self.plan.runnable:
            self.notify("this plan cannot run: see the problems listed", severity="warning")
        elif not self._typed_names_match():
            self.notify(self._names_prompt, severity="warning")
        else:
            self.dismiss(self.plan)

    def action_measure_locks(self) -> None:
        """Measure each statement of the pending revisions on scratch databases (a worker)."""
        if self._measure is None or self.plan.action != "upgrade" or not self.plan.runnable:
            self.notify("only an upgrade that can run is measured", severity="warning")
            return
        self.query_one("#locks-text", Static).update(
            Text("measuring each statement on scratch databases…", style="dim")
        )
        self._measure_plan(self.plan)

    @work(
        thread=True, exclusive=True, group="locks", exit_on_error=False, description="_measure_plan"
    )
    def _measure_plan(self, plan: Plan) -> None:
        """Run the measurement off the UI thread; show the report, or why there is none."""
        assert self._measure is not None
        try:
            lines = [line for report in self._measure(plan) for line in report_lines(report)]
            shown = Text("\n".join(lines) or "no statement to measure")
        except Exception as exc:
            shown = Text(f"could not measure: {describe_failure(exc)}", style="red")
        self.app.call_from_thread(self.query_one("#locks-text", Static).update, shown)

    def action_cancel(self) -> None:
        """Go back without running anything."""
        self.dismiss(None)
