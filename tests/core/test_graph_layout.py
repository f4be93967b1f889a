"""The lane layout draws exactly the graph's edges, newest first, and reads well as text."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from revision_dags import revision_dags

from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.layout import LayoutRow, layout_graph, row_order
from workbench.core.scan import ScannedRevision

GLYPHS = set(" │─╭╮╯╰┬┴┼●○◎")


def render_text(
    graph: RevisionGraph, rows: Sequence[LayoutRow] | None = None, id_width: int = 12
) -> str:
    """The layout as plain text: lanes, short id, own branch labels and message, one line each."""
    laid_out = layout_graph(graph) if rows is None else rows
    width = max((len(row.glyphs) for row in laid_out), default=0)
    lines = []
    for row in laid_out:
        scanned = graph.revisions[row.revision]
        labels = f"({', '.join(scanned.branch_labels)}) " if scanned.branch_labels else ""
        short_id = row.revision[:id_width]
        lines.append(
            f"{row.glyphs:<{width}}  {short_id:<{id_width}}  {labels}{scanned.message}".rstrip()
        )
    return "\n".join(lines) + "\n" if lines else ""


def graph_of(
    *specs: str, labels: dict[str, str] | None = None, dates: dict[str, str] | None = None
) -> RevisionGraph:
    """A graph from ``"child:parent1,parent2"`` specs, in the given load order."""
    revisions = []
    for spec in specs:
        revision, _, parents = spec.partition(":")
        revisions.append(
            ScannedRevision(
                revision=revision,
                down_revision=tuple(p for p in parents.split(",") if p),
                branch_labels=(labels[revision],) if labels and revision in labels else (),
                message=f"message of {revision}",
                create_date=(dates or {}).get(revision),
            )
        )
    return build_graph(revisions)


def golden(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def drawn_edges(rows: list[LayoutRow]) -> set[tuple[str, str]]:
    """Read the drawing back: follow every line from the row it leaves to the row it ends on."""
    flowing: dict[int, str] = {}
    edges = set()
    for row in rows:
        assert set(row.glyphs) <= GLYPHS
        cells = row.glyphs.ljust(2 * max([row.lane, *flowing], default=0) + 1)
        lane_cells = {index // 2: cell for index, cell in enumerate(cells) if index % 2 == 0}
        passing = {lane for lane, cell in lane_cells.items() if cell in "│┼"}
        assert passing <= set(flowing), f"a line from nowhere at {row.revision}"
        for lane, child in sorted(flowing.items()):
            if lane == row.lane or lane_cells[lane] in "╯╰┴":
                edges.add((child, row.revision))
                del flowing[lane]
            else:
                assert lane in passing, f"the line from {child} breaks at {row.revision}"
        ends = sorted(lane for lane, cell in lane_cells.items() if cell in "╯╰┴╮╭┬")
        for lane in ends:
            between = cells[min(2 * lane, 2 * row.lane) + 1 : max(2 * lane, 2 * row.lane)]
            assert set(between) <= set("─┼┴┬╯╰╮╭"), f"no line to {lane} at {row.revision}"
            if lane == ends[0] and lane < row.lane:
                assert lane_cells[lane] in "╭╰"
            elif lane == ends[-1] and lane > row.lane:
                assert lane_cells[lane] in "╮╯"
            else:
                assert lane_cells[lane] in "┬┴"
            if lane_cells[lane] in "╮╭┬":
                flowing[lane] = row.revision
        if lane_cells[row.lane] != "○":
            flowing[row.lane] = row.revision
    assert not flowing
    return edges


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(revision_dags(max_revisions=30))
def test_the_drawing_holds_exactly_the_graphs_edges(revisions: list[ScannedRevision]) -> None:
    graph = build_graph(revisions)

    rows = layout_graph(graph)

    assert [row.revision for row in rows] == row_order(graph)
    assert sorted(row.revision for row in rows) == sorted(graph.revisions)
    position = {row.revision: index for index, row in enumerate(rows)}
    for child, parents in graph.parents.items():
        assert all(position[child] < position[parent] for parent in parents)
    assert drawn_edges(rows) == {
        (child, parent) for child, parents in graph.parents.items() for parent in parents
    }


def test_merge_of_three_after_a_branch_point_of_three() -> None:
    graph = graph_of("a:", "b:a", "c:a", "d:a", "m:b,c,d", "x:m")

    assert render_text(graph) == golden("""
        ●      x             message of x
        ◎─┬─╮  m             message of m
        ● │ │  b             message of b
        │ ● │  c             message of c
        │ │ ●  d             message of d
        ○─┴─╯  a             message of a
    """)


def test_merge_of_four() -> None:
    graph = graph_of("a:", "b:a", "c:a", "d:a", "e:a", "f:b", "m:f,c,d,e")

    assert render_text(graph) == golden("""
        ◎─┬─┬─╮  m             message of m
        ● │ │ │  f             message of f
        ● │ │ │  b             message of b
        │ ● │ │  c             message of c
        │ │ ● │  d             message of d
        │ │ │ ●  e             message of e
        ○─┴─┴─╯  a             message of a
    """)


def test_several_bases_merged_and_two_heads() -> None:
    graph = graph_of("a:", "b:", "c:", "m:a,b,c", "n:m", "o:m")

    assert render_text(graph) == golden("""
        ●        n             message of n
        │ ●      o             message of o
        ◎─┴─┬─╮  m             message of m
        ○   │ │  a             message of a
            ○ │  b             message of b
              ○  c             message of c
    """)


def test_lines_crossing() -> None:
    graph = graph_of("a:", "b:a", "c:a", "d:b", "e:c", "f:d,e", "g:b", "h:f,g")

    assert render_text(graph) == golden("""
        ◎─╮    h             message of h
        ◎─┼─╮  f             message of f
        ● │ │  d             message of d
        │ │ ●  e             message of e
        │ │ ●  c             message of c
        │ ● │  g             message of g
        ●─╯ │  b             message of b
        ○───╯  a             message of a
    """)


def test_labelled_lines_are_drawn_one_after_the_other() -> None:
    graph = graph_of(
        "base:",
        "acc1:base",
        "shop1:base",
        "acc2:acc1",
        "shop2:shop1",
        "acc3:acc2",
        labels={"acc1": "accounts", "shop1": "shop"},
    )

    assert render_text(graph) == golden("""
        ●    shop2         message of shop2
        ●    shop1         (shop) message of shop1
        │ ●  acc3          message of acc3
        │ ●  acc2          message of acc2
        │ ●  acc1          (accounts) message of acc1
        ○─╯  base          message of base
    """)


def test_branch_point_with_three_children_and_newest_head_first() -> None:
    graph = graph_of(
        "a:",
        "b:a",
        "c:a",
        "d:a",
        "b2:b",
        "c2:c",
        dates={
            "d": "2024-01-01 10:00:00",
            "b2": "2024-03-01 10:00:00",
            "c2": "2024-02-01 09:00:00",
        },
    )

    assert render_text(graph) == golden("""
        ●      b2            message of b2
        ●      b             message of b
        │ ●    c2            message of c2
        │ ●    c             message of c
        │ │ ●  d             message of d
        ○─┴─╯  a             message of a
    """)


def test_separate_histories_and_a_missing_parent() -> None:
    graph = graph_of("a:", "b:a", "z:gone", "z2:z")

    assert render_text(graph, id_width=2) == golden("""
        ●  b   message of b
        ○  a   message of a
        ●  z2  message of z2
        ●  z   message of z
    """)
    assert render_text(graph_of()) == ""
