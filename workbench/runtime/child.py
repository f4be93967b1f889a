"""The child process's loop: read one request, run it through a handler, report JSON lines.

The entry module (``python -m workbench.services.worker``, run in the project folder with the
request as JSON on stdin) gives ``main`` a ``Host``: the handlers and the app live above this
package. Everything env.py, the app or a driver writes to stdout or stderr and every logging
record becomes an event, so nothing but events reaches the real stdout, and every text passes
through the password mask.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol

from workbench.core.secrets import mask_passwords
from workbench.errors import WorkbenchError, describe_failure
from workbench.runtime.events import (
    Cancelled,
    Ending,
    Event,
    Failed,
    Finished,
    Log,
    Output,
    Standing,
    Started,
)
from workbench.runtime.requests import Request
from workbench.runtime.wire import decode_request, encode_event

EXIT_STATUS = {Finished: 0, Failed: 1, Cancelled: 130}
_PUMP_JOIN_SECONDS = 2.0
_DRAIN_MARKER = b"\x00workbench: drained\x00\n"

Emit = Callable[[Event], None]
Handler = Callable[[Any, Emit], Mapping[str, Any]]
"""Runs one request (of the type it is registered for), emitting events; the result's fields."""


class Host(Protocol):
    """What the level above gives the child: the handlers, and the app they run in."""

    handlers: Mapping[type[Request], Handler]

    def load_app(self, app_import_path: str | None) -> Any:
        """Load the app; raise ``WorkbenchError`` saying why it cannot be loaded."""

    def app_context(self, app: Any) -> AbstractContextManager[Any]:
        """The context the handlers run in."""

    def passwords(self) -> Sequence[str]:
        """The app's database passwords, to mask in every event (inside the context)."""

    def standing(self, app: Any, directory: str | None) -> list[Standing]:
        """Where each migrated database stands now, or [] when that cannot be read."""


class EventWriter:
    """Writes events, one JSON object per line, to a private copy of the original stdout.

    Each line is flushed at once so the workbench sees a step the moment it happens; a lock
    keeps lines whole when the output pumps and the migration write at the same time.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream: BinaryIO | None = stream
        self._lock = threading.Lock()
        self.secrets: Sequence[str] = []

    def emit(self, event: Event) -> None:
        """Write one event, every string in it with passwords masked.

        When the workbench has gone away the events are dropped: a migration the user
        started runs to its end rather than failing half-way for want of a reader.
        """
        line = json.dumps(self._masked(encode_event(event)), default=str) + "\n"
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
        self._drained: dict[str, threading.Event] = {
            "stdout": threading.Event(),
            "stderr": threading.Event(),
        }

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

    def drain(self) -> None:
        """Wait until what was written to fd 1 and 2 so far has become events.

        A marker line goes through each pipe; its pump sees it after every earlier line.
        """
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for seen in self._drained.values():
            seen.clear()
        for descriptor in (1, 2):
            os.write(descriptor, _DRAIN_MARKER)
        for seen in self._drained.values():
            seen.wait(_PUMP_JOIN_SECONDS)

    def _pump(self, read_end: int, name: str) -> None:
        """Emit each line read from one pipe until every writer has closed it."""
        seen = self._drained.setdefault(name, threading.Event())
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if line == _DRAIN_MARKER:
                    seen.set()
                    continue
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                self._events.emit(Output(name, text))


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
            self._events.emit(Log(record.levelname, record.name, message))
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


class LoadedApp:
    """The app a long-lived child loaded for its first request, its context kept entered."""

    def __init__(self, host: Host, stack: contextlib.ExitStack) -> None:
        self._host = host
        self._stack = stack
        self.app: Any = None

    def enter(self, app_import_path: str | None) -> Any:
        """The app, loaded and its context entered on first use; a failure is tried again."""
        if self.app is None:
            app = self._host.load_app(app_import_path)
            gc.freeze()  # the app's objects live until the child ends: not walked again
            self._stack.enter_context(self._host.app_context(app))
            self.app = app
        return self.app


def run_request(
    events: EventWriter,
    payload: Mapping[str, Any],
    host: Host,
    loaded: LoadedApp | None = None,
) -> Ending:
    """Load the app (or take the one ``loaded`` keeps) and run the request; the final event."""
    app = None
    request: Request | None = None
    with contextlib.ExitStack() as stack:
        try:
            try:
                request = decode_request(payload)
            except ValueError as exc:
                raise WorkbenchError(str(exc)) from exc
            events.emit(Started(request, os.getpid()))
            handler = host.handlers.get(type(request))
            if handler is None:
                raise WorkbenchError(f"no handler for the operation {request.operation!r}")
            if loaded is not None:
                app = loaded.enter(payload.get("app_import_path"))
            else:
                app = host.load_app(payload.get("app_import_path"))
                gc.freeze()  # the app's objects live until the child ends: not walked again
                stack.enter_context(host.app_context(app))
            events.secrets = host.passwords()
            return Finished(handler(request, events.emit))
        except KeyboardInterrupt:
            directory = request.directory if request is not None else None
            return Cancelled("cancelled", tuple(host.standing(app, directory)))
        except BaseException as exc:
            directory = request.directory if request is not None else None
            return Failed(
                _one_line(exc),
                _traceback(exc),
                tuple(host.standing(app, directory)),
            )


def _traceback(exc: BaseException) -> str:
    """A failure's traceback for the log: none for a ``WorkbenchError``, whose one line says it
    all (a failing migration's file and line included); an unexpected error's in full."""
    if isinstance(exc, WorkbenchError):
        return ""
    return "".join(traceback.format_exception(exc))


def _one_line(exc: BaseException) -> str:
    """The one-line message of a failure, as the ``flask db`` commands word it."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the migration exited with status {exc.code}"
    return describe_failure(exc)


def main(host: Host) -> int:
    """Run the request read from stdin; the exit status says how it ended.

    SIGINT is the workbench's cancel, so it raises KeyboardInterrupt here even when this
    process inherited it ignored (a background job, ``nohup``).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    events = EventWriter(os.fdopen(os.dup(1), "wb"))
    output = CapturedOutput(events)
    output.start()
    route_logging(EventLogHandler(events))
    try:
        payload = json.loads(sys.stdin.buffer.read())
    except ValueError as exc:
        final: Ending = Failed(f"invalid operation: {exc}")
    else:
        final = run_request(events, payload, host)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late cancel must not lose the final event
    output.stop()
    events.emit(final)
    return EXIT_STATUS[type(final)]


def serve(host: Host) -> int:
    """Serve requests, one JSON line each on stdin, until stdin ends (a long-lived child).

    The app is loaded once, for the first request, and its context stays entered; each
    request's events end with its own final event, after everything it printed. SIGINT
    cancels the request running (never the child).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    events = EventWriter(os.fdopen(os.dup(1), "wb"))
    output = CapturedOutput(events)
    output.start()
    route_logging(EventLogHandler(events))
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the app and env.py read nothing of the requests
    os.close(devnull)
    with contextlib.ExitStack() as stack:
        loaded = LoadedApp(host, stack)
        while True:
            try:
                line = requests.readline()
            except KeyboardInterrupt:
                continue  # a cancel that came after its request ended
            if not line:
                break
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
            except ValueError as exc:
                final: Ending = Failed(f"invalid operation: {exc}")
            else:
                final = run_request(events, payload, host, loaded)
            with contextlib.suppress(KeyboardInterrupt):
                output.drain()
            events.emit(final)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    output.stop()
    return 0
