"""Start-up, memory and key latency of the workbench (`flask db tui`), against Flask-Migrate.

Run: ``python tests/benchmarks/bench_tui.py [--count 5000] [--keys-count 10000]``, or with
``--large 50000`` for the figures of a large history (below). Each history is generated and
wrapped in a Flask project as in ``bench_cli.py`` (one app imports ``workbench.Migrate``, the
other ``flask_migrate.Migrate``, same migrations folder, SQLite database stamped at head).
Targets:

* start-up: launching `flask db tui` in a real terminal (a tmux pane of 160x48) until the first
  interactive screen, median of 3 runs after a warm-up run: <= 1.5 s and <= 0.5 x Flask-Migrate's
  ``flask db heads`` (whole process, median of 3 after a warm-up run, from an environment
  without workbench: ``flask_migrate_env``);
* peak memory (VmHWM) of the `flask db tui` process at that screen: <= 150 MB;
* time per key on a 10,000-revision history, cursor moves (``j``) and page moves (page down):
  median <= 16 ms, measured in process with Textual's Pilot and, for reference, in tmux.

``--large N`` measures one history of N revisions instead (50,000 for issue 15's figure), each
figure as above: first interactive screen <= 2.5 s (no comparison with Flask-Migrate, whose
``heads`` takes minutes there), peak memory <= 300 MB, time per key median <= 16 ms.

Every command runs once before it is timed, so that its bytecode and the workbench's scan cache
exist: bytecode is written (``PYTHONDONTWRITEBYTECODE`` unset) under ``PYTHONPYCACHEPREFIX`` and
the scan cache under ``XDG_CACHE_HOME``, both in the scratch folder, so that nothing outside it
is written. ``COLORTERM=truecolor`` (as most terminals set it) makes the app encode its output
as for a true-colour terminal, in tmux and in the Pilot.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench_cli import GENERATOR, flask, make_project
from flask_migrate_env import make_flask_migrate_python

WIDTH, HEIGHT = 160, 48
START_RUNS = 3
START_TARGET = 1.5
START_RATIO = 0.5
MEMORY_TARGET_MB = 150.0
KEY_TARGET_MS = 16.0
LARGE_START_TARGET = 2.5
LARGE_MEMORY_TARGET_MB = 300.0
SETTLE = 0.2
"""Seconds between two timed key presses: the detail pane shows the revision meanwhile."""
FIRST_SCREEN = (
    "first interactive screen: the graph pane lists the newest revision with '1/{count}' under\n"
    "  it and the footer's key bar ('q Quit') is drawn; then `j` is sent and the screen shows\n"
    "  '2/{count}' (the key was answered). Timed from asking tmux to start the process."
)
PILOT_MEASURE = (
    "in process, Textual's Pilot harness (app.run_test(size=({width}, {height})), headless): from\n"
    "  posting the key event as the terminal driver (and pilot.press) does, to the end of the\n"
    "  first frame that shows the moved cursor: the key's handling, the wait for the app's\n"
    "  60 fps update tick, the compositor's render of the changed lines and their encoding\n"
    "  into terminal output (only the write to a terminal is missing). {settle} s between\n"
    "  presses, so each is a single press; {warm} untimed presses of each key first."
)
TERMINAL_MEASURE = (
    "real terminal, for reference (tmux {width}x{height}, the `flask db tui` process): from\n"
    "  `send-keys` through a tmux control-mode client until a capture of the pane, taken\n"
    "  each time tmux reports output from it, differs (one capture round trip: {capture:.1f} ms).\n"
    "  {settle} s between presses."
)


class Terminal:
    """A private tmux server with one pane of a fixed size, driven through a control-mode client.

    Commands (capture the pane, send keys) go through one ``tmux -C`` client instead of one
    process each, and the client's ``%output`` notifications say when the pane has written
    something, so the screen is looked at right after each write rather than polled.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"bench-tui-{uuid.uuid4().hex[:8]}"
        session = ("new-session", "-d", "-s", "bench", "-x", str(WIDTH), "-y", str(HEIGHT))
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *session, "sleep 86400"],
            env=env,
            check=True,
            capture_output=True,
        )
        self._client = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach-session", "-t", "bench"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._replies: queue.Queue[tuple[bool, list[str]]] = queue.Queue()
        self._output = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self.command("set-option -t bench remain-on-exit on")
        self.command("set-option -g default-terminal tmux-256color")
        self._socket_path = self.command("display-message -p '#{socket_path}'")[0]

    def _read(self) -> None:
        """Sort the client's lines: replies to our commands, and pane-output notifications."""
        assert self._client.stdout is not None
        begin: list[str] | None = None
        block: list[str] = []
        for raw in self._client.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if begin is not None:
                words = text.split()
                if words[:1] in (["%end"], ["%error"]) and words[1:3] == begin[1:3]:
                    if begin[3] == "1":  # a command of ours, not the attach itself
                        self._replies.put((words[0] == "%end", block))
                    begin, block = None, []
                else:
                    block.append(text)
            elif text.startswith("%begin "):
                begin = text.split()
            elif text.startswith("%output "):
                self._output.set()
        self._replies.put((False, ["the tmux control client exited"]))

    def command(self, command: str) -> list[str]:
        """Run a tmux command; the lines it printed."""
        assert self._client.stdin is not None
        self._client.stdin.write(command.encode() + b"\n")
        self._client.stdin.flush()
        succeeded, lines = self._replies.get(timeout=30)
        if not succeeded:
            raise SystemExit(f"tmux {command!r} failed: {' '.join(lines)}")
        return lines

    def launch(self, folder: Path, command: str) -> int:
        """Run a shell command in the pane, in place of what ran there; the pane process's pid."""
        shell = f"cd {folder} && exec {command}"
        assert "'" not in shell
        self.command("clear-history -t bench")
        self.command(f"respawn-pane -k -t bench '{shell}'")
        return int(self.command("display-message -p -t bench '#{pane_pid}'")[0])

    def screen(self, styles: bool = False) -> str:
        """The text on the pane now (with its colours and attributes when ``styles``).

        Forgets the pane's earlier writes (see ``wait_output``).
        """
        self._output.clear()
        return "\n".join(self.command(f"capture-pane -p {'-e ' if styles else ''}-t bench"))

    def wait_output(self, timeout: float) -> None:
        """Wait until the pane writes something after the last ``screen`` (or for timeout)."""
        self._output.wait(timeout)

    def wait_for(
        self, ready: Callable[[str], bool], what: str, timeout: float, styles: bool = False
    ) -> str:
        """The pane's text once it satisfies ``ready``."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.screen(styles)
            if ready(screen):
                return screen
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out waiting for {what}; the screen:\n{screen}")
            self.wait_output(0.1)

    def send(self, key: str) -> None:
        """Type a key (a tmux key name) into the pane."""
        self.command(f"send-keys -t bench {key}")

    def quit_app(self, timeout: float = 10.0) -> None:
        """Press q and wait until the pane's process has exited."""
        self.send("q")
        deadline = time.perf_counter() + timeout
        while self.command("display-message -p -t bench '#{pane_dead}'") != ["1"]:
            if time.perf_counter() > deadline:
                raise SystemExit("the workbench did not quit on q")
            time.sleep(0.02)

    def close(self) -> None:
        """Stop the tmux server (and whatever still runs in it) and the control client."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        try:
            self._client.wait(5)
        except subprocess.TimeoutExpired:
            self._client.kill()
        Path(self._socket_path).unlink(missing_ok=True)  # the server leaves its socket file


def tui_command(app: str, *, scan_cache: bool = True) -> str:
    """The shell command that runs `flask db tui` as the pane's own process (exec, no shell)."""
    cache = "" if scan_cache else " WORKBENCH_SCAN_CACHE=0"
    return f"env -u COLUMNS -u LINES FLASK_APP={app}{cache} {sys.executable} -m flask db tui"


def peak_memory_mb(pid: int) -> float:
    """VmHWM of a process in MB (10^6 bytes), after checking that it is `flask db tui`."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"flask" not in command or b"tui" not in command:
        raise SystemExit(f"pid {pid} is not the workbench: {command}")
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))
    return kilobytes * 1024 / 1e6


def start_once(
    terminal: Terminal, project: Path, count: int, head: str, scan_cache: bool = True
) -> dict[str, float]:
    """One launch of `flask db tui`: seconds to each stage, and peak memory in MB; then quit."""
    started = time.perf_counter()
    pid = terminal.launch(project, tui_command("wb_app", scan_cache=scan_cache))
    marks: dict[str, float] = {}
    while "answered" not in marks or "databases" not in marks:
        screen = terminal.screen()
        now = time.perf_counter() - started
        if "frame" not in marks and "Migration Workbench" in screen:
            marks["frame"] = now
        if "databases" not in marks and "at head" in screen:
            marks["databases"] = now
        if "graph" not in marks:
            if head in screen and f" 1/{count} " in screen and "q Quit" in screen:
                marks["graph"] = now
                terminal.send("j")
                continue
        elif "answered" not in marks and f" 2/{count} " in screen:
            marks["answered"] = now
            marks["memory"] = peak_memory_mb(pid)
        if now > 30:
            raise SystemExit(f"`flask db tui` not ready after 30 s; the screen:\n{screen}")
        terminal.wait_output(0.1)
    terminal.wait_for(lambda screen: "Revision ID:" in screen, "the revision's script", 10)
    marks["memory_settled"] = peak_memory_mb(pid)
    terminal.quit_app()
    return marks


def position(screen: str, count: int) -> int | None:
    """The cursor's row number shown under the graph (``120/10000``)."""
    found = re.search(rf" (\d+)/{count} ", screen)
    return int(found.group(1)) if found else None


def terminal_keys(
    terminal: Terminal, project: Path, count: int, presses: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds from sending a key until the pane first changes, and until it shows the new
    position under the graph, per key."""
    terminal.launch(project, tui_command("wb_app"))
    terminal.wait_for(
        lambda screen: position(screen, count) == 1 and "at head" in screen,
        "the graph and the databases",
        30,
    )
    time.sleep(0.5)
    changed: dict[str, list[float]] = {}
    moved: dict[str, list[float]] = {}
    for label, key in (("j", "j"), ("page down", "PageDown")):
        changed[label], moved[label] = [], []
        for _ in range(presses):
            before = position(terminal.screen(), count)
            drawn = terminal.screen(styles=True)
            started = time.perf_counter()
            terminal.send(key)
            terminal.wait_for(partial(str.__ne__, drawn), key, 5, styles=True)
            changed[label].append(time.perf_counter() - started)
            elsewhere = partial(
                lambda screen, start: position(screen, count) != start, start=before
            )
            terminal.wait_for(elsewhere, key, 5)
            moved[label].append(time.perf_counter() - started)
            time.sleep(SETTLE)
    terminal.quit_app()
    return changed, moved


async def pilot_keys(project: Path, presses: int, warm: int) -> dict[str, Any]:
    """Seconds from pressing a key to the end of the frame showing its effect, per key."""
    sys.path.insert(0, str(project))
    flask_app = importlib.import_module("wb_app").app
    from textual import events

    from workbench.project.flask import FlaskProject
    from workbench.tui.app import make_app

    with flask_app.app_context():
        migration_project = FlaskProject(flask_app, str(project / "migrations")).describe()
    app = make_app(
        migration_project,
        command_group="flask db",
        app_import_path="wb_app",
        project_folder=str(project),
    )
    loop = asyncio.get_running_loop()
    waiting: dict[str, Any] = {}
    original_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        original_display(screen, renderable)
        if renderable is not None and app.is_headless and hasattr(renderable, "render_segments"):
            renderable.render_segments(app.console)
        future = waiting.get("future")
        if future is not None and not future.done() and app.graph_view.cursor != waiting["from"]:
            future.set_result(time.perf_counter())

    app._display = display  # type: ignore[method-assign]
    timings: dict[str, Any] = {}
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        deadline = time.perf_counter() + 60
        while app.history is None or not app.database_panel.statuses:
            if time.perf_counter() > deadline:
                raise SystemExit("the workbench did not load the history in 60 s")
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        timings["rows"] = app.graph_view.row_count
        timings["page"] = app.graph_view.scrollable_content_region.height - 1
        for label, key in (("j", "j"), ("page down", "pagedown")):
            timings[label] = []
            for press in range(warm + presses):
                waiting["from"] = app.graph_view.cursor
                waiting["future"] = future = loop.create_future()
                event = events.Key(key, key if len(key) == 1 else None)
                event.set_sender(app)
                started = time.perf_counter()
                app._driver.send_message(event)  # what the terminal driver (and Pilot) does
                shown = await asyncio.wait_for(future, 5)
                if press >= warm:
                    timings[label].append(shown - started)
                await asyncio.sleep(SETTLE)
    return timings


def capture_times(terminal: Terminal) -> list[float]:
    """Seconds of 20 captures of the pane: the round trip within each time measured in tmux."""
    captures = []
    for _ in range(20):
        started = time.perf_counter()
        terminal.screen()
        captures.append(time.perf_counter() - started)
    return captures


def fm_heads(project: Path, python: str, runs: int) -> float:
    """Flask-Migrate's `flask db heads`, whole process: median of ``runs`` after a warm-up run.

    ``python`` is an environment's interpreter with Flask-Migrate and no workbench.
    """
    flask(project, "fm_app", "heads", python=python)
    return statistics.median(flask(project, "fm_app", "heads", python=python) for _ in range(runs))


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def line(name: str, figure: str, target: str = "", passed: bool | None = None) -> None:
    """One figure, with its target and verdict when it has one."""
    text = f"  {name:<52} {figure:>10}"
    if passed is not None:
        text += f"   target {target} {verdict(passed)}"
    print(text)


def key_lines(timings: dict[str, list[float]], with_target: bool, indent: str = "    ") -> None:
    """Median, p90 and max per key, with the verdict when ``with_target``."""
    for label in ("j", "page down"):
        values = sorted(seconds * 1000 for seconds in timings[label])
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        figures = f"median {median:5.1f} ms  p90 {p90:5.1f} ms  max {values[-1]:5.1f} ms"
        text = f"{indent}{label:<10} {len(values):3d} keys  {figures}"
        if with_target:
            text += f"   target median <= {KEY_TARGET_MS:g} ms {verdict(median <= KEY_TARGET_MS)}"
        print(text)


def scratch_environment(root: Path) -> dict[str, str]:
    """Point bytecode and the scan cache into ``root``; the environment for the tmux server."""
    os.environ["XDG_CACHE_HOME"] = str(root / "cache")
    os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["COLORTERM"] = "truecolor"
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FLASK_") and key not in ("COLUMNS", "LINES", "TMUX")
    }


def main() -> None:
    """Build the projects, time start-up, memory and keys, print figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="revisions for start-up")
    parser.add_argument("--keys-count", type=int, default=10000, help="revisions for keys")
    parser.add_argument("--generator", type=Path, default=GENERATOR, help="gen_revisions.py")
    parser.add_argument("--presses", type=int, default=60, help="timed presses per key (Pilot)")
    parser.add_argument("--terminal-presses", type=int, default=50, help="per key, in tmux")
    parser.add_argument(
        "--large", type=int, metavar="N", help="measure only a history of N revisions (50000)"
    )
    arguments = parser.parse_args()
    if arguments.large:
        main_large(arguments)
        return
    began = time.perf_counter()
    load_before = os.getloadavg()[0]

    def progress(text: str) -> None:
        print(f"[{time.perf_counter() - began:5.1f} s] {text} ...", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as scratch:
        root = Path(scratch)
        env = scratch_environment(root)
        progress(f"generating {arguments.count} and {arguments.keys_count} revisions")
        start_root, keys_root = root / "start", root / "keys"
        start_root.mkdir()
        keys_root.mkdir()
        project = make_project(start_root, arguments.count, arguments.generator)
        keys_project = make_project(keys_root, arguments.keys_count, arguments.generator)
        summary = json.loads((start_root / "generated" / "graph_summary.json").read_text())
        head = summary["head"][:12]
        progress("timing Flask-Migrate `flask db heads`")
        heads = fm_heads(project, make_flask_migrate_python(root), START_RUNS)
        terminal = Terminal(env)
        try:
            progress("timing `flask db tui` start-up in tmux")
            start_once(terminal, project, arguments.count, head)
            starts = [
                start_once(terminal, project, arguments.count, head) for _ in range(START_RUNS)
            ]
            cold = start_once(terminal, project, arguments.count, head, scan_cache=False)
            progress("timing keys in tmux")
            captures = capture_times(terminal)
            in_terminal = terminal_keys(
                terminal, keys_project, arguments.keys_count, arguments.terminal_presses
            )
        finally:
            terminal.close()
        progress("timing keys in process (Pilot)")
        warm = 5
        in_process = asyncio.run(pilot_keys(keys_project, arguments.presses, warm))
    progress("done")
    machine = f"{os.cpu_count()} CPUs, 1-minute load average {load_before:.2f} before the run"
    machine += f" and {os.getloadavg()[0]:.2f} after it"
    report(arguments, machine, heads, starts, cold, in_process, in_terminal, captures, warm)


def main_large(arguments: argparse.Namespace) -> None:
    """Start-up, memory and keys on one history of ``arguments.large`` revisions."""
    count = arguments.large
    began = time.perf_counter()
    load_before = os.getloadavg()[0]

    def progress(text: str) -> None:
        print(f"[{time.perf_counter() - began:5.1f} s] {text} ...", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as scratch:
        root = Path(scratch)
        env = scratch_environment(root)
        progress(f"generating {count} revisions")
        project = make_project(root, count, arguments.generator)
        summary = json.loads((root / "generated" / "graph_summary.json").read_text())
        head = summary["head"][:12]
        terminal = Terminal(env)
        try:
            progress("timing `flask db tui` start-up in tmux")
            start_once(terminal, project, count, head)
            starts = [start_once(terminal, project, count, head) for _ in range(START_RUNS)]
            progress("timing keys in tmux")
            captures = capture_times(terminal)
            in_terminal = terminal_keys(terminal, project, count, arguments.terminal_presses)
        finally:
            terminal.close()
        progress("timing keys in process (Pilot)")
        warm = 5
        in_process = asyncio.run(pilot_keys(project, arguments.presses, warm))
    progress("done")
    machine = f"{os.cpu_count()} CPUs, 1-minute load average {load_before:.2f} before the run"
    print(f"\nmachine: {machine} and {os.getloadavg()[0]:.2f} after it")
    print(f"\n{count} revisions: start-up in a real terminal (tmux {WIDTH}x{HEIGHT})")
    print("  " + FIRST_SCREEN.format(count=count))
    print(f"  whole processes, medians of {START_RUNS} runs after a warm-up run (bytecode written)")
    interactive = statistics.median(run["answered"] for run in starts)
    line(
        "first interactive screen (j answered)",
        f"{interactive:.3f} s",
        f"<= {LARGE_START_TARGET} s",
        interactive <= LARGE_START_TARGET,
    )
    runs = ", ".join(f"{run['answered']:.3f}" for run in starts)
    print(f"  each run: {runs} s")
    memory = statistics.median(run["memory"] for run in starts)
    line(
        "peak memory (VmHWM) at that screen (median)",
        f"{memory:.1f} MB",
        f"<= {LARGE_MEMORY_TARGET_MB:g} MB",
        memory <= LARGE_MEMORY_TARGET_MB,
    )
    settled = statistics.median(run["memory_settled"] for run in starts)
    line("once the databases and the script are shown (info)", f"{settled:.1f} MB")
    key_report(count, in_process, in_terminal, captures, warm)


def report(
    arguments: argparse.Namespace,
    machine: str,
    heads: float,
    starts: list[dict[str, float]],
    cold: dict[str, float],
    in_process: dict[str, Any],
    in_terminal: tuple[dict[str, list[float]], dict[str, list[float]]],
    captures: list[float],
    warm: int,
) -> None:
    """Print every figure with its target and verdict."""

    def median(stage: str) -> float:
        return statistics.median(run[stage] for run in starts)

    count = arguments.count
    print(f"\nmachine: {machine}")
    print(f"\n{count} revisions: start-up in a real terminal (tmux {WIDTH}x{HEIGHT})")
    print("  " + FIRST_SCREEN.format(count=count))
    print(f"  whole processes, medians of {START_RUNS} runs after a warm-up run (bytecode written)")
    line("Flask-Migrate `flask db heads`", f"{heads:.3f} s")
    line("workbench: first frame drawn (header)", f"{median('frame'):.3f} s")
    line("workbench: graph rows and footer drawn", f"{median('graph'):.3f} s")
    interactive = median("answered")
    line(
        "workbench: first interactive screen (j answered)",
        f"{interactive:.3f} s",
        f"<= {START_TARGET} s",
        interactive <= START_TARGET,
    )
    ratio = interactive / heads
    line(
        "  ratio to Flask-Migrate `flask db heads`",
        f"{ratio:.3f}",
        f"<= {START_RATIO}",
        ratio <= START_RATIO,
    )
    line("workbench: database status shown (info)", f"{median('databases'):.3f} s")
    line(
        "one run without the scan cache (WORKBENCH_SCAN_CACHE=0)",
        f"{cold['answered']:.3f} s",
    )
    runs = ", ".join(f"{run['answered']:.3f}" for run in starts)
    print(f"  first interactive screen, each run: {runs} s")

    print(f"\npeak memory of the `flask db tui` python process (VmHWM), {count} revisions")
    memory = statistics.median(run["memory"] for run in starts)
    line(
        "at the first interactive screen (median)",
        f"{memory:.1f} MB",
        f"<= {MEMORY_TARGET_MB:g} MB",
        memory <= MEMORY_TARGET_MB,
    )
    settled = statistics.median(run["memory_settled"] for run in starts)
    line("once the databases and the script are shown (info)", f"{settled:.1f} MB")

    key_report(arguments.keys_count, in_process, in_terminal, captures, warm)


def key_report(
    count: int,
    in_process: dict[str, Any],
    in_terminal: tuple[dict[str, list[float]], dict[str, list[float]]],
    captures: list[float],
    warm: int,
) -> None:
    """Print the time per key, in process (with the target) and in tmux (for reference)."""
    rows, page = in_process["rows"], in_process["page"]
    print(f"\n{count} revisions ({rows} rows): time per key")
    print(
        f"  j moves the cursor one row, from the top: the presses within the first page of {page}"
    )
    print(f"  rows move the cursor, later ones also scroll by a row; page down moves {page} rows.")
    print("  " + PILOT_MEASURE.format(width=WIDTH, height=HEIGHT, settle=SETTLE, warm=warm))
    key_lines(in_process, with_target=True)
    capture = statistics.median(captures) * 1000
    print(
        "  " + TERMINAL_MEASURE.format(width=WIDTH, height=HEIGHT, capture=capture, settle=SETTLE)
    )
    changed, moved = in_terminal
    print("    the screen first changes (the cursor row redrawn):")
    key_lines(changed, with_target=False, indent="      ")
    print("    the position under the graph shows the new row:")
    key_lines(moved, with_target=False, indent="      ")


if __name__ == "__main__":
    main()
