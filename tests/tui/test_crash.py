"""A crash of the workbench is one ``Error:`` line, a log file with the traceback and exit 1.

Textual catches what escapes the app, prints a long traceback and returns normally, so a crash
used to end ``flask db tui`` with status 0. Each case runs the real ``flask db tui`` in a
subprocess, with one part of the app broken on purpose before the command starts; one case
starts the workbench with a forked child loading the app, the other in one process.
"""

from __future__ import annotations

import re
from pathlib import Path

from tui_support import SQLITE_ONLY

from workbench.tui.prefork import FORK_VARIABLE

FLASK_DB_TUI = """\
import sys

from flask.cli import main

from workbench.tui.app import WorkbenchApp

{breakage}
sys.argv = ["flask", "db", "tui"]
main()
"""

UNREADABLE_STYLESHEET = 'WorkbenchApp.CSS_PATH = "/nonexistent/workbench.tcss"'

BROKEN_COMPOSITION = """\
def compose(self):
    raise RuntimeError("the screen cannot be composed\\nsecond line")


WorkbenchApp.compose = compose
"""

# What Textual's driver writes to stderr to take over the terminal and hand it back (and the bell
# it rings on a crash).
TERMINAL_CONTROL = re.compile(r"\x07|\x1b(\[[0-9;?<>=$]*[A-Za-z~]|\][^\x07\x1b]*(\x07|\x1b\\))")
CRASH_LINE = re.compile(r"Error: the workbench crashed: (?P<what>.+) \(traceback in (?P<log>\S+)\)")


def run_broken_workbench(project, breakage: str, fork: str, tmp_path: Path):
    """Run ``flask db tui`` with ``breakage`` applied; the result and the crash log's text."""
    logs = tmp_path / "logs"
    logs.mkdir()
    result = project.python(
        FLASK_DB_TUI.format(breakage=breakage),
        env={FORK_VARIABLE: fork, "TMPDIR": str(logs)},
        expect=None,
    )
    return result, logs


def error_lines(result) -> list[str]:
    """The lines of stderr a person reads, without the terminal's control sequences."""
    return TERMINAL_CONTROL.sub("", result.stderr).splitlines()


@SQLITE_ONLY
def test_a_stylesheet_that_cannot_be_read_is_one_line_and_a_log(make_tui_project, tmp_path):
    project = make_tui_project().project

    result, logs = run_broken_workbench(project, UNREADABLE_STYLESHEET, "1", tmp_path)

    assert result.returncode == 1, result.stderr
    (line,) = error_lines(result)
    crash = CRASH_LINE.fullmatch(line)
    assert crash, repr(line)
    assert crash["what"].startswith("StylesheetError: unable to read CSS file")
    assert "/nonexistent/workbench.tcss" in crash["what"]
    log = Path(crash["log"])
    assert log.parent == logs
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "StylesheetError" in text
    assert "flask db tui" not in result.stdout


@SQLITE_ONLY
def test_a_screen_that_raises_is_one_line_and_a_log(make_tui_project, tmp_path):
    project = make_tui_project().project

    result, logs = run_broken_workbench(project, BROKEN_COMPOSITION, "0", tmp_path)

    assert result.returncode == 1, result.stderr
    (line,) = error_lines(result)
    crash = CRASH_LINE.fullmatch(line)
    assert crash, repr(line)
    assert crash["what"] == "RuntimeError: the screen cannot be composed"
    text = Path(crash["log"]).read_text()
    assert "line 8, in compose" in text
    assert "RuntimeError: the screen cannot be composed\nsecond line" in text
    assert [path.name for path in logs.iterdir()] == [Path(crash["log"]).name]
