"""``flask db tui`` in a real terminal (tmux): the screen as a person sees it, keys, $EDITOR, quit.

Everything else drives the app headless; this is the one run through a real pseudo-terminal,
where ``App.suspend()`` works and ``$EDITOR`` takes over the screen. It runs both ways the
workbench starts: with a forked child loading the app, and in one process.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_revisions import TWO_HEADS, Rev, write_revisions
from tui_support import SQLITE_ONLY

from workbench.tui.prefork import FORK_VARIABLE

pytestmark = [
    SQLITE_ONLY,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 160, 48
DONE = "WORKBENCH-EXITED"


class Terminal:
    """One tmux server of our own (its own socket), running one command in a 160x48 window."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        """Run a tmux command on our server; its output."""
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def start(self, command: str) -> None:
        """Start the command in a detached session."""
        self.tmux("new-session", "-d", "-s", "main", "-x", str(WIDTH), "-y", str(HEIGHT), command)

    def screen(self) -> str:
        """The text on the screen now."""
        return self.tmux("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        """Type keys (tmux key names: ``j``, ``Escape``, ``q``)."""
        self.tmux("send-keys", "-t", "main", *keys)

    def wait_for(self, text: str, seconds: float = 30.0) -> str:
        """Wait until ``text`` is on the screen; the screen."""
        return self.wait_for_any(text, seconds=seconds)

    def wait_for_any(self, *texts: str, seconds: float = 30.0) -> str:
        """Wait until one of ``texts`` is on the screen; the screen."""
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if any(text in screen for text in texts):
                return screen
            assert time.monotonic() < deadline, f"none of {texts!r} appeared:\n{screen}"
            time.sleep(0.05)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A private tmux server, killed at the end of the test."""
    terminal = Terminal(f"workbench-test-{os.getpid()}-{time.monotonic_ns()}")
    try:
        yield terminal
    finally:
        subprocess.run(["tmux", "-L", terminal.socket, "kill-server"], capture_output=True)


def start_workbench(terminal: Terminal, folder: Path, environment: dict[str, str]) -> None:
    """Run ``flask db tui`` in the project folder; ``DONE`` and its exit status follow it."""
    flask = Path(sys.executable).with_name("flask")
    environment = {
        "FLASK_APP": "app",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TERM": "xterm-256color",
        **environment,
    }
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items())
    # Textual takes its size from COLUMNS/LINES when they are set (pytest sets them)
    command = f"env -u COLUMNS -u LINES {exports} {shlex.quote(str(flask))} db tui"
    terminal.start(f"cd {shlex.quote(str(folder))} && {command}; echo {DONE} $?; sleep 600")


@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "one-process"])
def test_flask_db_tui_in_a_real_terminal(make_tui_project, terminal, fork):
    tui = make_tui_project(upgrade_to="b2000000")
    editor = "sed -i s/posts/articles/g"
    start_workbench(terminal, tui.project.path, {FORK_VARIABLE: fork, "EDITOR": editor})

    terminal.wait_for("Revisions: 4, 2 heads")
    terminal.wait_for("behind 2")
    screen = terminal.wait_for("u Upgrade")
    assert "d4000000" in screen
    assert "[default] create accounts" in screen
    assert "head (tagging) create tags" in screen
    assert "Databases" in screen

    terminal.keys("j")
    terminal.wait_for("Revision c3000000")
    terminal.keys("e")  # $EDITOR (sed here) runs in the suspended terminal
    terminal.wait_for("create articles")
    assert "create_table('articles'" in tui.paths["c3000000"].read_text()

    terminal.keys("q")
    screen = terminal.wait_for(DONE)
    assert f"{DONE} 0" in screen
    assert "Traceback" not in screen


def test_the_workbench_shows_the_migrations_folder_the_app_names(make_project, terminal):
    """The forked start-up scans ``migrations`` while the app loads; this app migrates another."""
    project = make_project(migrate_kwargs={"directory": "schema"})
    project.db("init", in_process=True)
    write_revisions(project.migrations / "versions", list(TWO_HEADS))
    decoy = project.path / "migrations"
    (decoy / "versions").mkdir(parents=True)
    shutil.copy(project.migrations / "alembic.ini", decoy / "alembic.ini")
    write_revisions(decoy / "versions", [Rev("e5000000", None, "not this app's history")])
    start_workbench(terminal, project.path, {FORK_VARIABLE: "1"})

    screen = terminal.wait_for_any("Revisions: 4, 2 heads", "Revisions: 1, 1 head")
    assert "Revisions: 4, 2 heads" in screen
    assert "e5000000" not in screen

    terminal.keys("q")
    assert f"{DONE} 0" in terminal.wait_for(DONE)


def test_editing_in_editor_says_whether_the_file_changed(make_tui_project, terminal):
    tui = make_tui_project(upgrade_to="b2000000")
    editor = "sed -i s/posts/articles/g"
    start_workbench(terminal, tui.project.path, {FORK_VARIABLE: "0", "EDITOR": editor})
    terminal.wait_for("u Upgrade")
    terminal.keys("j")
    terminal.wait_for("Revision c3000000")
    shown = "migrations/versions/" + tui.paths["c3000000"].name

    terminal.keys("e")  # sed renames the table: the file changed
    screen = terminal.wait_for("changed, re-read:")
    assert shown in screen
    terminal.wait_for("create articles")
    terminal.keys("x", "e")  # nothing left to rename: unchanged
    assert shown in terminal.wait_for("unchanged:")

    terminal.keys("q")
    assert f"{DONE} 0" in terminal.wait_for(DONE)
