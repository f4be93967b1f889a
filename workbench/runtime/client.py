"""Runs an env.py-driven operation in a child process and streams its events back as they come.

Alembic's ``context`` and ``op`` are process-global, env.py configures logging and prints, and
a failing migration must not take the workbench down, so each operation runs in
``python -m workbench.runtime.child`` and reports one JSON object per line. Every event is a
dict whose ``"event"`` key names its kind; no text in any event holds a password:

- ``started``: ``operation`` ({``command``, ``arguments``}), ``pid``.
- ``step``: ``phase`` ("started" just before a revision runs, "done" once applied),
  ``number`` and ``total`` (its place in its database's run: 3 of 12), ``kind`` ("upgrade",
  "downgrade", "stamp"), ``revision``, ``database`` ("default" or the bind name),
  ``source_revisions`` and ``destination_revisions`` (the version rows before and after).
- ``log``: ``level`` ("INFO"...), ``logger``, ``message``: a logging record of env.py,
  Alembic or the app.
- ``output``: ``stream`` ("stdout", "stderr", "sql" for the SQL of the ``sql`` operation,
  "child" for a line that was not an event), ``text`` (one line; the whole script for "sql").
- ``check``: ``check``: one check of ``verify`` as it ends (see ``workbench.core.verify``).
- ``finished`` (last): ``result``: ``steps`` (a list of step dicts as above without phase,
  number, total) and/or ``scripts`` (``revision``, ``path``, ``message`` of each file written);
  ``preview`` for "preview" and "review" (``workbench.core.preview.Preview.to_dict``);
  ``verify`` for "verify" (``workbench.core.verify.VerifyReport.to_dict``).
- ``failed`` (last): ``message`` (one line), ``traceback`` (full text, may be empty),
  ``databases``: where each database stands now, a list of {``name``, ``url``, ``revisions``,
  ``error``} read after the failure (empty when the app could not be loaded).
- ``cancelled`` (last): ``message`` and ``databases``, as for ``failed``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.secrets import mask_passwords

COMMANDS = frozenset(
    {"upgrade", "downgrade", "stamp", "revision", "merge", "sql", "preview", "review", "verify"}
)
FINAL_EVENTS = frozenset({"finished", "failed", "cancelled"})
DEFAULT_GRACE_SECONDS = 5.0
_STDERR_KEPT = 20_000
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class Operation:
    """A ``workbench.services.commands`` function to call in the child, with its keyword arguments.

    ``sql`` is ``upgrade(revision="<from>:<to>", sql=True)`` with the SQL captured.
    """

    command: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.command not in COMMANDS:
            raise ValueError(
                f"unknown operation {self.command!r}; one of {', '.join(sorted(COMMANDS))}"
            )


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

    def events(self) -> Iterator[dict[str, Any]]:
        """The child's events as they arrive; always ends with finished, failed or cancelled.

        A line that is not an event becomes an ``output`` event; a child that ends without
        a final event yields ``cancelled`` (when cancelled) or ``failed`` saying how it ended.
        """
        final: dict[str, Any] | None = None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            event = _parse(line)
            if event is None:
                continue
            if event["event"] in FINAL_EVENTS:
                final = event
            yield event
        returncode = self._process.wait()
        self._stderr_reader.join()
        if final is None:
            yield self._ending_without_result(returncode)

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

    def _ending_without_result(self, returncode: int) -> dict[str, Any]:
        """The final event for a child that ended without writing one."""
        if returncode < 0:
            how = f"was stopped by {signal.Signals(-returncode).name}"
        else:
            how = f"exited with status {returncode}"
        if self._cancel_requested:
            return {"event": "cancelled", "message": f"cancelled: the child {how}", "databases": []}
        stderr = b"".join(self._stderr).decode("utf-8", "replace")
        return {
            "event": "failed",
            "message": f"the migration process {how} without reporting a result",
            "traceback": mask_passwords(stderr),
            "databases": [],
        }


@dataclass(frozen=True)
class Launch:
    """How to start a child for a project: its folder, the app's import path, the environment.

    ``directory`` is the migrations folder the operations name, when the caller tracks one.
    """

    project_dir: str | os.PathLike[str]
    app_import_path: str | None = None
    env: Mapping[str, str] | None = field(default=None, repr=False)
    directory: str | None = None

    def start(self, operation: Operation) -> RunningOperation:
        """Start one operation's child process."""
        return start_operation(operation, self.project_dir, self.app_import_path, self.env)


def start_operation(
    operation: Operation,
    project_dir: str | os.PathLike[str],
    app_import_path: str | None,
    env: Mapping[str, str] | None = None,
) -> RunningOperation:
    """Start ``python -m workbench.runtime.child`` in the project folder to run one operation.

    The app is loaded as ``flask`` loads it: from ``app_import_path`` (``--app``), else
    ``FLASK_APP``, else ``wsgi.py``/``app.py``; ``env`` replaces the inherited environment.
    """
    environment = dict(os.environ if env is None else env)
    python_path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = (
        f"{python_path}{os.pathsep}{_PACKAGE_PARENT}" if python_path else _PACKAGE_PARENT
    )
    request = {
        "command": operation.command,
        "arguments": dict(operation.arguments),
        "app_import_path": app_import_path,
    }
    payload = json.dumps(request).encode()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench.runtime.child"],
        cwd=project_dir,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except BrokenPipeError:
        pass  # the child died at once; events() reports how
    return RunningOperation(process)


def _parse(line: bytes) -> dict[str, Any] | None:
    """One event from one line; anything else becomes an ``output`` event of the child."""
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    if not text.strip():
        return None
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if isinstance(event, dict) and isinstance(event.get("event"), str):
        return event
    return {"event": "output", "stream": "child", "text": mask_passwords(text)}
