"""Time branch analysis on a generated history of 5,000 revisions with 100 merge points.

Run: ``python tests/benchmarks/bench_branches.py``. The figure: analysing the branches met at
every one of the 100 merge points (merge base, each branch's revisions, what each revision's
upgrade touches read from its file, conflicts) in 1 s or less, with no file read before
("cold"). Also shown: the same again with the bodies cached ("warm"), one merge plan with a
database's upgrade order, and the doctor over the whole history (every file read).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from revision_generator import GENERATOR

from workbench.core.branches import analyze_branches, plan_merge
from workbench.core.databases import DatabaseStatus, DatabaseTarget, VersionReading, classify
from workbench.core.doctor import examine
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import scan_revisions
from workbench.core.touches import BodyCache

REVISIONS = 5_000
# with this rate and seed the generator writes exactly 100 merge points
BRANCH_RATE, SEED = "0.0215", "2"
TARGET_SECONDS = 1.0


def generate(generator: Path, out: Path) -> tuple[Path, dict[str, object]]:
    """A generated Alembic project and the generator's summary of it."""
    subprocess.run(
        [
            sys.executable,
            str(generator),
            "--count",
            str(REVISIONS),
            "--branch-rate",
            BRANCH_RATE,
            "--seed",
            SEED,
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    summary = json.loads((out / "graph_summary.json").read_text())
    versions = out / "migrations" / "versions"
    an_hour_ago = time.time() - 3600
    for path in versions.iterdir():  # files just written are never cached (racy window)
        os.utime(path, (an_hour_ago, an_hour_ago))
    return versions, summary


def timed(function: Callable[[], object]) -> tuple[float, object]:
    """Seconds taken by ``function`` and what it returned."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def analyse_every_merge_point(graph: RevisionGraph, bodies: BodyCache) -> int:
    """Analyse the heads each merge revision joined; the number of branch revisions seen."""
    seen = 0
    for merge in graph.merge_points:
        analysis = analyze_branches(graph, graph.parents[merge], bodies)
        assert analysis.merge_bases, merge
        seen += sum(len(branch.revisions) for branch in analysis.branches)
    return seen


def history_before(graph: RevisionGraph, merge: str) -> RevisionGraph:
    """The history as it stood just before ``merge`` was written: two heads to merge."""
    kept = graph.ancestors(graph.parents[merge])
    return build_graph(scanned for revision, scanned in graph.revisions.items() if revision in kept)


def at_base(graph: RevisionGraph) -> list[DatabaseStatus]:
    """One database standing on the first revision of the history."""
    target = DatabaseTarget("default", "sqlite:///bench.sqlite")
    reading = VersionReading(target, revisions=(graph.order[0],), version_table_exists=True)
    return [classify(reading, graph)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best is kept)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-branches-") as scratch:
        versions, summary = generate(args.generator, Path(scratch) / "project")
        scan_seconds, scanned = timed(lambda: scan_revisions([versions]))
        graph_seconds, graph = timed(lambda: build_graph(scanned.revisions, scanned.diagnostics))
        assert isinstance(graph, RevisionGraph) and not graph.diagnostics
        merges = len(graph.merge_points)
        assert merges == summary["merge_points"], (merges, summary["merge_points"])
        print(
            f"{len(graph.revisions)} revisions, {merges} merge points "
            f"(scan {scan_seconds:.3f}s, graph {graph_seconds:.3f}s)"
        )

        cold = min(
            timed(lambda: analyse_every_merge_point(graph, BodyCache()))[0]
            for _ in range(args.repeat)
        )
        warm_cache = BodyCache()
        branch_revisions = analyse_every_merge_point(graph, warm_cache)
        warm = min(
            timed(lambda: analyse_every_merge_point(graph, warm_cache))[0]
            for _ in range(args.repeat)
        )
        verdict = "ok" if cold <= TARGET_SECONDS else "MISSED"
        print(
            f"branch analysis at all {merges} merge points ({branch_revisions} branch revisions "
            f"read): {cold:.3f}s cold, {warm:.3f}s warm  <= {TARGET_SECONDS} s {verdict}"
        )

        newest_merge = max(graph.merge_points, key=graph.order.index)
        before_merge = history_before(graph, newest_merge)
        statuses = at_base(before_merge)
        plan_seconds = min(
            timed(lambda: plan_merge(before_merge, ["heads"], statuses))[0]
            for _ in range(args.repeat)
        )
        print(
            f"one merge plan on the {len(before_merge.revisions)} revisions before the newest "
            f"merge (analysis + upgrade order from base): {plan_seconds:.3f}s"
        )
        statuses = at_base(graph)
        doctor_seconds, problems = timed(lambda: examine(graph, statuses, command="flask db"))
        print(
            f"doctor over the whole history ({len(graph.revisions)} files read): "
            f"{doctor_seconds:.3f}s, {len(problems)} problem(s)"
        )
    return 0 if cold <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
