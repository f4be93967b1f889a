"""The log of operations: every line a child process printed, and each outcome, as it happened."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import RichLog

MAX_LINES = 5000
TITLE = "Log of operations"
EMPTY = (
    "Nothing has run yet.",
    "Every upgrade, downgrade, stamp, merge and new revision writes here what it prints",
    "and how it ended (a failure with its reason).",
)


class LogPane(RichLog):
    """A bounded, scrolling log; a failure's reason (a bug's traceback) lands here, never on screen.

    Until the first line arrives it says what it will hold, rather than showing an empty box.
    """

    DEFAULT_CSS = """
    LogPane {
        height: 12;
        border-top: solid $primary;
        border-title-color: $text-primary;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, wrap=False, markup=False, highlight=False)
        self._plain: deque[str] = deque(maxlen=MAX_LINES)
        self.border_title = TITLE
        for line in EMPTY:
            self.write(Text(line, style="italic dim"))

    @property
    def plain_text(self) -> str:
        """Everything logged (the last lines kept), as text; also while the pane is hidden."""
        return "\n".join(self._plain)

    def add_line(self, line: str, style: str = "") -> None:
        """Append one line, taken as plain text (child output may contain brackets)."""
        if not self._plain:
            self.clear()
        self._plain.append(line)
        self.write(Text(line, style=style))
