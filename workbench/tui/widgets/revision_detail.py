"""The selected revision: its header, and its script or the SQL it runs, highlighted by Pygments.

The widget only shows text it is given; the app reads files and renders SQL in workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from workbench.core.identifiers import one_line
from workbench.tui.highlight import highlighted

SHORT_ID = 12
DetailMode = Literal["script", "sql"]


@dataclass(frozen=True)
class RevisionFacts:
    """What the header of the detail pane lists about a revision."""

    revision: str
    message: str
    parents: Sequence[str]
    children: Sequence[str]
    branch_labels: Sequence[str]
    depends_on: Sequence[str]
    path: str
    create_date: str | None
    is_head: bool
    databases: Sequence[str]
    problems: Sequence[str]


def _ids(revisions: Sequence[str]) -> str:
    return ", ".join(revision[:SHORT_ID] for revision in revisions) or "—"


def header_table(facts: RevisionFacts) -> Table:
    """The revision's header as a two-column table."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    title = Text(facts.revision, style="bold")
    if facts.is_head:
        title.append("  head", style="bold green")
    table.add_row("revision", title)
    table.add_row("message", Text(one_line(facts.message)))
    table.add_row("parents", _ids(facts.parents))
    table.add_row("children", _ids(facts.children))
    if facts.branch_labels:
        table.add_row("labels", Text(one_line(", ".join(facts.branch_labels))))
    if facts.depends_on:
        table.add_row("depends on", ", ".join(facts.depends_on))
    if facts.databases:
        table.add_row("databases", Text(", ".join(facts.databases), style="bold yellow"))
    table.add_row("date", facts.create_date or "—")
    table.add_row("path", Text(facts.path, overflow="fold"))
    for problem in facts.problems:
        table.add_row(Text("problem", style="bold red"), Text(problem, style="red"))
    return table


class RevisionDetail(VerticalScroll, can_focus=True):
    """The detail pane: a header and, below it, the script or its SQL."""

    DEFAULT_CSS = """
    RevisionDetail {
        & > #detail-header { padding: 0 1 1 1; }
        & > #detail-body { width: auto; min-width: 100%; padding: 0 1; }
    }
    """

    mode: reactive[DetailMode] = reactive("script", init=False)
    """Whether the body shows the script or the SQL it runs on the target database."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._script: Code = Code("", "python")
        self._sql: tuple[str, Code] | None = None
        self._header = Static(id="detail-header")
        self._body = Static(id="detail-body")

    def compose(self) -> ComposeResult:
        """The header and the body."""
        yield self._header
        yield self._body

    def on_mount(self) -> None:
        """Highlighted code follows the theme: draw it again when the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_body())

    def show_revision(self, facts: RevisionFacts, script: str | None, error: str | None) -> None:
        """Show a revision's header and its script (or why the script could not be read)."""
        self._header.update(header_table(facts))
        self._script = Code(script, "python") if script is not None else Code(error or "", None)
        self._show_body()

    def show_nothing(self, text: str) -> None:
        """An empty pane with a short explanation (no revision, or still loading)."""
        self._header.update(Text(text, style="dim"))
        self._script = Code("", None)
        self._show_body()

    def show_sql(self, title: str, sql: str | None, error: str | None = None) -> None:
        """Show the SQL (or the failure to render it, or that it is coming) in SQL mode."""
        if sql is not None:
            self._sql = (title, Code(sql, "sql"))
        else:
            self._sql = (title, Code(error or "rendering SQL…", None, "red" if error else "dim"))
        self._show_body()

    def watch_mode(self, mode: DetailMode) -> None:
        """Back to the script at once; SQL arrives through ``show_sql``."""
        self.border_subtitle = "SQL" if mode == "sql" else "script"
        self._show_body()

    def _show_body(self) -> None:
        """The script, or the SQL with its title, highlighted for the current theme."""
        if self.mode == "sql" and self._sql is not None:
            title, code = self._sql
            self._body.update(Group(Text(title, style="bold"), code.renderable(self)))
        else:
            self._body.update(self._script.renderable(self))


@dataclass(frozen=True)
class Code:
    """Text to show in the body: code in a Pygments language, or plain text in a style."""

    text: str
    language: str | None
    style: str = "red"

    def renderable(self, widget: RevisionDetail) -> RenderableType:
        """Highlighted with line numbers, or plain."""
        if self.language is None:
            return Text(self.text, style=self.style)
        return highlighted(self.text, self.language, widget, line_numbers=True)
