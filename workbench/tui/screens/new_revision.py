"""The form for a new revision: message, autogenerate, and what ``flask db migrate`` offers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static

from workbench.core.identifiers import UnsafeValue, check_new_revision
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar


@dataclass(frozen=True)
class NewRevisionAnswer:
    """What the user asked for: the message, autogenerate or empty, and the optional headers."""

    message: str
    autogenerate: bool
    rev_id: str | None
    branch_label: str | None
    splice: bool


class NewRevisionScreen(ModalScreen[NewRevisionAnswer | None]):
    """Ask for a new revision's message and options; ctrl+s accepts, escape cancels."""

    BINDINGS = bindings_for(Scope.PROMPT)

    def __init__(
        self,
        explanation: str,
        autogenerate: bool = True,
        existing: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """``existing`` maps the history's ids to their files, ``labels`` each label to its owner.

        The typed id and label are refused here, before anything runs, when unsafe or taken.
        """
        super().__init__()
        self._explanation = explanation
        self._autogenerate = autogenerate
        self._existing = existing or {}
        self._labels = labels or {}

    def compose(self) -> ComposeResult:
        """The explanation, the inputs and the switches."""
        with Vertical(classes="dialog") as frame:
            frame.border_title = "New revision"
            yield Static(self._explanation)
            yield Input(placeholder="message", id="message")
            yield Checkbox(
                "autogenerate from the models (reviewed before it is written)",
                self._autogenerate,
                id="autogenerate",
            )
            yield Input(placeholder="revision id (empty: a random one)", id="rev-id")
            yield Input(placeholder="branch label (optional)", id="branch-label")
            yield Checkbox(
                "splice: allow a new branch from a revision that is not a head", id="splice"
            )
            yield Static(id="problem")
        yield KeyBar()

    def on_mount(self) -> None:
        """Type the message at once."""
        self.query_one("#message", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any input accepts."""
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        """Accept, unless the message is empty or the id or label is unsafe or taken.

        A refusal is written in the form, where it stays until the next try.
        """
        message = self.query_one("#message", Input).value.strip()
        if not message:
            self.notify("type a message first", severity="warning")
            return
        rev_id = self.query_one("#rev-id", Input).value.strip() or None
        branch_label = self.query_one("#branch-label", Input).value.strip() or None
        problem = self.query_one("#problem", Static)
        try:
            check_new_revision(rev_id, branch_label, self._existing, self._labels)
        except UnsafeValue as exc:
            problem.update(Text(f"✖ {exc}"))
            return
        problem.update("")
        self.dismiss(
            NewRevisionAnswer(
                message=message,
                autogenerate=self.query_one("#autogenerate", Checkbox).value,
                rev_id=rev_id,
                branch_label=branch_label,
                splice=self.query_one("#splice", Checkbox).value,
            )
        )

    def action_cancel(self) -> None:
        """Go back without doing anything."""
        self.dismiss(None)
