"""Work in a forked copy of the process: results come back, and every failure falls back here."""

from __future__ import annotations

import logging
import os
import time

import pytest

from workbench.runtime.forking import Aside, ForkedJob, fork_supported

pytestmark = pytest.mark.skipif(not fork_supported(), reason="forking is used on Linux only")


def test_a_forked_job_sends_objects_back_and_is_stopped_when_late():
    def job(send):
        send({"revision": "a1"})
        send(["b2", "c3"])
        time.sleep(60)

    forked = ForkedJob(job)
    try:
        assert forked.receive() == {"revision": "a1"}
        assert forked.receive() == ["b2", "c3"]
        assert forked.receive(timeout=0.1) is None
    finally:
        started = time.monotonic()
        forked.close()
    assert time.monotonic() - started < 5


def test_a_forked_job_that_fails_sends_nothing():
    def job(send):
        raise RuntimeError("the child fails")

    forked = ForkedJob(job)
    try:
        assert forked.receive() is None
    finally:
        forked.close()


def test_work_set_aside_runs_in_another_process_and_its_result_comes_back():
    here = os.getpid()
    with Aside(lambda: ("rendered", os.getpid()), timeout=10) as aside:
        text, pid = aside.result()

    assert text == "rendered"
    assert pid != here
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_work_that_fails_aside_runs_again_here_and_raises_here():
    here = os.getpid()
    calls = []

    def work():
        calls.append(os.getpid())
        raise ValueError("cannot render a downgrade")

    with Aside(work, timeout=10) as aside:
        assert calls == []
        with pytest.raises(ValueError, match="cannot render a downgrade"):
            aside.result()
    assert calls == [here]


def test_work_that_does_not_answer_in_time_is_stopped_and_done_here():
    here = os.getpid()

    def work():
        if os.getpid() != here:
            time.sleep(60)
        return os.getpid()

    started = time.monotonic()
    with Aside(work, timeout=0.2) as aside:
        assert aside.result() == here
    assert time.monotonic() - started < 5


def test_the_forked_copy_logs_nothing(caplog):
    def work():
        logging.getLogger("alembic.runtime.migration").warning("Context impl SQLiteImpl.")
        return os.getpid()

    with caplog.at_level(logging.INFO), Aside(work, timeout=10) as aside:
        pid = aside.result()

    assert pid != os.getpid()
    assert caplog.records == []


def test_a_copy_whose_result_is_never_taken_is_stopped(tmp_path):
    started = tmp_path / "pid"

    def work():
        written = started.with_suffix(".part")
        written.write_text(str(os.getpid()))
        written.rename(started)  # whole, never seen half-written
        time.sleep(60)

    with Aside(work, timeout=10):
        deadline = time.monotonic() + 5
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    pid = int(started.read_text())

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
