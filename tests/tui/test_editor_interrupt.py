"""``e`` in a real terminal (tmux): Ctrl+C ends only the editor; no editor set, the built-in one.

Headless, ``App.suspend()`` is impossible and ``e`` always falls back to the built-in editor, so
both behaviours are checked where the external editor really runs: in a pseudo-terminal, where
Ctrl+C is a signal to the whole foreground process group.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_terminal import DONE, Terminal
from textual.widgets import TextArea
from tui_support import SIZE, SQLITE_ONLY, screen_text, settle

from workbench.tui.prefork import FORK_VARIABLE
from workbench.tui.screens.editor import EditorScreen

NO_EDITOR_TEXT = "editing "
"""What the built-in editor's title starts with."""


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A private tmux server, killed at the end of the test."""
    terminal = Terminal(f"workbench-editor-{os.getpid()}-{time.monotonic_ns()}")
    try:
        yield terminal
    finally:
        terminal.tmux("kill-server")


def start(terminal: Terminal, folder: Path, environment: dict[str, str]) -> None:
    """Run ``flask db tui`` with no editor variable but those given; ``DONE`` follows it."""
    flask = Path(sys.executable).with_name("flask")
    environment = {"FLASK_APP": "app", "TERM": "xterm-256color", **environment}
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items())
    unset = "-u COLUMNS -u LINES -u EDITOR -u VISUAL"
    command = f"env {unset} {exports} {shlex.quote(str(flask))} db tui"
    terminal.start(f"cd {shlex.quote(str(folder))} && {command}; echo {DONE} $?; sleep 600")


def script(path: Path, text: str) -> Path:
    """An executable shell script."""
    path.write_text(f"#!/bin/sh\n{text}\n")
    path.chmod(0o755)
    return path


def wait_for_file(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@SQLITE_ONLY
@needs_tmux
@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "one-process"])
def test_ctrl_c_in_the_editor_ends_the_editor_not_the_workbench(
    make_tui_project, terminal, tmp_path, fork
):
    tui = make_tui_project()
    started = tmp_path / "editor-started"
    editor = script(tmp_path / "slow-editor", f"touch {shlex.quote(str(started))}\nexec sleep 600")
    start(terminal, tui.project.path, {FORK_VARIABLE: fork, "EDITOR": str(editor)})
    terminal.wait_for("Revisions: 4, 2 heads")
    terminal.keys("j")
    terminal.wait_for("Revision c3000000")

    terminal.keys("e")
    wait_for_file(started)
    terminal.keys("C-c")

    screen = terminal.wait_for_any("was interrupted", DONE)
    assert DONE not in screen
    assert "slow-editor' was interrupted (Ctrl+C)" in screen
    assert "Revisions: 4, 2 heads" in screen
    terminal.keys("j")
    terminal.wait_for("Revision b2000000")
    terminal.keys("q")
    assert f"{DONE} 0" in terminal.wait_for(DONE)


@SQLITE_ONLY
@needs_tmux
def test_with_no_editor_set_e_opens_the_built_in_editor(make_tui_project, terminal, tmp_path):
    """The system's default editors (on PATH here as scripts that leave a mark) are not used."""
    tui = make_tui_project()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    ran = tmp_path / "system-editor-ran"
    for name in ("sensible-editor", "editor", "nano", "vim", "vi"):
        script(fake_bin / name, f"touch {shlex.quote(str(ran))}")
    path = f"{fake_bin}{os.pathsep}{os.environ['PATH']}"
    start(terminal, tui.project.path, {FORK_VARIABLE: "0", "PATH": path})
    terminal.wait_for("Revisions: 4, 2 heads")
    terminal.keys("j")
    terminal.wait_for("Revision c3000000")

    terminal.keys("e")
    screen = terminal.wait_for(f"{NO_EDITOR_TEXT}{tui.paths['c3000000']}")
    assert "create_table('posts'" in screen
    assert not ran.exists()
    terminal.keys("Escape")
    terminal.wait_for("Revisions: 4, 2 heads")
    terminal.keys("q")
    assert f"{DONE} 0" in terminal.wait_for(DONE)


@SQLITE_ONLY
async def test_with_no_editor_set_e_opens_the_built_in_editor_headless(
    make_tui_project, monkeypatch
):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    tui = make_tui_project()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.graph_view.select_revision("c3000000")
        await pilot.press("e")

        assert isinstance(app.screen, EditorScreen)
        assert f"{NO_EDITOR_TEXT}{tui.paths['c3000000']}" in screen_text(app)
        assert "create_table('posts'" in app.screen.query_one(TextArea).text
