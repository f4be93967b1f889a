"""Work done in a forked copy of this process, its result sent back, pickled, through a pipe.

Linux only: a fork copies the calling thread alone, and elsewhere forking a process that has
loaded system frameworks is not safe. Callers keep an in-process path for when it is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import pickle
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, NoReturn, TypeVar

Send = Callable[[object], None]
Result = TypeVar("Result")
_LENGTH = struct.Struct("!Q")
_PIPE_BYTES = 1 << 20
"""The pipe's capacity asked for (Linux's limit for a user): a history of megabytes then
crosses in a few writes, not in dozens of 64 KB turns between the two processes."""


def fork_supported() -> bool:
    """True where ``os.fork`` exists and is safe enough to use: on Linux."""
    return sys.platform == "linux" and hasattr(os, "fork")


class Aside(Generic[Result]):
    """Work started in a forked copy of this process, whose result is taken when needed.

    It lets independent work use a second core while this process goes on. Where forking is
    not supported or fails, or the copy raises, dies or gives no answer within ``timeout``
    seconds of being waited for, the work runs here instead when its result is taken, so the
    result (or the exception) is the one ``work()`` gives in process. The copy logs and prints
    nothing: its output would repeat this process's. Use it as a context manager, so that a
    copy whose result is never taken is stopped.
    """

    def __init__(self, work: Callable[[], Result], *, timeout: float) -> None:
        self._work = work
        self._timeout = timeout
        self._forked: ForkedJob | None = None
        if fork_supported():
            self._forked = _fork_quietly(work)

    def result(self) -> Result:
        """The work's result: the copy's answer, or the work done here."""
        forked, self._forked = self._forked, None
        if forked is None:
            return self._work()
        try:
            answer = forked.receive(self._timeout)
        finally:
            forked.close()
        return answer[0] if isinstance(answer, tuple) else self._work()

    def close(self) -> None:
        """Stop the copy if its result was not taken."""
        forked, self._forked = self._forked, None
        if forked is not None:
            forked.close()

    def __enter__(self) -> Aside[Result]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _fork_quietly(work: Callable[[], Any]) -> ForkedJob | None:
    """A forked copy running ``work``, once this process's buffered output is written."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return ForkedJob(lambda send: _quietly_send(work, send))
    except OSError:
        return None


def _quietly_send(work: Callable[[], Any], send: Send) -> None:
    """In the forked copy: run the work with logging off and send its result in a 1-tuple."""
    gc.disable()
    logging.disable(logging.CRITICAL)
    send((work(),))


class ForkedJob:
    """A job running in a forked child that sends objects back, pickled, through a pipe.

    The child runs ``job(send)`` then exits with ``os._exit``; an exception ends it without
    a word, so that the parent, receiving nothing, does the work itself and shows the failure.
    """

    def __init__(self, job: Callable[[Send], None]) -> None:
        read_end, write_end = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read_end)
            _run_child(job, write_end)
        os.close(write_end)
        self._pipe = read_end
        self._buffer = bytearray()
        self._ended = False

    def receive(self, timeout: float | None = None) -> Any:
        """The next object the child sends; None once it ended without one, or after timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            item = self._take()
            if item is not None or self._ended:
                return item
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self._pipe], [], [], remaining)[0]:
                    return None
            chunk = os.read(self._pipe, _PIPE_BYTES)
            self._ended = not chunk
            self._buffer += chunk

    def _take(self) -> Any:
        """The first complete object in the buffer, if there is one."""
        if len(self._buffer) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack_from(self._buffer)
        end = _LENGTH.size + length
        if len(self._buffer) < end:
            return None
        data = self._buffer[_LENGTH.size : end]
        del self._buffer[:end]
        return pickle.loads(data)

    def close(self) -> None:
        """Stop the child if it still runs (a database that does not answer), and reap it."""
        os.close(self._pipe)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _run_child(job: Callable[[Send], None], pipe: int) -> NoReturn:
    """The child's whole life: run the job, flush what it printed, exit without cleanup."""
    try:
        job(lambda item: _send(pipe, item))
        code = 0
    except BaseException:
        code = 1
    _flush_output()
    os._exit(code)


def _send(pipe: int, item: object) -> None:
    """Pickle an object onto the pipe, after what the child printed so far."""
    _flush_output()
    data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
    os.write(pipe, _LENGTH.pack(len(data)))
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]


def _flush_output() -> None:
    """Flush the child's stdout and stderr (a closed or broken stream is left alone)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
