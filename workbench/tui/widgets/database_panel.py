"""The databases of the project: where each one stands; the highlighted one is the target.

A ``DataTable`` is right here: a project has a handful of databases, not thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from workbench.core.databases import DatabaseState, DatabaseStatus, DatabaseTarget
from workbench.core.identifiers import SHORT_ID

STATE_STYLES = {
    DatabaseState.AT_HEAD: "green",
    DatabaseState.BEHIND: "yellow",
    DatabaseState.OTHER_BRANCH: "yellow",
    DatabaseState.UNKNOWN_REVISION: "bold red",
    DatabaseState.INCONSISTENT: "bold red",
    DatabaseState.NOT_STAMPED: "yellow",
    DatabaseState.EMPTY: "dim",
    DatabaseState.UNREACHABLE: "bold red",
    DatabaseState.BROKEN_HISTORY: "bold red",
    DatabaseState.UNDETERMINED: "yellow",
}
READING = "reading…"
COLUMNS = ("database", "current", "state", "pending", "location")
CELL_PADDING = 2
"""The cells' padding, one column on either side (``DataTable.cell_padding``)."""
LOCATION_MIN_WIDTH = 12
Row = tuple[str, str, Text, str, str]


def state_text(status: DatabaseStatus) -> Text:
    """The state column: ``behind 3`` rather than ``behind``, coloured by how urgent it is."""
    label = status.state.value
    if status.state is DatabaseState.BEHIND:
        label = f"behind {len(status.pending)}"
    if status.read_only:
        label += " (watch only)"
    return Text(label, style=STATE_STYLES[status.state])


def location(url: str, width: int) -> str:
    """Where a database lives, in ``width`` cells: ``shop.db``, ``staging-db:5432/shop``.

    The scheme, the driver and the user are left out (the line under the table shows the whole
    URL); what is still too long loses its start, keeping the database's name.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        place = url
    elif scheme.startswith("sqlite"):
        place = rest.rsplit("/", 1)[-1] or "(in memory)"
    else:
        place = rest.rpartition("@")[2].partition("?")[0]
    return place if len(place) <= width else "…" + place[len(place) - width + 1 :]


def plain(cell: str | Text) -> Text:
    """A cell shown as it is: a table reads a string as markup (``data[old].db`` loses
    ``[old]``), and parsing markup imports Rich's emoji table on the first screen."""
    return Text(cell) if isinstance(cell, str) else cell


def current_text(status: DatabaseStatus) -> str:
    """The current revisions, shortened; a dash when none is recorded."""
    return ", ".join(revision[:SHORT_ID] for revision in status.current) or "—"


class DatabasePanel(Vertical):
    """The databases table and the reason line of the highlighted database."""

    DEFAULT_CSS = """
    DatabasePanel {
        height: auto;
        & > DataTable { height: auto; max-height: 12; overflow-x: hidden; }
        & > #database-reason { color: $text-muted; padding: 0 1; height: auto; }
    }
    """

    @dataclass
    class TargetChanged(Message):
        """Another database was highlighted: it becomes the target of the actions."""

        name: str | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._statuses: dict[str, DatabaseStatus] = {}
        self._rows: Sequence[Row] = ()
        self._location_width: int | None = None
        self.table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        self._reason = Static("", id="database-reason")

    def compose(self) -> ComposeResult:
        """The table and, below it, the reason of the highlighted database's state."""
        yield self.table
        yield self._reason

    @property
    def target(self) -> DatabaseStatus | None:
        """The status of the highlighted database, once it has been read."""
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self._statuses.get(str(row_key.value))

    @property
    def statuses(self) -> list[DatabaseStatus]:
        """The statuses shown, in table order."""
        return list(self._statuses.values())

    def show_reading(self, targets: Sequence[DatabaseTarget]) -> None:
        """Show every database as being read, keeping the highlighted row."""
        self._statuses = {}
        self._fill(
            [
                (target.name, READING, Text(READING, "dim"), "", target.masked_url)
                for target in targets
            ]
        )
        self._reason.update("")

    def show_statuses(self, statuses: Sequence[DatabaseStatus]) -> None:
        """Show where each database stands."""
        self._statuses = {status.name: status for status in statuses}
        self._fill(
            [
                (
                    status.name,
                    current_text(status),
                    state_text(status),
                    str(len(status.pending)),
                    status.url,
                )
                for status in statuses
            ]
        )
        self._show_reason()

    def _fill(self, rows: Sequence[Row]) -> None:
        """Replace the rows, keeping the cursor on the same database when it is still there.

        Every column gets the width of its widest cell at once, the location what is left of
        the pane: auto-sized columns catch up a frame late (``other br`` on the first frame).
        """
        self._rows = rows
        table = self.table
        previous = table.cursor_row
        widths = [
            max([len(header), *(cell_len(str(row[index])) for row in rows)])
            for index, header in enumerate(COLUMNS[:-1])
        ]
        self._location_width = location_width = self._room_for_location(widths)
        table.clear(columns=True)
        for header, width in zip(COLUMNS, [*widths, location_width], strict=True):
            table.add_column(header, width=width, key=header)
        for row in rows:
            cells = [*row[:-1], location(row[-1], location_width)]
            table.add_row(*(plain(cell) for cell in cells), key=row[0])
        if rows:
            table.move_cursor(row=min(previous, len(rows) - 1))

    def _room_for_location(self, widths: Sequence[int]) -> int:
        """The location's width: the pane's width less the other columns (unknown yet: all)."""
        width = self.table.scrollable_content_region.width
        if not width:
            return max((len(row[-1]) for row in self._rows), default=LOCATION_MIN_WIDTH)
        room = width - sum(widths) - CELL_PADDING * len(COLUMNS)
        return max(room, LOCATION_MIN_WIDTH)

    def on_resize(self) -> None:
        """Fit the locations to the new width."""
        widths = [column.width for column in list(self.table.columns.values())[:-1]]
        if self._rows and self._room_for_location(widths) != self._location_width:
            self._fill(self._rows)

    def _show_reason(self) -> None:
        """The reason line of the highlighted database: its name, its full URL, its state."""
        target = self.target
        reason = Text()
        if target is not None:
            reason.append(f"{target.name}  ", style="bold")
            reason.append(f"{target.url}\n{target.reason}")
        self._reason.update(reason)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted database becomes the target."""
        event.stop()
        self._show_reason()
        self.post_message(self.TargetChanged(str(event.row_key.value)))
