"""How fast the SQL view follows the cursor, and how fast a script is reviewed again.

Run: ``python tests/benchmarks/bench_sql_view.py [--count 5000] [--moves 20]``. Two projects:
the demo (``python -m workbench demo``: two SQLite databases, batch revisions) and a generated
history of ``--count`` revisions wrapped in a Flask app (as ``bench_cli.py`` does). Targets:

* the SQL view in a real terminal (tmux 160x48, `flask db tui`): after the first SQL shown,
  the SQL of each revision reached with `j` appears in <= 100 ms (p95 over ``--moves`` moves),
  from sending the key until the pane shows "SQL of <the new revision>" with its SQL (not
  "rendering SQL…"). ``--pause`` seconds between moves: a person reading each revision;
* for reference, in process through the client API: a revision's SQL from a fresh child per
  request (how the workbench rendered it before: one child running env.py each time) against
  the warm child (a request not rendered ahead, the revision map already loaded);
* reviewing a script again (what the review screen does after `e`): a fresh child per review
  (before) against the warm child (after), median of ``--reviews``: <= 0.5 x.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import make_project
from bench_tui import Terminal, tui_command
from revision_generator import GENERATOR

from workbench.runtime.client import Launch, start
from workbench.runtime.events import Finished
from workbench.runtime.requests import ReviewScriptRequest, SqlRequest
from workbench.runtime.warm import WarmChild

SQL_TARGET_MS = 100.0
REVIEW_RATIO = 0.5
SQL_TITLE = re.compile(r"SQL of (\w+) on ")
POSITION = re.compile(r"(\d+)/(\d+)")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def shown_sql(screen: str) -> str | None:
    """The revision whose SQL the pane shows, once its SQL (not the placeholder) is there."""
    found = SQL_TITLE.search(screen)
    if found is None or "rendering SQL" in screen:
        return None
    return found.group(1)


def terminal_moves(folder: Path, app: str, moves: int, pause: float, env: dict[str, str]) -> dict:
    """Open the workbench in tmux, turn the SQL view on, move down ``moves`` times."""
    terminal = Terminal(env)
    try:
        started = time.perf_counter()
        terminal.launch(folder, tui_command(app))
        screen = terminal.wait_for(
            lambda s: "q Quit" in s and POSITION.search(s), "first screen", 120
        )
        total = POSITION.search(screen).group(2)
        first_screen = time.perf_counter() - started
        time.sleep(0.5)
        sent = time.perf_counter()
        terminal.send("s")
        screen = terminal.wait_for(lambda s: shown_sql(s) is not None, "the first SQL", 120)
        first_sql = time.perf_counter() - sent
        previous = shown_sql(screen)
        timings, cursor = [], []
        for move in range(moves):
            time.sleep(pause)
            sent = time.perf_counter()
            terminal.send("j")
            moved = re.compile(rf"(?<!\d){move + 2}/{total}")
            cursor_at = sql_at = None
            deadline = sent + 60
            while sql_at is None or cursor_at is None:
                screen = terminal.screen()
                now = time.perf_counter()
                if cursor_at is None and moved.search(screen):
                    cursor_at = now
                if sql_at is None and shown_sql(screen) not in (None, previous):
                    sql_at = now
                if now > deadline:
                    raise SystemExit(f"the next revision's SQL never came:\n{screen}")
                if sql_at is None or cursor_at is None:
                    terminal.wait_output(0.1)
            cursor.append((cursor_at - sent) * 1000)
            timings.append((sql_at - sent) * 1000)
            previous = shown_sql(screen)
        terminal.quit_app()
    finally:
        terminal.close()
    return {
        "first_screen_s": first_screen,
        "first_sql_s": first_sql,
        "median_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "max_ms": max(timings),
        "cursor_median_ms": statistics.median(cursor),
        "cursor_p95_ms": percentile(cursor, 0.95),
    }


def revision_spans(folder: Path, count: int, seed: int = 7) -> list[str]:
    """``parent:revision`` of ``count`` revisions with one parent, picked at random."""
    from workbench.core.graph import build_graph
    from workbench.core.scan import scan_revisions

    scanned = scan_revisions([str(folder / "migrations" / "versions")])
    graph = build_graph(scanned.revisions, scanned.diagnostics)
    single = [rev for rev, parents in graph.parents.items() if len(parents) == 1]
    chosen = random.Random(seed).sample(single, min(count, len(single)))
    return [f"{graph.parents[rev][0]}:{rev}" for rev in chosen]


def in_process_sql(folder: Path, app: str, spans: list[str], env: dict[str, str]) -> dict:
    """Seconds per SQL request: a fresh child each (before) and the warm child (after)."""
    launch = Launch(folder, app, env)
    fresh = []
    for span in spans[:5]:
        began = time.perf_counter()
        final = start(SqlRequest(revision=span), launch).wait()
        assert isinstance(final, Finished), final
        fresh.append(time.perf_counter() - began)
    warm_child = WarmChild(launch)
    try:
        began = time.perf_counter()
        first = warm_child.run(SqlRequest(revision=spans[0]))
        assert isinstance(first, Finished), first
        warm_first = time.perf_counter() - began
        warm = []
        for span in spans[1:]:
            began = time.perf_counter()
            final = warm_child.run(SqlRequest(revision=span))
            assert isinstance(final, Finished), final
            warm.append((time.perf_counter() - began) * 1000)
    finally:
        warm_child.close()
    return {
        "fresh_child_median_s": statistics.median(fresh),
        "warm_first_s": warm_first,
        "warm_median_ms": statistics.median(warm),
        "warm_p95_ms": percentile(warm, 0.95),
    }


def reviews(folder: Path, app: str, script: Path, runs: int, env: dict[str, str]) -> dict:
    """Seconds to review a script's text again: a fresh child each time against the warm one."""
    launch = Launch(folder, app, env)
    text = script.read_text()
    request = ReviewScriptRequest(script=text, path=str(script))
    fresh = []
    for _ in range(runs):
        began = time.perf_counter()
        final = start(request, launch).wait()
        assert isinstance(final, Finished), final
        fresh.append(time.perf_counter() - began)
    warm_child = WarmChild(launch)
    try:
        warm_child.run(request)  # the review screen's first review starts it
        warm = []
        for run in range(runs):
            edited = ReviewScriptRequest(script=f"{text}\n# edit {run}\n", path=str(script))
            began = time.perf_counter()
            final = warm_child.run(edited)
            assert isinstance(final, Finished), final
            warm.append(time.perf_counter() - began)
    finally:
        warm_child.close()
    before, after = statistics.median(fresh), statistics.median(warm)
    return {"before_s": before, "after_s": after, "ratio": after / before}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.5)
    parser.add_argument("--reviews", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as scratch:
        root = Path(scratch)
        env = {
            **os.environ,
            "COLORTERM": "truecolor",
            "PYTHONPYCACHEPREFIX": str(root / "pycache"),
            "XDG_CACHE_HOME": str(root / "cache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        from workbench.demo.build import create_demo

        demo = create_demo(root / "demo")
        big = make_project(root / "big", args.count, GENERATOR)
        failed = False
        for name, folder, app in (("demo", demo, "app"), (f"{args.count}", big, "wb_app")):
            print(f"== {name} revisions ==")
            moves = terminal_moves(folder, app, args.moves, args.pause, env)
            print(
                f"tmux: first screen {moves['first_screen_s']:.2f} s, first SQL "
                f"{moves['first_sql_s']:.2f} s; then per `j` median {moves['median_ms']:.0f} ms, "
                f"p95 {moves['p95_ms']:.0f} ms, max {moves['max_ms']:.0f} ms "
                f"(target p95 <= {SQL_TARGET_MS:.0f} ms); the same presses until the cursor's "
                f"row count moved: median {moves['cursor_median_ms']:.0f} ms, "
                f"p95 {moves['cursor_p95_ms']:.0f} ms"
            )
            failed |= moves["p95_ms"] > SQL_TARGET_MS
            sql = in_process_sql(folder, app, revision_spans(folder, args.moves + 1), env)
            print(
                f"client API: fresh child per SQL {sql['fresh_child_median_s']:.2f} s (before); "
                f"warm child first {sql['warm_first_s']:.2f} s, then not rendered ahead median "
                f"{sql['warm_median_ms']:.0f} ms, p95 {sql['warm_p95_ms']:.0f} ms"
            )
        script = next((demo / "migrations" / "versions").glob("47650590baee_*.py"))
        review = reviews(demo, "app", script, args.reviews, env)
        print(
            f"review again after an edit (demo, {script.name}): fresh child "
            f"{review['before_s']:.2f} s, warm child {review['after_s']:.2f} s, "
            f"ratio {review['ratio']:.2f} (target <= {REVIEW_RATIO})"
        )
        failed |= review["ratio"] > REVIEW_RATIO
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
