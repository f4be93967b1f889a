"""Messages posted to the app, each carrying plain data: by its thread workers, and by the palette.

Workers never touch widgets: they call core, then post one of these, and the handler on the
UI thread updates the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from workbench.core.databases import DatabaseStatus
from workbench.tui.history import FolderStamp, History
from workbench.tui.keys import WorkbenchAction


@dataclass
class HistoryLoaded(Message):
    """The version folders were scanned and the graph laid out."""

    history: History


@dataclass
class HistoryFailed(Message):
    """The version folders could not be scanned at all."""

    error: str


@dataclass
class StatusesRead(Message):
    """Every database's version table was read (or found unreachable)."""

    statuses: Sequence[DatabaseStatus]
    generation: int
    """Which reading this is; an older reading arriving late is dropped."""


@dataclass
class FilesChanged(Message):
    """Revision files were added, removed or changed on disk since the last scan."""

    stamp: FolderStamp


@dataclass
class ScriptRead(Message):
    """A revision file was read for the detail pane (``lines`` None when it could not be)."""

    revision: str
    lines: tuple[str, ...] | None
    error: str | None


@dataclass
class SqlRendered(Message):
    """The SQL a revision runs on a database (``lines`` None on failure)."""

    revision: str
    database: str
    lines: tuple[str, ...] | None
    error: str | None
    identity: tuple[int, int] | None = None
    """The revision file's (modification time, size) when it was rendered."""


@dataclass
class ActionChosen(Message):
    """An action was chosen in the command palette: run it where its key runs it."""

    entry: WorkbenchAction
