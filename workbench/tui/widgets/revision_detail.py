"""The selected revision: its header, and its script or the SQL it runs, highlighted by Pygments.

The widget only shows text it is given; the app reads files and renders SQL in workers. The
script or SQL is drawn by a ``CodeView``, which costs the same for a 5 MB file as for a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from workbench.core.identifiers import SHORT_ID, one_line
from workbench.tui.widgets.code_view import CodeView, code_lines

DetailMode = Literal["script", "sql"]


class RevisionFacts(NamedTuple):
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
        & > #detail-title { padding: 0 1; text-style: bold; display: none; }
        & > #detail-body { padding: 0 1; }
    }
    """

    mode: reactive[DetailMode] = reactive("script", init=False)
    """Whether the body shows the script or the SQL it runs on the target database."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._script = Code((), "python")
        self._sql: tuple[str, Code] | None = None
        self._header = Static(id="detail-header")
        self._title = Static(id="detail-title")
        self.body = CodeView(id="detail-body")

    def compose(self) -> ComposeResult:
        """The header, the SQL's title (in SQL mode) and the body."""
        yield self._header
        yield self._title
        yield self.body

    def on_mount(self) -> None:
        """Highlighted code follows the theme: draw it again when the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_body())

    def show_revision(
        self, facts: RevisionFacts, script: tuple[str, ...] | None, error: str | None
    ) -> None:
        """Show a revision's header and its script's lines (or why they could not be read)."""
        self._header.update(header_table(facts))
        if script is not None:
            self._script = Code(script, "python")
        else:
            self._script = Code(code_lines(error or ""), None)
        self._show_body()

    def show_nothing(self, text: str) -> None:
        """An empty pane with a short explanation (no revision, or still loading)."""
        self._header.update(Text(text, style="dim"))
        self._script = Code((), None)
        self._show_body()

    def show_sql(self, title: str, sql: tuple[str, ...] | None, error: str | None = None) -> None:
        """Show the SQL's lines (or the failure to render it, or that it is coming) in SQL mode."""
        if sql is not None:
            self._sql = (title, Code(sql, "sql"))
        else:
            note = code_lines(error or "rendering SQL…")
            self._sql = (title, Code(note, None, "red" if error else "dim"))
        self._show_body()

    def watch_mode(self, mode: DetailMode) -> None:
        """Back to the script at once; SQL arrives through ``show_sql``."""
        self.border_subtitle = "SQL" if mode == "sql" else "script"
        self._show_body()

    def _show_body(self) -> None:
        """The script, or the SQL under its title, highlighted for the current theme."""
        if self.mode == "sql" and self._sql is not None:
            title, code = self._sql
            self._title.update(Text(title))
            self._title.display = True
        else:
            code = self._script
            self._title.display = False
        self.body.show(code.lines, code.language, code.style)


class Code(NamedTuple):
    """Lines to show in the body: code in a Pygments language, or plain text in a style."""

    lines: tuple[str, ...]
    language: str | None
    style: str = "red"
