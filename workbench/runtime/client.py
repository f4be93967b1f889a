"""Starts an operation in a child process and streams its events back as they come.

Alembic's ``context`` and ``op`` are process-global, env.py configures logging and prints, and
a failing migration must not take the workbench down, so each operation runs in a child
(``python -m workbench.services.worker``) that reports one event per line; the request and
event classes (``workbench.runtime.requests``, ``workbench.runtime.events``) say what travels.
``start(request, launch)`` is the one way to start one, ``RunningOperation.wait`` the one way
to wait for its end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.secrets import mask_passwords
from workbench.runtime.events import Cancelled, Ending, Event, Failed, Output
from workbench.runtime.requests import Request
from workbench.runtime.wire import decode_event, encode_request

WORKER_MODULE = "workbench.services.worker"
"""The module a child runs: it knows the operations' handlers, which live above this package."""
DEFAULT_GRACE_SECONDS = 5.0
_STDERR_KEPT = 20_000
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class RunningOperation:
    """A child process running one operation: read its events, cancel it, see how it ended.

    ``events()`` is meant for one consumer (a worker thread); ``cancel()`` may be called from
    any other thread meanwhile.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._lock = threading.Lock()
        self._cancel_requested = False
        self._stderr: list[bytes] = []
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    @property
    def returncode(self) -> int | None:
        """The child's exit status once it has ended (negative: killed by that signal)."""
        return self._process.poll()

    def events(self) -> Iterator[Event]:
        """The child's events as they arrive; always ends with an ``Ending`` (and only once).

        A line that is not an event becomes an ``Output`` of stream "child"; a child that ends
        without a final event yields ``Cancelled`` (when cancelled) or ``Failed`` saying how.
        """
        final: Ending | None = None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            event = parse_event(line)
            if event is None:
                continue
            if isinstance(event, Ending):
                final = event
            yield event
        returncode = self._process.wait()
        self._stderr_reader.join()
        if final is None:
            yield self._ending_without_result(returncode)

    def wait(self, on_event: Callable[[Event], None] | None = None) -> Ending:
        """Read the events to the end and return the last one (blocking: worker threads only).

        ``on_event`` hears of every event as it arrives, the last one included.
        """
        final: Ending | None = None
        for event in self.events():
            if on_event is not None:
                on_event(event)
            if isinstance(event, Ending):
                final = event
        assert final is not None, "events() always ends with an Ending"
        return final

    def cancel(self, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        """Stop the child: SIGINT (Alembic's transaction rolls back), then SIGTERM, then SIGKILL.

        Returns at once; each escalation waits ``grace_seconds`` for the child to end.
        """
        with self._lock:
            if self._cancel_requested or self._process.poll() is not None:
                return
            self._cancel_requested = True
        self._process.send_signal(signal.SIGINT)
        threading.Thread(target=self._escalate, args=(grace_seconds,), daemon=True).start()

    def _escalate(self, grace_seconds: float) -> None:
        """Terminate, then kill, a child that outlives the grace period."""
        for stop in (self._process.terminate, self._process.kill):
            try:
                self._process.wait(grace_seconds)
                return
            except subprocess.TimeoutExpired:
                stop()

    def _drain_stderr(self) -> None:
        """Keep the end of what the child wrote to its real stderr (before it captured fd 2)."""
        assert self._process.stderr is not None
        for chunk in self._process.stderr:
            self._stderr.append(chunk)
            while len(self._stderr) > 1 and sum(map(len, self._stderr)) > _STDERR_KEPT:
                self._stderr.pop(0)

    def _ending_without_result(self, returncode: int) -> Ending:
        """The final event for a child that ended without writing one."""
        if returncode < 0:
            how = f"was stopped by {signal.Signals(-returncode).name}"
        else:
            how = f"exited with status {returncode}"
        if self._cancel_requested:
            return Cancelled(f"cancelled: the child {how}")
        stderr = b"".join(self._stderr).decode("utf-8", "replace")
        return Failed(
            f"the migration process {how} without reporting a result", mask_passwords(stderr)
        )


@dataclass(frozen=True)
class Launch:
    """How to start a child for a project: its folder, the app's import path, the environment.

    The app is loaded as ``flask`` loads it: from ``app_import_path`` (``--app``), else
    ``FLASK_APP``, else ``wsgi.py``/``app.py``; ``env`` replaces the inherited environment.
    ``directory`` is the migrations folder the requests name, when the caller tracks one.
    """

    project_dir: str | os.PathLike[str]
    app_import_path: str | None = None
    env: Mapping[str, str] | None = field(default=None, repr=False)
    directory: str | None = None


def child_environment(launch: Launch) -> dict[str, str]:
    """The environment of a child: the launch's (or ours), with this package importable."""
    environment = dict(os.environ if launch.env is None else launch.env)
    python_path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = (
        f"{python_path}{os.pathsep}{_PACKAGE_PARENT}" if python_path else _PACKAGE_PARENT
    )
    return environment


def request_payload(request: Request, launch: Launch) -> dict[str, Any]:
    """What a child reads for one request: the request, and how to load the app."""
    return {**encode_request(request), "app_import_path": launch.app_import_path}


def start(request: Request, launch: Launch) -> RunningOperation:
    """Start a child process in the project folder to run one request; it runs on its own."""
    payload = request_payload(request, launch)
    process = subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        cwd=launch.project_dir,
        env=child_environment(launch),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(payload).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass  # the child died at once; events() reports how
    return RunningOperation(process)


def parse_event(line: bytes) -> Event | None:
    """One event from one line; anything else becomes an ``Output`` of the child."""
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    if not text.strip():
        return None
    try:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("event"), str):
            return decode_event(data)
    except ValueError:
        pass
    return Output("child", mask_passwords(text))
