"""``python -m workbench demo`` without ``--no-open``: the workbench opens on the new project.

Runs in a real pseudo-terminal, reads the screen, and quits with a key as a user would.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from workbench.demo.sources import revision_id

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")
SCREEN_TIMEOUT_SECONDS = 60


def read_until(fd: int, process: subprocess.Popen[bytes], *wanted: str) -> str:
    """Read the terminal until its text (escape sequences removed) contains every ``wanted``."""
    received, text = b"", ""
    deadline = time.monotonic() + SCREEN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                received += os.read(fd, 65536)
            except OSError:
                break
        text = ESCAPE_SEQUENCE.sub("", received.decode("utf-8", "replace"))
        if all(piece in text for piece in wanted):
            return text
        if process.poll() is not None and not ready:
            break
    raise AssertionError(f"{wanted} never all appeared on the screen; it showed:\n{text[-3000:]}")


def drain_until_exit(fd: int, process: subprocess.Popen[bytes]) -> int | None:
    """Keep reading the terminal (a full one blocks the app) until the process ends."""
    deadline = time.monotonic() + SCREEN_TIMEOUT_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                time.sleep(0.1)
    return process.poll()


def test_the_demo_opens_the_workbench_and_quits_cleanly(tmp_path: Path) -> None:
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("FLASK_")
    }
    environment.update(TERM="xterm-256color", COLUMNS="160", LINES="50")
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "demo", "shop"],
        cwd=tmp_path,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=environment,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        read_until(
            controller,
            process,
            f"Created the demo project in {tmp_path / 'shop'}",
            revision_id("support_tickets"),
            revision_id("invoice_due_index"),
        )
        os.write(controller, b"q")
        assert drain_until_exit(controller, process) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert (tmp_path / "shop" / "migrations" / "env.py").is_file()
