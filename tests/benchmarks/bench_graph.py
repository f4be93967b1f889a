"""Time scan + graph + layout on generated histories of 5,000 and 50,000 revisions.

Run: ``python tests/benchmarks/bench_graph.py``. Targets: 5,000 revisions in 0.15 s or less,
50,000 in 2 s or less, and 10 times the revisions costing about 10 times the time. Alembic's own
``ScriptDirectory(...).revision_map`` on the same 5,000 files is timed for comparison.

The scan reads every file's header and compiles every file (a syntax error anywhere makes
Alembic refuse the history), keeping both in the scan cache by file identity. Three figures:
``headers`` (no cache, headers only: the reading alone), ``warm`` (the cache filled, as every
run after the first: the target applies here) and ``cold`` (an empty cache, compiling every
file: the first run on a history, once).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from alembic.script import ScriptDirectory
from revision_generator import GENERATOR

from workbench.core.graph import build_graph
from workbench.core.layout import layout_graph
from workbench.core.scan import scan_revisions
from workbench.core.scan_cache import ScanCache
from workbench.project import scan_beside

TARGETS = {5_000: 0.15, 50_000: 2.0}


def generate(generator: Path, count: int, out: Path) -> Path:
    """A generated Alembic project of ``count`` revisions (branches, merges, labels, depends_on)."""
    subprocess.run(
        [sys.executable, str(generator), "--count", str(count), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    return out / "migrations"


def timed(function: Callable[[], object]) -> tuple[float, object]:
    """Seconds taken by ``function`` and what it returned."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def pipeline(versions: Path, cache_file: Path | None = None) -> dict[str, float]:
    """One run of scan, graph and layout, and of a full upgrade plan from base for reference.

    Without ``cache_file``, headers only; with it, the product's scan (compiled, cached there,
    many unread files split with a forked copy).
    """
    if cache_file is None:
        scan_seconds, scanned = timed(lambda: scan_revisions([versions], compile_check=False))
    else:
        cache = ScanCache.load(str(cache_file))
        scan_seconds, scanned = timed(
            lambda: scan_revisions([versions], cache=cache, beside=scan_beside)
        )
    graph_seconds, graph = timed(lambda: build_graph(scanned.revisions, scanned.diagnostics))
    layout_seconds, rows = timed(lambda: layout_graph(graph))
    pending_seconds, pending = timed(lambda: graph.pending((), "heads"))
    assert not graph.diagnostics and len(rows) == len(pending) == len(graph.revisions)
    return {
        "scan": scan_seconds,
        "graph": graph_seconds,
        "layout": layout_seconds,
        "total": scan_seconds + graph_seconds + layout_seconds,
        "pending": pending_seconds,
    }


def best_of(versions: Path, repeat: int, mode: str) -> dict[str, float]:
    """The fastest of ``repeat`` runs per phase: the machine's noise only ever adds time.

    ``mode``: ``headers``, ``warm`` (one unmeasured run fills the cache first) or ``cold``
    (a new, empty cache for every run).
    """
    cache_file = versions.parent / "scan-cache.marshal"
    if mode == "warm":
        cache_file.unlink(missing_ok=True)
        pipeline(versions, cache_file)
    runs = []
    for _ in range(repeat):
        if mode == "cold":
            cache_file.unlink(missing_ok=True)
        runs.append(pipeline(versions, None if mode == "headers" else cache_file))
    return {phase: min(run[phase] for run in runs) for phase in runs[0]}


def alembic_heads_seconds(migrations: Path) -> float:
    """Alembic importing every revision file to learn its heads (a fresh ScriptDirectory)."""
    seconds, _ = timed(lambda: ScriptDirectory(str(migrations)).revision_map.heads)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    parser.add_argument("--repeat", type=int, default=5, help="runs per history (best is kept)")
    args = parser.parse_args()

    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as scratch:
        projects = {
            count: generate(args.generator, count, Path(scratch) / f"p{count}") for count in TARGETS
        }
        print(
            f"{'revisions':>9}  {'scan':>7}  {'graph':>7}  {'layout':>7}  {'total':>7}  mode"
            "     target"
        )
        for count, migrations in projects.items():
            for mode in ("headers", "warm", "cold"):
                best = best_of(migrations / "versions", args.repeat, mode)
                if mode == "warm":
                    results[count] = best
                verdict = "ok" if best["total"] <= TARGETS[count] else "MISSED"
                target = f"<= {TARGETS[count]} s {verdict}" if mode == "warm" else ""
                print(
                    f"{count:>9}  {best['scan']:6.3f}s  {best['graph']:6.3f}s  "
                    f"{best['layout']:6.3f}s  {best['total']:6.3f}s  {mode:<7}  {target}"
                )
        small, large = sorted(TARGETS)
        ratio = results[large]["total"] / results[small]["total"]
        print(f"ratio {large}/{small}: {ratio:.1f} (linear would be {large / small:.0f})")
        print(
            "pending(base -> heads): "
            + ", ".join(f"{count}: {results[count]['pending']:.3f}s" for count in TARGETS)
        )
        alembic = statistics.median(alembic_heads_seconds(projects[small]) for _ in range(3))
        print(
            f"alembic ScriptDirectory(...).revision_map.heads, {small} revisions: {alembic:.2f}s "
            f"({alembic / results[small]['total']:.0f}x our scan + graph + layout)"
        )
    return 0 if all(results[c]["total"] <= t for c, t in TARGETS.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
