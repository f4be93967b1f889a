"""The search line under the graph: typing searches revision ids and messages as you type."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Input

from workbench.tui.keys import Scope, bindings_for


class SearchBar(Input):
    """An input hidden until ``/``; escape clears and closes it, enter keeps the matches."""

    BINDINGS = bindings_for(Scope.SEARCH)

    DEFAULT_CSS = """
    SearchBar {
        dock: bottom;
        display: none;
        &.-open { display: block; }
    }
    """

    @dataclass
    class Closed(Message):
        """The search line was closed: by enter (the matches stay for ``n``/``N``) or escape."""

        search_bar: SearchBar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="search revision id or message", id=id)

    def open(self) -> None:
        """Show the search line and focus it, its previous text selected."""
        self.add_class("-open")
        self.focus()
        self.select_all()

    def action_close_search(self) -> None:
        """Escape clears the search (its matches and their count go) and hides the line."""
        self.clear()
        self._close()

    async def action_submit(self) -> None:
        """Enter keeps the matches and goes back to the graph."""
        await super().action_submit()
        self._close()

    def _close(self) -> None:
        """Hide the search line."""
        self.remove_class("-open")
        self.post_message(self.Closed(self))
