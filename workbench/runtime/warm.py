"""One long-lived child per workbench: the app loaded once, requests served one at a time.

Starting a child and loading the app costs about a second; rendering a revision's SQL or
reviewing a script once it is loaded costs a few tens of milliseconds. Reading requests
(SQL, reviews) go to a ``WarmChild``, which keeps one ``python -m workbench.services.worker
--serve`` running: each request is one JSON line on its stdin, answered by the same events
a one-shot child sends, the last one final. Operations that change databases keep their
own one-shot children (``workbench.runtime.client.start``), so cancelling one never touches
the warm child. A warm child that dies is started again for the next request.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

from workbench.runtime.client import (
    WORKER_MODULE,
    Launch,
    child_environment,
    parse_event,
    request_payload,
)
from workbench.runtime.events import Ending, Event, Failed
from workbench.runtime.requests import Request
from workbench.runtime.wire import SERVE_FLAG

CLOSE_SECONDS = 2.0


class WarmChild:
    """A long-lived child serving one request at a time (threads take turns).

    ``run`` blocks until the request's final event: call it from worker threads only.
    """

    def __init__(self, launch: Launch) -> None:
        self._launch = launch
        self._process: subprocess.Popen[bytes] | None = None
        self._turn = threading.Lock()
        self._state = threading.Lock()
        self._closed = False
        self.started = 0
        """How many child processes were started (1 while the first one lives)."""

    @property
    def pid(self) -> int | None:
        """The process id of the child now serving, if one runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def run(self, request: Request, on_event: Callable[[Event], None] | None = None) -> Ending:
        """Run one request in the warm child; its final event (``on_event`` hears every one)."""
        with self._turn:
            final: Ending | None = None
            for event in self._serve(request):
                if on_event is not None:
                    on_event(event)
                if isinstance(event, Ending):
                    final = event
            assert final is not None
            return final

    def start(self, request: Request) -> WarmRun:
        """The request as a run to wait for, as ``RunningOperation`` is (``wait``)."""
        return WarmRun(self, request)

    def cancel(self) -> None:
        """Interrupt the request running now (the child goes on serving)."""
        process = self._process
        if process is not None and process.poll() is None and self._turn.locked():
            process.send_signal(signal.SIGINT)

    def close(self) -> None:
        """End the child at once: its stdin closes, and it is terminated if it does not exit.

        Returns without waiting; a thread sees the child to its end.
        """
        with self._state:
            self._closed = True
            process, self._process = self._process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
        except OSError:
            pass
        threading.Thread(target=_see_to_end, args=(process,), daemon=True).start()

    def _serve(self, request: Request) -> Iterator[Event]:
        """Send one request and yield its events up to its final one.

        A child found dead before it answered anything (killed while idle) is started again
        and the request sent once more.
        """
        line = (json.dumps(request_payload(request, self._launch)) + "\n").encode()
        for attempt in (1, 2):
            process = self._running()
            if process is None:
                yield Failed("the workbench is closing")
                return
            assert process.stdin is not None and process.stdout is not None
            answered = False
            try:
                process.stdin.write(line)
                process.stdin.flush()
            except OSError:
                pass
            else:
                for raw in process.stdout:
                    event = parse_event(raw)
                    if event is None:
                        continue
                    answered = True
                    yield event
                    if isinstance(event, Ending):
                        return
            ending = self._ended(process)
            if answered or attempt == 2:
                yield ending
                return

    def _running(self) -> subprocess.Popen[bytes] | None:
        """The child, started when there is none or the last one ended."""
        with self._state:
            if self._closed:
                return None
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", WORKER_MODULE, SERVE_FLAG],
                    cwd=self._launch.project_dir,
                    env=child_environment(self._launch),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                self.started += 1
            return self._process

    def _ended(self, process: subprocess.Popen[bytes]) -> Failed:
        """The final event of a request whose child ended under it; the next starts another."""
        returncode = process.wait()
        with self._state:
            if self._process is process:
                self._process = None
        how = (
            f"was stopped by {signal.Signals(-returncode).name}"
            if returncode < 0
            else f"exited with status {returncode}"
        )
        return Failed(f"the workbench's warm child {how} without reporting a result")


def _see_to_end(process: subprocess.Popen[bytes]) -> None:
    """Wait for a closed child to exit; terminate, then kill, one that does not."""
    for stop in (process.terminate, process.kill):
        try:
            process.wait(CLOSE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            stop()
    process.wait()


class WarmRun:
    """A request for a warm child, run when waited for (from a worker thread)."""

    def __init__(self, child: WarmChild, request: Request) -> None:
        self._child = child
        self._request = request

    def wait(self, on_event: Callable[[Event], None] | None = None) -> Ending:
        """Run the request and return its final event (blocking: worker threads only)."""
        return self._child.run(self._request, on_event)

    def cancel(self, grace_seconds: float = 0.0) -> None:
        """Interrupt the request if it is the one running."""
        self._child.cancel()
