"""The help screen: every key of the workbench, generated from the action registry.

Nothing here is written by hand a second time: a key added to the registry shows up here,
in the footer and in the command palette at once.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.tui.keys import Scope, actions_in, bindings_for, key_label
from workbench.tui.widgets.key_bar import KeyBar


def keys_table(scope: Scope, disabled: frozenset[str]) -> Table:
    """One scope's keys as a table: key, label, what it does (greyed when disabled)."""
    table = Table(
        title=scope.value,
        title_justify="left",
        title_style="bold",
        expand=True,
        show_header=False,
        box=box.SIMPLE,
    )
    table.add_column("key", style="bold", no_wrap=True, width=22)
    table.add_column("action", no_wrap=True, width=14)
    table.add_column("what it does", ratio=1)
    for entry in actions_in(scope):
        if entry.action in disabled:
            table.add_row(
                Text(key_label(entry), style="dim"),
                Text(entry.label, style="dim"),
                Text(f"{entry.help} (disabled: read-only)", style="dim"),
            )
        else:
            table.add_row(key_label(entry), entry.label, entry.help)
    return table


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every key, scope by scope."""

    BINDINGS = bindings_for(Scope.LISTS)

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self._disabled = disabled

    def compose(self) -> ComposeResult:
        """One table per scope, plus the keys Textual itself provides."""
        with VerticalScroll(classes="dialog") as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc to close"
            for scope in Scope:
                yield Static(keys_table(scope, self._disabled))
            yield Static(
                Text(
                    "Also: tab / shift+tab move between panes; ctrl+p opens the command palette "
                    "(every action, and themes); the mouse selects rows and scrolls.",
                    style="italic",
                )
            )
        yield KeyBar()

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss()
