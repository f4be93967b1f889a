"""Lanes for drawing the revision graph: one row per revision, newest on top, like tig or lazygit.

The terminal widget and the text render both draw from these rows, so the graph is laid out
once, in one linear pass, and never by the UI.

Row order: a topological order with every child above its parents, found by a depth-first walk
from the heads that continues down the first parent whenever it can. A line of history is
therefore drawn without interruption until it meets a revision that still waits for another
line (a branch point); the other line is drawn next, then the branch point, as
``git log --graph --topo-order`` does. Heads with the latest ``Create Date`` come first.

Row glyphs: cell ``2 * lane`` is lane ``lane`` and the cell after it is the gap to the next
lane. A revision is ``●`` (``◎`` for a merge, ``○`` for a base); a lane passing by is ``│``;
lines joining the revision from above end in ``╯``/``╰`` (``┴`` when the horizontal line goes
on); lines leaving it for more parents start with ``╮``/``╭`` (``┬``); a horizontal line
crossing a lane is ``┼``. A line keeps its lane until it ends (no diagonal moves), and a lane
freed on a row is reused from the next row on. Dependencies are not drawn: they are annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from workbench.core.collector import collector_paused
from workbench.core.graph import RevisionGraph

REVISION, MERGE, ROOT = "●", "◎", "○"


class LayoutRow(NamedTuple):
    """One revision's row: the lane of its node and the glyph cells drawn on the row.

    A named tuple: a history has thousands of rows, made in one pass, and a tuple is made
    several times faster than a frozen dataclass.
    """

    revision: str
    lane: int
    glyphs: str


def row_order(graph: RevisionGraph) -> list[str]:
    """The revisions newest first: children above parents, each line of history kept together."""
    waiting = {revision: len(kids) for revision, kids in graph.children.items()}
    stack = sorted(reversed(graph.heads), key=lambda head: graph.revisions[head].create_date or "")
    rows: list[str] = []
    while stack:
        revision = stack.pop()
        rows.append(revision)
        for parent in reversed(graph.parents[revision]):
            waiting[parent] -= 1
            if not waiting[parent]:
                stack.append(parent)
    return rows


def drawn_rows(graph: RevisionGraph) -> list[LayoutRow]:
    """The graph's rows in ``row_order``, laid out once per graph (a kept graph comes laid out).

    The text render, the JSON and the workbench's pane all draw the same rows.
    """
    if graph.laid_out is None:
        graph.laid_out = layout_graph(graph)
    return graph.laid_out


def kept_record(graph: RevisionGraph) -> tuple[object, ...]:
    """The graph and its rows as plain data, for the scan cache to keep (``ScanCache.keep``)."""
    return (graph.to_plain(), [tuple(row) for row in drawn_rows(graph)])


def from_kept_record(record: object) -> RevisionGraph:
    """The graph, laid out, that ``kept_record`` gave."""
    plain, rows = record  # type: ignore[misc]
    graph = RevisionGraph.from_plain(plain)
    make_row = LayoutRow._make
    with collector_paused():
        graph.laid_out = [make_row(row) for row in rows]
    return graph


def layout_graph(graph: RevisionGraph, order: Sequence[str] | None = None) -> list[LayoutRow]:
    """Assign lanes and glyphs to every row of ``order`` (``row_order(graph)`` by default).

    Each lane waits for one parent revision; a revision takes the leftmost lane waiting for it,
    the other lanes waiting for it join it on its row, its first parent continues its lane and
    each further parent gets the leftmost free lane (a new one on the right if none is free).
    """
    with collector_paused():
        return _layout(graph, row_order(graph) if order is None else order)


def _layout(graph: RevisionGraph, rows: Sequence[str]) -> list[LayoutRow]:
    """The lane pass itself, one row at a time."""
    lanes: list[str | None] = []
    result: list[LayoutRow] = []
    parents_of = graph.parents
    bases = set(graph.bases)
    for revision in rows:
        parents = parents_of[revision]
        if revision in lanes:
            lane = lanes.index(revision)
            freed = [index for index in range(lane + 1, len(lanes)) if lanes[index] == revision]
        else:
            lane = _free_lane(lanes, ())
            lanes[lane] = revision
            freed = []
        for index in freed:
            lanes[index] = None
        forks = []
        for parent in parents[1:]:
            index = _free_lane(lanes, freed)
            lanes[index] = parent
            forks.append(index)
        if len(parents) > 1:
            node = MERGE
        elif revision in bases:
            node = ROOT
        else:
            node = REVISION
        # most rows of a history are one line going on: the node alone
        glyphs = node if len(lanes) == 1 and not freed else _draw(lanes, lane, node, freed, forks)
        lanes[lane] = parents[0] if parents else None
        while lanes and lanes[-1] is None:
            lanes.pop()
        result.append(LayoutRow(revision, lane, glyphs))
    return result


def _free_lane(lanes: list[str | None], taken_now: Sequence[int]) -> int:
    """The leftmost free lane not freed on this very row (that would need ``┤``), or a new one."""
    for index, waits in enumerate(lanes):
        if waits is None and index not in taken_now:
            return index
    lanes.append(None)
    return len(lanes) - 1


def _draw(
    lanes: Sequence[str | None], lane: int, node: str, joining: Sequence[int], forks: Sequence[int]
) -> str:
    """The glyph cells of one row, from the lanes as they are while the row is drawn."""
    if not joining and not forks:
        plain = ["│" if waits is not None else " " for waits in lanes]
        plain[lane] = node
        return " ".join(plain).rstrip()
    cells = [" "] * (2 * len(lanes) - 1)
    for index, waits in enumerate(lanes):
        if waits is not None:
            cells[2 * index] = "│"
    cells[2 * lane] = node
    ends = [*joining, *forks]
    left, right = min(lane, *ends), max(lane, *ends)
    for cell in range(2 * left + 1, 2 * right):
        if cell != 2 * lane:
            cells[cell] = "┼" if cells[cell] == "│" else "─"
    for index in joining:
        cells[2 * index] = _corner(index, lane, left, right, "╰", "╯", "┴")
    for index in forks:
        cells[2 * index] = _corner(index, lane, left, right, "╭", "╮", "┬")
    return "".join(cells).rstrip()


def _corner(
    index: int, lane: int, left: int, right: int, on_left: str, on_right: str, on_line: str
) -> str:
    """The end of a horizontal line: a corner at its far end, a tee where the line goes on."""
    if index == left and index < lane:
        return on_left
    if index == right and index > lane:
        return on_right
    return on_line
