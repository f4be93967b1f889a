"""The graph and the databases' status as text, JSON, Graphviz DOT and Mermaid.

Plain strings and dicts out, so the CLI prints them and CI scripts parse them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.core.databases import DatabaseStatus
from workbench.core.graph import RevisionGraph
from workbench.core.identifiers import SHORT_ID, one_line
from workbench.core.layout import LayoutRow, drawn_rows
from workbench.core.scan import Diagnostic, ScannedRevision


def database_markers(statuses: Sequence[DatabaseStatus]) -> dict[str, list[str]]:
    """For each revision, the names of the databases standing on it."""
    markers: dict[str, list[str]] = {}
    for status in statuses:
        for revision in status.current:
            markers.setdefault(revision, []).append(status.name)
    return markers


def limited_rows(graph: RevisionGraph, limit: int | None = None) -> list[LayoutRow]:
    """The layout rows, newest first, cut to the first ``limit`` when given."""
    rows = drawn_rows(graph)
    return rows if limit is None else rows[: max(0, limit)]


def graph_text(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus] = (), limit: int | None = None
) -> str:
    """The graph drawn with lanes, one revision a line, with head and database markers."""
    rows = limited_rows(graph, limit)
    markers = database_markers(statuses)
    heads = set(graph.heads)
    revisions = graph.revisions
    width = max((len(row.glyphs) for row in rows), default=0)
    padded = {glyphs: f"{glyphs:<{width}}  " for glyphs in {row.glyphs for row in rows}}
    lines = []
    append = lines.append
    for revision, _, glyphs in rows:  # one pass over thousands of rows: locals, no attributes
        scanned = revisions[revision]
        message = scanned.message
        if not message.isprintable():
            message = one_line(message)
        short = revision[:SHORT_ID]
        if not short.isprintable():
            short = one_line(short)
        start = f"{padded[glyphs]}{short:<{SHORT_ID}}  "
        if revision in heads or revision in markers or scanned.branch_labels or scanned.expressions:
            start += _tags(scanned, revision in heads, markers.get(revision, ())) + " "
        append(f"{start}{message}".rstrip())
    return "\n".join(lines) + "\n" if lines else ""


def _tags(scanned: ScannedRevision, is_head: bool, databases: Sequence[str]) -> str:
    """A row's markers: head, the databases on it, its branch labels, its unknown headers."""
    tags = ["(head)"] if is_head else []
    tags.extend(f"[{name}]" for name in databases)
    if scanned.branch_labels:
        tags.append(one_line(f"({', '.join(scanned.branch_labels)})"))
    # a header the scan cannot read is shown as unknown, not drawn as a guess
    tags.extend(f"({name} unknown)" for name, _ in scanned.expressions)
    return " ".join(tags)


def status_dict(status: DatabaseStatus) -> dict[str, Any]:
    """One database's status as a JSON-ready dict."""
    return {
        "name": status.name,
        "url": status.url,
        "current": list(status.current),
        "state": status.state.value,
        "pending": list(status.pending),
        "pending_count": len(status.pending),
        "reason": status.reason,
        "read_only": status.read_only,
    }


def diagnostic_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic as a JSON-ready dict."""
    return {
        "kind": diagnostic.kind,
        "revision": diagnostic.revision,
        "path": diagnostic.path,
        "message": diagnostic.message,
    }


def graph_document(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus] = (), limit: int | None = None
) -> dict[str, Any]:
    """The graph as a JSON-ready dict: heads, bases, revisions newest first, databases."""
    rows = limited_rows(graph, limit)
    markers = database_markers(statuses)
    revisions = []
    for row in rows:
        scanned = graph.revisions[row.revision]
        revisions.append(
            {
                "revision": row.revision,
                "down_revisions": list(graph.parents[row.revision]),
                "branch_labels": sorted(graph.branch_labels.get(row.revision, ())),
                "depends_on": list(graph.dependencies[row.revision]),
                "message": scanned.message,
                "path": scanned.path,
                "create_date": scanned.create_date,
                "lane": row.lane,
                "databases": markers.get(row.revision, []),
            }
        )
    return {
        "heads": list(graph.heads),
        "bases": list(graph.bases),
        "merge_points": list(graph.merge_points),
        "branch_points": list(graph.branch_points),
        "revisions": revisions,
        "databases": [status_dict(status) for status in statuses],
        "diagnostics": [diagnostic_dict(diagnostic) for diagnostic in graph.diagnostics],
    }


def graph_dot(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus] = (), limit: int | None = None
) -> str:
    """The graph in Graphviz DOT, edges from parent to child, heads and databases marked."""
    rows = limited_rows(graph, limit)
    shown = {row.revision for row in rows}
    labels = _node_labels(graph, database_markers(statuses), rows)
    lines = ["digraph revisions {", "  rankdir=BT;", "  node [shape=box, fontname=monospace];"]
    for row in rows:
        shape = ', style="bold"' if row.revision in graph.heads else ""
        lines.append(f"  {_quote(row.revision)} [label={_quote(labels[row.revision])}{shape}];")
    for row in rows:
        for parent in graph.parents[row.revision]:
            if parent in shown:
                lines.append(f"  {_quote(parent)} -> {_quote(row.revision)};")
        for dependency in graph.dependencies[row.revision]:
            if dependency in shown:
                lines.append(f"  {_quote(dependency)} -> {_quote(row.revision)} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_mermaid(
    graph: RevisionGraph, statuses: Sequence[DatabaseStatus] = (), limit: int | None = None
) -> str:
    """The graph as a Mermaid flowchart, edges from parent to child."""
    rows = limited_rows(graph, limit)
    shown = {row.revision for row in rows}
    labels = _node_labels(graph, database_markers(statuses), rows)
    node_ids = {row.revision: f"r{index}" for index, row in enumerate(rows)}
    lines = ["flowchart BT"]
    for row in rows:
        lines.append(f'  {node_ids[row.revision]}["{_mermaid_text(labels[row.revision])}"]')
    for row in rows:
        for parent in graph.parents[row.revision]:
            if parent in shown:
                lines.append(f"  {node_ids[parent]} --> {node_ids[row.revision]}")
        for dependency in graph.dependencies[row.revision]:
            if dependency in shown:
                lines.append(f"  {node_ids[dependency]} -.-> {node_ids[row.revision]}")
    return "\n".join(lines) + "\n"


def _node_labels(
    graph: RevisionGraph, markers: Mapping[str, list[str]], rows: Sequence[LayoutRow]
) -> dict[str, str]:
    """Each shown revision's label: short id and markers, a line break, then its message.

    The id and message are shown on one line each, whatever control characters they hold.
    """
    labels = {}
    for row in rows:
        tags = ["(head)"] if row.revision in graph.heads else []
        tags.extend(f"[{name}]" for name in markers.get(row.revision, ()))
        first = one_line(" ".join([row.revision[:SHORT_ID], *tags]))
        labels[row.revision] = f"{first}\n{one_line(graph.revisions[row.revision].message)}"
    return labels


def _quote(text: str) -> str:
    """A DOT string literal; a line break in ``text`` becomes DOT's ``\\n``, nothing else breaks."""
    lines = (one_line(line) for line in text.split("\n"))
    escaped = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return f'"{escaped}"'


def _mermaid_text(text: str) -> str:
    """A Mermaid node label's text: entity codes for the characters Mermaid reads as markup.

    ``#`` starts Mermaid's own entity codes, so it is escaped first; a line break becomes
    ``<br/>``.
    """
    escaped = text.replace("#", "#35;")
    for char, code in (
        ('"', "#quot;"),
        ("&", "#amp;"),
        ("<", "#lt;"),
        (">", "#gt;"),
        ("`", "#96;"),
    ):
        escaped = escaped.replace(char, code)
    return "<br/>".join(one_line(line) for line in escaped.split("\n"))


def status_table(statuses: Sequence[DatabaseStatus]) -> str:
    """One aligned line per database: name, URL, current revisions, state, pending count, reason."""
    rows = [
        (
            status.name,
            status.url,
            ",".join(revision[:SHORT_ID] for revision in status.current) or "-",
            status.state.value,
            f"{len(status.pending)} pending",
            "" if status.at_head else status.reason,
        )
        for status in statuses
    ]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(5)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)]
        lines.append(("  ".join(cells) + ("  " + row[5] if row[5] else "")).rstrip())
    return "\n".join(lines) + "\n" if lines else ""
