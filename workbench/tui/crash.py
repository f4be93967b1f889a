"""Running the Textual app so that a crash is a one-line error and a log file, never exit 0.

Textual catches an exception escaping the app (a stylesheet it cannot read, a widget that
raises), prints a long traceback with local variables after leaving the screen, and returns
normally, so ``flask db tui`` exited 0 after a crash. Here the traceback goes to a log file,
without local variables and with passwords masked, and the caller gets one ``WorkbenchError``.
"""

from __future__ import annotations

import io
import platform
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import datetime, timezone

from rich.console import Console
from textual.app import App

from workbench.core.secrets import mask_passwords
from workbench.errors import WorkbenchError
from workbench.version import __version__

LOG_PREFIX = "workbench-crash-"


def run_app(build: Callable[[], App[object]]) -> None:
    """Build the app and run it; raise ``WorkbenchError`` naming the log file if it crashed.

    Textual's own report of a crash is kept off the terminal; anything else it prints on
    leaving (none of the workbench's exits do) still reaches stderr.
    """
    captured = io.StringIO()
    crash: BaseException | None = None
    app: App[object] | None = None
    try:
        app = build()
        app.error_console = Console(file=captured, width=120, color_system=None)
        app.run()
        # Textual keeps the first exception that escaped the app, and returns from run().
        crash = getattr(app, "_exception", None)
    except Exception as exc:
        crash = exc
    status = app.return_code if app is not None else None
    if crash is None and not status:
        sys.stderr.write(captured.getvalue())
        return
    try:
        where = f"traceback in {write_log(crash, captured.getvalue())}"
    except OSError as exc:
        where = f"no log: cannot write one in {tempfile.gettempdir()}: {exc.strerror or exc}"
    raise WorkbenchError(f"{crash_reason(crash, status)} ({where})")


def crash_reason(crash: BaseException | None, status: int | None) -> str:
    """The one line that says the workbench crashed, and with what."""
    if crash is None:
        return f"the workbench stopped with exit status {status}"
    lines = str(crash).strip().splitlines()
    detail = f": {mask_passwords(lines[0])}" if lines else ""
    return f"the workbench crashed: {type(crash).__name__}{detail}"


def write_log(crash: BaseException | None, textual_report: str) -> str:
    """Write the crash's traceback (passwords masked) to a new file in the temporary folder.

    The plain traceback, without Textual's local variables, is what the log holds; Textual's
    report is kept only when there is no exception to format.
    """
    if crash is not None:
        report = "".join(traceback.format_exception(type(crash), crash, crash.__traceback__))
    else:
        report = textual_report or "Textual reported no exception.\n"
    header = (
        f"Migration Workbench {__version__} crashed at "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}\n"
        f"Python {platform.python_version()} on {platform.platform()}\n"
        f"Command: {' '.join(sys.argv)}\n\n"
    )
    with tempfile.NamedTemporaryFile(
        "w", prefix=LOG_PREFIX, suffix=".log", delete=False, encoding="utf-8"
    ) as log:
        log.write(mask_passwords(header + report))
    return log.name
