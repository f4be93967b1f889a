"""A small dialog asking for a revision message (merge, new revision), with an optional switch."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, Static

from workbench.tui.keys import Scope, bindings_for


@dataclass(frozen=True)
class PromptAnswer:
    """The message typed and whether the switch (e.g. autogenerate) was on."""

    message: str
    switch: bool


class PromptScreen(ModalScreen[PromptAnswer | None]):
    """Ask for a message; enter or ctrl+s accepts, escape cancels (dismissed with None)."""

    BINDINGS = bindings_for(Scope.PROMPT)

    DEFAULT_CSS = """
    PromptScreen {
        align: center middle;
        & > Vertical {
            width: 80;
            max-width: 95%;
            height: auto;
            border: thick $primary;
            background: $surface;
            padding: 1 2;
        }
        Input { margin: 1 0; }
    }
    """

    def __init__(
        self, title: str, explanation: str, default: str, switch_label: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._explanation = explanation
        self._default = default
        self._switch_label = switch_label

    def compose(self) -> ComposeResult:
        """The explanation, the message input and the optional switch."""
        with Vertical() as frame:
            frame.border_title = self._title
            yield Static(self._explanation)
            yield Input(self._default, placeholder="message", id="message")
            if self._switch_label is not None:
                yield Checkbox(self._switch_label, id="switch")
        yield Footer()

    def on_mount(self) -> None:
        """Type the message at once."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the message accepts."""
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        """Accept, unless the message is empty."""
        message = self.query_one(Input).value.strip()
        if not message:
            self.notify("type a message first", severity="warning")
            return
        switches = self.query(Checkbox)
        self.dismiss(PromptAnswer(message, bool(switches) and switches.first().value))

    def action_cancel(self) -> None:
        """Go back without doing anything."""
        self.dismiss(None)
