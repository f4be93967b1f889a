"""The revision graph: one row per revision with its lanes, drawn only where it is visible.

A Line-API ``ScrollView`` (as Toolong's log view): ``render_line`` builds the few rows on
screen from a cache, so 10,000 revisions scroll and move the cursor as fast as 10.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from workbench.core.graph import RevisionGraph
from workbench.core.identifiers import SHORT_ID, one_line
from workbench.core.layout import LayoutRow
from workbench.tui.keys import Scope, bindings_for

DATE_WIDTH = 10
MAX_GLYPH_WIDTH = 31
LANE_COLOURS = 6
SegmentSink = Callable[[str, "Style | None"], None]
"""Appends a piece of text, in a style drawn over the row's, to the row being drawn."""
TINTS = frozenset({"graph-view--pending", "graph-view--match"})
GUTTER = {"marked": "✚", "pending": "↑", "problem": "⚠", "plain": " "}
"""The two gutter cells: marked for a merge or pending on the target, then warned."""


class GraphView(ScrollView, can_focus=True):
    """The revision graph with a cursor row, search matches, marks and pending revisions."""

    BINDINGS = bindings_for(Scope.GRAPH)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "graph-view--cursor",
        "graph-view--id",
        "graph-view--date",
        "graph-view--head",
        "graph-view--database",
        "graph-view--label",
        "graph-view--pending",
        "graph-view--marked",
        "graph-view--match",
        "graph-view--problem",
        *(f"graph-view--lane-{index}" for index in range(LANE_COLOURS)),
    }

    DEFAULT_CSS = """
    GraphView {
        background: $surface;
        & > .graph-view--cursor { background: $panel-lighten-2; }
        &:focus > .graph-view--cursor { background: $block-cursor-background; text-style: bold; }
        & > .graph-view--id { color: $text-primary; }
        & > .graph-view--date { color: $text-muted; }
        & > .graph-view--head { color: $text-success; text-style: bold; }
        & > .graph-view--database { color: $text-warning; text-style: bold; }
        & > .graph-view--label { color: $text-secondary; }
        & > .graph-view--pending { background: $success 15%; }
        & > .graph-view--marked { color: $text-accent; text-style: bold; }
        & > .graph-view--match { background: $warning 50%; }
        & > .graph-view--problem { color: $text-error; }
        & > .graph-view--lane-0 { color: $primary; }
        & > .graph-view--lane-1 { color: $accent; }
        & > .graph-view--lane-2 { color: $success; }
        & > .graph-view--lane-3 { color: $error; }
        & > .graph-view--lane-4 { color: $secondary; }
        & > .graph-view--lane-5 { color: $foreground-muted; }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """The index of the selected row."""
    pending: reactive[frozenset[str]] = reactive(frozenset, init=False)
    """The revisions an upgrade of the target database to the heads would run."""
    marked: reactive[frozenset[str]] = reactive(frozenset, init=False)
    """The heads marked for a merge."""
    markers: reactive[Mapping[str, Sequence[str]]] = reactive(dict, init=False)
    """For each revision, the databases standing on it."""
    query: reactive[str] = reactive("", init=False)
    """The search text; rows whose id or message contain it are matches."""

    @dataclass
    class RevisionHighlighted(Message):
        """The cursor moved to another revision (None when the graph is empty)."""

        revision: str | None

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: Sequence[LayoutRow] = ()
        self._graph: RevisionGraph | None = None
        self._problems: frozenset[str] = frozenset()
        self._heads: frozenset[str] = frozenset()
        self._index: dict[str, int] = {}
        self._glyph_width = 0
        self._matches: list[int] = []
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}

    @property
    def revision(self) -> str | None:
        """The revision under the cursor."""
        if not self._rows:
            return None
        return self._rows[self.cursor].revision

    def neighbours(self, distance: int) -> list[str]:
        """The revisions up to ``distance`` rows from the cursor, nearest first."""
        found = []
        for step in range(1, distance + 1):
            for index in (self.cursor + step, self.cursor - step):
                if 0 <= index < len(self._rows):
                    found.append(self._rows[index].revision)
        return found

    @property
    def row_count(self) -> int:
        """The number of rows (revisions) drawn."""
        return len(self._rows)

    @property
    def matches(self) -> list[int]:
        """The row indexes matching the search, top to bottom."""
        return self._matches

    def show_rows(
        self, rows: Sequence[LayoutRow], graph: RevisionGraph, problems: frozenset[str]
    ) -> None:
        """Draw a new graph, keeping the cursor on the same revision when it still exists."""
        previous = self.revision
        self._rows = rows
        self._graph = graph
        self._problems = problems
        self._heads = frozenset(graph.heads)
        self._index = {row.revision: index for index, row in enumerate(rows)}
        widest = max((len(row.glyphs) for row in rows), default=0)
        self._glyph_width = min(widest, MAX_GLYPH_WIDTH)
        self.virtual_size = Size(0, len(rows))
        self.marked = frozenset(head for head in self.marked if head in self._heads)
        self._matches = self._find_matches(self.query)
        self._strips.clear()
        self.cursor = self._index.get(previous, 0) if previous is not None else 0
        self._label_pane()
        self.refresh()

    def select_revision(self, revision: str) -> bool:
        """Move the cursor to a revision; False when the graph has no such row."""
        index = self._index.get(revision)
        if index is None:
            return False
        self.cursor = index
        return True

    def validate_cursor(self, cursor: int) -> int:
        """Keep the cursor on a row."""
        return max(0, min(cursor, len(self._rows) - 1))

    def watch_cursor(self, previous: int, cursor: int) -> None:
        """Redraw the two rows involved, keep the cursor in view and announce the revision."""
        self.refresh_line(previous)
        self.refresh_line(cursor)
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif height and cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)
        self._label_pane()
        self.post_message(self.RevisionHighlighted(self.revision))

    @property
    def position_label(self) -> str:
        """``120/5000``, and the search's match count while there is a search."""
        position = f"{self.cursor + 1}/{len(self._rows)}"
        if not self.query:
            return position
        count = len(self._matches)
        plural = "es" if count != 1 else ""
        return f"{count} match{plural} for {self.query!r}: n / N · {position}"

    def _label_pane(self) -> None:
        """Write the position under the pane at once, in the frame that moves the cursor.

        Posting it to the app instead would draw it a frame or two after the cursor.
        """
        if isinstance(self.parent, Widget):
            self.parent.border_subtitle = self.position_label

    def _redraw(self) -> None:
        self._strips.clear()
        self.refresh()

    def watch_pending(self) -> None:
        """Pending rows are tinted."""
        self._redraw()

    def watch_marked(self) -> None:
        """Marked rows carry a mark in the gutter."""
        self._redraw()

    def watch_markers(self) -> None:
        """Database markers follow the databases' current revisions."""
        self._redraw()

    def watch_query(self, query: str) -> None:
        """Find the matching rows and jump to the first one from the cursor on."""
        self._matches = self._find_matches(query)
        self._redraw()
        if self._matches:
            self._jump_to_match(forward=True, include_current=True)
        self._label_pane()

    def on_resize(self) -> None:
        """Rows are drawn to the pane's width: draw them again."""
        self._strips.clear()

    def notify_style_update(self) -> None:
        """A theme change changes every row's colours."""
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def _base_style(self) -> Style:
        """The widget's own style (blended over its ancestors'), looked up once per theme."""
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, component: str) -> Style:
        """A component class's style, looked up once per theme.

        Tints (pending, match) keep only their background and text parts only their colour
        and attributes, so that each can be laid over the other.
        """
        style = self._styles.get(component)
        if style is None:
            full = self.get_component_rich_style(component)
            if component in TINTS:
                style = Style(bgcolor=full.bgcolor)
            elif component == "graph-view--cursor":
                style = full
            else:
                style = Style(
                    color=full.color, bold=full.bold, italic=full.italic, underline=full.underline
                )
            self._styles[component] = style
        return style

    def _find_matches(self, query: str) -> list[int]:
        """Rows whose revision id or message contains the query, ignoring case."""
        if not query or self._graph is None:
            return []
        needle = query.casefold()
        revisions = self._graph.revisions
        return [
            index
            for index, row in enumerate(self._rows)
            if needle in row.revision.casefold()
            or needle in revisions[row.revision].message.casefold()
        ]

    def _jump_to_match(self, forward: bool, include_current: bool = False) -> bool:
        """Move to the next (or previous) match, wrapping around; False when nothing matches."""
        matches = self._matches
        if not matches:
            return False
        if forward:
            position = bisect.bisect_left(matches, self.cursor + (0 if include_current else 1))
            self.cursor = matches[position % len(matches)]
        else:
            position = bisect.bisect_left(matches, self.cursor) - 1
            self.cursor = matches[position % len(matches)]
        return True

    def action_cursor_down(self) -> None:
        """Select the revision below."""
        self.cursor += 1

    def action_cursor_up(self) -> None:
        """Select the revision above."""
        self.cursor -= 1

    def action_page_down(self) -> None:
        """Move one page down."""
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_page_up(self) -> None:
        """Move one page up."""
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_cursor_top(self) -> None:
        """Go to the newest revision."""
        self.cursor = 0

    def action_cursor_bottom(self) -> None:
        """Go to the oldest revision."""
        self.cursor = len(self._rows) - 1

    def action_next_match(self) -> None:
        """Go to the next search match."""
        if not self._jump_to_match(forward=True):
            self.notify("no search matches: press / to search", severity="warning")

    def action_previous_match(self) -> None:
        """Go to the previous search match."""
        if not self._jump_to_match(forward=False):
            self.notify("no search matches: press / to search", severity="warning")

    def action_toggle_mark(self) -> None:
        """Mark or unmark the selected head for a merge; only heads can be merged."""
        revision = self.revision
        if revision is None:
            return
        if revision not in self._heads:
            self.notify(f"{revision} is not a head; only heads can be merged", severity="warning")
            return
        self.marked = self.marked ^ {revision}

    def on_click(self, event: events.Click) -> None:
        """A click selects the row under the pointer."""
        offset = event.get_content_offset(self)
        if offset is not None and self._rows:
            self.cursor = round(self.scroll_y) + offset.y

    def render_line(self, y: int) -> Strip:
        """One visible line: its row from the cache, with the cursor drawn over it."""
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self._base_style()
        if index >= len(self._rows):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._row_strip(index, base)
            self._strips[index] = strip
        if index == self.cursor:
            cursor_style = self._style("graph-view--cursor")
            strip = Strip(Segment.apply_style(strip, post_style=cursor_style), strip.cell_length)
        return strip

    def _row_strip(self, index: int, base: Style) -> Strip:
        """Draw one row in full width: gutter, lanes, id, date, tags and message."""
        assert self._graph is not None
        row = self._rows[index]
        revision = row.revision
        scanned = self._graph.revisions[revision]
        style = self._style
        if revision in self.pending:
            base = base + style("graph-view--pending")
        segments: list[Segment] = []

        def add(text: str, part: Style | None = None) -> None:
            segments.append(Segment(text, base + part if part else base))

        if revision in self.marked:
            add(GUTTER["marked"], style("graph-view--marked"))
        elif revision in self.pending:
            add(GUTTER["pending"], style("graph-view--head"))
        else:
            add(GUTTER["plain"])
        if revision in self._problems:
            add(GUTTER["problem"], style("graph-view--problem"))
        else:
            add(GUTTER["plain"])
        self._add_glyphs(row.glyphs, add)
        add("  ")
        self._add_searchable(revision[:SHORT_ID].ljust(SHORT_ID), style("graph-view--id"), add)
        add("  ")
        # the gap ends the date's segment: an SVG run starting with spaces loses them
        add(
            (scanned.create_date or "").strip()[:DATE_WIDTH].ljust(DATE_WIDTH) + "  ",
            style("graph-view--date"),
        )
        if revision in self._heads:
            add("head ", style("graph-view--head"))
        for name in self.markers.get(revision, ()):
            add(f"[{name}] ", style("graph-view--database"))
        for label in scanned.branch_labels:
            add(f"({one_line(label)}) ", style("graph-view--label"))
        message_style = style("graph-view--problem") if revision in self._problems else None
        self._add_searchable(one_line(scanned.message), message_style, add)
        return Strip(segments).adjust_cell_length(self.scrollable_content_region.width, base)

    def _add_glyphs(self, glyphs: str, add: SegmentSink) -> None:
        """The lane cells, each lane and the gap after it in the lane's colour."""
        if len(glyphs) > self._glyph_width:
            glyphs = glyphs[: self._glyph_width - 1] + "…"
        for lane, start in enumerate(range(0, len(glyphs), 2)):
            add(glyphs[start : start + 2], self._style(f"graph-view--lane-{lane % LANE_COLOURS}"))
        add(" " * (self._glyph_width - len(glyphs)))

    def _add_searchable(self, text: str, part: Style | None, add: SegmentSink) -> None:
        """Text with the search matches in it highlighted."""
        query = self.query
        position = text.casefold().find(query.casefold()) if query else -1
        if position < 0:
            add(text, part)
            return
        match_style = self._style("graph-view--match")
        end = position + len(query)
        add(text[:position], part)
        add(text[position:end], part + match_style if part else match_style)
        add(text[end:], part)
