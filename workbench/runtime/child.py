"""The child process that runs one env.py-driven operation and reports it as JSON lines.

Run as ``python -m workbench.runtime.child`` in the project folder, with the operation as JSON on
stdin (see ``workbench.runtime.client``, which also documents the events). Everything env.py,
the app or a driver writes to stdout or stderr and every logging record becomes an event, so
nothing but events reaches the real stdout, and every text passes through the password mask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import logging.config
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from workbench.core.databases import read_versions
from workbench.core.secrets import mask_passwords, mask_url
from workbench.core.verify import CheckResult
from workbench.errors import WorkbenchError, describe_failure
from workbench.project import load_project
from workbench.services import commands, scratch_sql
from workbench.services import review as reviewing
from workbench.services import verify as verifying

EXIT_STATUS = {"finished": 0, "failed": 1, "cancelled": 130}
_PUMP_JOIN_SECONDS = 2.0

Outcome = tuple[str, dict[str, Any]]


class EventWriter:
    """Writes events, one JSON object per line, to a private copy of the original stdout.

    Each line is flushed at once so the workbench sees a step the moment it happens; a lock
    keeps lines whole when the output pumps and the migration write at the same time.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream: BinaryIO | None = stream
        self._lock = threading.Lock()
        self.secrets: list[str] = []

    def emit(self, kind: str, /, **fields: Any) -> None:
        """Write one event, every string in it with passwords masked.

        When the workbench has gone away the events are dropped: a migration the user
        started runs to its end rather than failing half-way for want of a reader.
        """
        line = json.dumps(self._masked({"event": kind, **fields}), default=str) + "\n"
        with self._lock:
            if self._stream is None:
                return
            try:
                self._stream.write(line.encode("utf-8"))
                self._stream.flush()
            except OSError:
                self._stream = None

    def _masked(self, value: Any) -> Any:
        """The value with every string in it passed through the password mask."""
        if isinstance(value, str):
            return mask_passwords(value, self.secrets)
        if isinstance(value, dict):
            return {key: self._masked(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._masked(item) for item in value]
        return value


class CapturedOutput:
    """Turns whatever is written to file descriptors 1 and 2 into ``output`` events.

    Redirecting the descriptors, not only ``sys.stdout``, also catches C extensions,
    subprocesses and code that kept a reference to the original streams.
    """

    def __init__(self, events: EventWriter) -> None:
        self._events = events
        self._pumps: list[threading.Thread] = []

    def start(self) -> None:
        """Point fd 1 and 2 at pipes read by one thread each."""
        for descriptor, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, descriptor)
            os.close(write_end)
            pump = threading.Thread(target=self._pump, args=(read_end, name), daemon=True)
            pump.start()
            self._pumps.append(pump)
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    def stop(self) -> None:
        """Flush, close the pipes' write ends and wait for the last lines to become events."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        for descriptor in (1, 2):
            os.dup2(devnull, descriptor)
        os.close(devnull)
        for pump in self._pumps:
            pump.join(_PUMP_JOIN_SECONDS)

    def _pump(self, read_end: int, name: str) -> None:
        """Emit each line read from one pipe until every writer has closed it."""
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                self._events.emit("output", stream=name, text=text)


class EventLogHandler(logging.Handler):
    """Sends logging records as ``log`` events."""

    def __init__(self, events: EventWriter) -> None:
        super().__init__()
        self._events = events

    def emit(self, record: logging.LogRecord) -> None:
        """Emit one record: level, logger name and message (with its exception, if any)."""
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            self._events.emit("log", level=record.levelname, logger=record.name, message=message)
        except Exception:
            self.handleError(record)


def route_logging(handler: logging.Handler) -> None:
    """Put the event handler wherever a console handler would write, now and after fileConfig.

    env.py calls ``fileConfig(alembic.ini)``, which replaces the root logger's handlers with
    one writing to stderr; that handler is swapped for ours each time.
    """
    original_file_config = logging.config.fileConfig

    @functools.wraps(original_file_config)
    def file_config_then_route(*args: Any, **kwargs: Any) -> None:
        original_file_config(*args, **kwargs)
        _replace_console_handlers(handler)

    logging.config.fileConfig = file_config_then_route
    _replace_console_handlers(handler)


def _replace_console_handlers(handler: logging.Handler) -> None:
    """Swap handlers writing to stdout/stderr for ``handler``; the root logger always has it."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        console = [each for each in logger.handlers if _writes_to_console(each)]
        for each in console:
            logger.removeHandler(each)
        wanted = console or logger is logging.getLogger()
        if wanted and handler not in logger.handlers:
            logger.addHandler(handler)


def _writes_to_console(handler: logging.Handler) -> bool:
    """True for a stream handler on stdout or stderr (not a file)."""
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and handler.stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    )


def load_app(app_import_path: str | None) -> Any:
    """Load the Flask app as the ``flask`` command does: --app path, FLASK_APP, wsgi.py/app.py."""
    from flask.cli import NoAppException, ScriptInfo

    info = ScriptInfo(app_import_path=app_import_path or os.environ.get("FLASK_APP") or None)
    try:
        return info.load_app()
    except NoAppException as exc:
        raise WorkbenchError(exc.format_message()) from exc


def _step_fields(step: commands.MigrationStep) -> dict[str, Any]:
    """A step as event fields."""
    return {
        "kind": step.kind,
        "revision": step.revision,
        "database": step.database or "default",
        "source_revisions": list(step.source_revisions),
        "destination_revisions": list(step.destination_revisions),
    }


def _script_fields(script: Any) -> dict[str, Any]:
    """A revision file written, as event fields."""
    return {
        "revision": script.revision,
        "path": os.path.abspath(script.path),
        "message": script.doc,
    }


def _migration(name: str) -> Callable[[EventWriter, dict[str, Any]], dict[str, Any]]:
    """The runner of upgrade, downgrade or stamp: each step is an event as it happens."""

    def run(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
        def on_step(progress: commands.StepProgress) -> None:
            events.emit(
                "step",
                phase="done" if progress.done else "started",
                number=progress.number,
                total=progress.total,
                **_step_fields(progress.step),
            )

        steps = getattr(commands, name)(**arguments, on_step=on_step)
        return {"steps": [_step_fields(step) for step in steps]}

    return run


def _revision(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """Write a revision (empty or autogenerated); none when autogenerate finds no change."""
    return {"scripts": [_script_fields(script) for script in commands.revision(**arguments)]}


def _merge(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """Write a merge revision."""
    return {"scripts": [_script_fields(commands.merge(**arguments))]}


def _sql(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """The SQL of a revision range's upgrade, sent as one ``output`` event of stream "sql"."""
    events.emit("output", stream="sql", text=scratch_sql.upgrade_sql(**arguments))
    return {}


def _preview(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """Preview the pending model change: the script, its SQL and findings; nothing written."""
    return {"preview": reviewing.preview(**arguments).to_dict()}


def _review(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """Review a revision file (``revision``) or a script's text (``script``), recorded offline."""
    review = reviewing.review_script if "script" in arguments else reviewing.review_revision
    return {"preview": review(**arguments).to_dict()}


def _verify(events: EventWriter, arguments: dict[str, Any]) -> dict[str, Any]:
    """Verify the history on scratch databases; each check is an event as it ends."""

    def on_check(check: CheckResult) -> None:
        events.emit("check", check=dataclasses.asdict(check))

    return {"verify": verifying.verify(**arguments, on_check=on_check).to_dict()}


OPERATIONS: dict[str, Callable[[EventWriter, dict[str, Any]], dict[str, Any]]] = {
    "upgrade": _migration("upgrade"),
    "downgrade": _migration("downgrade"),
    "stamp": _migration("stamp"),
    "revision": _revision,
    "merge": _merge,
    "sql": _sql,
    "preview": _preview,
    "review": _review,
    "verify": _verify,
}


def run_request(events: EventWriter, request: dict[str, Any]) -> Outcome:
    """Load the app, run the operation in its context; the final event's kind and fields."""
    app = None
    arguments = dict(request.get("arguments") or {})
    with contextlib.ExitStack() as stack:
        try:
            command = request["command"]
            events.emit(
                "started", operation={"command": command, "arguments": arguments}, pid=os.getpid()
            )
            if command not in OPERATIONS:
                raise WorkbenchError(f"unknown operation {command!r}")
            app = load_app(request.get("app_import_path"))
            gc.freeze()  # the app's objects live until the child ends: not walked again
            stack.enter_context(app.app_context())
            events.secrets = commands.known_passwords()
            return "finished", {"result": OPERATIONS[command](events, arguments)}
        except KeyboardInterrupt:
            databases = _where_databases_stand(app, arguments.get("directory"))
            return "cancelled", {"message": "cancelled", "databases": databases}
        except BaseException as exc:
            return "failed", {
                "message": _one_line(exc),
                "traceback": "".join(traceback.format_exception(exc)),
                "databases": _where_databases_stand(app, arguments.get("directory")),
            }


def _one_line(exc: BaseException) -> str:
    """The one-line message of a failure, as the ``flask db`` commands word it."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the migration exited with status {exc.code}"
    return describe_failure(exc)


def _where_databases_stand(app: Any, directory: str | None) -> list[dict[str, Any]]:
    """Each migrated database's version rows as read now, or why they cannot be read."""
    if app is None:
        return []
    try:
        targets = [t for t in load_project(app, directory).targets if not t.read_only]
    except Exception:
        return []
    return [
        {
            "name": reading.target.name,
            "url": mask_url(reading.target.url),
            "revisions": list(reading.revisions),
            "error": reading.error,
        }
        for reading in read_versions(targets)
    ]


def main() -> int:
    """Run the operation read from stdin; the exit status says how it ended.

    SIGINT is the workbench's cancel, so it raises KeyboardInterrupt here even when this
    process inherited it ignored (a background job, ``nohup``).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    events = EventWriter(os.fdopen(os.dup(1), "wb"))
    output = CapturedOutput(events)
    output.start()
    route_logging(EventLogHandler(events))
    try:
        request = json.loads(sys.stdin.buffer.read())
    except ValueError as exc:
        kind = "failed"
        fields = {"message": f"invalid operation: {exc}", "traceback": "", "databases": []}
    else:
        kind, fields = run_request(events, request)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late cancel must not lose the final event
    output.stop()
    events.emit(kind, **fields)
    return EXIT_STATUS[kind]


if __name__ == "__main__":
    sys.exit(main())
