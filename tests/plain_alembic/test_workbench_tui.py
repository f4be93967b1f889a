"""The workbench opened on a plain Alembic project: graph, databases, and an upgrade run by
the child process on the same options (no Flask app anywhere)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from browser_support import require_chromium
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from workbench.core.databases import database_status
from workbench.project.alembic import OPTIONS_VARIABLE, AlembicOptions, AlembicProject
from workbench.runtime.forking import ForkedJob
from workbench.tui import prefork
from workbench.tui.app import make_app
from workbench.tui.history import load_history
from workbench.tui.screens.confirm import ConfirmScreen

SIZE = (160, 48)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(app, pilot) -> None:
    for _ in range(3):
        for worker in list(app.workers):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()


async def wait_for(pilot, condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.1)


def ok(result):
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def two_revisions(make_alembic, monkeypatch):
    """A settings-object project with two revisions, its database at the first.

    Alembic makes them in the test process: no test here is about these commands.
    """
    project = make_alembic(settings_app=True)
    ok(
        project.alembic(
            "revision", "--autogenerate", "-m", "users", "--rev-id", "a1", in_process=True
        )
    )
    ok(project.alembic("upgrade", "a1", in_process=True))
    project.add_model(
        """
        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
        """
    )
    ok(
        project.alembic(
            "revision", "--autogenerate", "-m", "orders", "--rev-id", "b2", in_process=True
        )
    )
    for name, value in project.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    monkeypatch.chdir(project.path)
    return project


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)
def test_the_workbench_shows_the_graph_and_upgrades_through_the_child(two_revisions, monkeypatch):
    project = two_revisions
    options = AlembicOptions(cwd=str(project.path))
    monkeypatch.setenv(OPTIONS_VARIABLE, options.to_environment())
    described = AlembicProject(options).describe()
    history = load_history(described)
    statuses = database_status(described.targets, history.graph)
    app = make_app(
        described,
        command_group="python -m workbench",
        project_folder=str(project.path),
        history=history,
        statuses=statuses,
        poll_seconds=60,
    )

    asyncio.run(upgrade_in_the_workbench(app))

    assert ok(project.alembic("current")).stdout == "b2 (head)\n"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("room", [prefork.HISTORY_ROOM_BYTES, 16], ids=["shared", "piped"])
def test_a_history_crosses_from_the_forked_child_whole(two_revisions, monkeypatch, room):
    described = AlembicProject(AlembicOptions(cwd=str(two_revisions.path))).describe()
    history = load_history(described)
    monkeypatch.setattr(prefork, "HISTORY_ROOM_BYTES", room)
    monkeypatch.setattr(prefork, "_history_room", [prefork._shared_memory()])

    forked = ForkedJob(lambda send: send(prefork._leave_in_room(history.to_wire())))
    try:
        sent = forked.receive()
    finally:
        forked.close()
    crossed = prefork._history_sent(sent)

    assert isinstance(sent, int if room > 16 else bytes)
    assert crossed.rows == history.rows
    assert crossed.stamp == history.stamp
    assert crossed.graph.revisions == history.graph.revisions
    assert crossed.graph.order == history.graph.order


async def upgrade_in_the_workbench(app) -> None:
    """Check the first screen, then upgrade to the selected head and wait for its marker."""
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Revisions: 2" in text
        assert "behind 1" in text
        assert app.graph_view.markers == {"a1": ["default"]}

        app.graph_view.select_revision("b2")
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await wait_for(pilot, lambda: "orders" in screen_text(app).lower())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen) is Screen and not app.operation_running)
        await wait_for(pilot, lambda: app.graph_view.markers == {"b2": ["default"]})


@pytest.fixture
def two_heads(make_alembic, monkeypatch):
    """A project whose history forks into two heads, b2 and c3, on a1."""
    project = make_alembic()
    ok(project.alembic("revision", "-m", "first", "--rev-id", "a1", in_process=True))
    for head in ("b2", "c3"):
        ok(
            project.alembic(
                "revision",
                "-m",
                head,
                "--rev-id",
                head,
                "--head",
                "a1",
                "--splice",
                in_process=True,
            )
        )
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    monkeypatch.chdir(project.path)
    return project


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_problems_screen_names_the_workbench_commands(two_heads, monkeypatch):
    options = AlembicOptions(cwd=str(two_heads.path))
    monkeypatch.setenv(OPTIONS_VARIABLE, options.to_environment())
    app = make_app(
        AlembicProject(options).describe(),
        command_group="workbench",
        project_folder=str(two_heads.path),
        poll_seconds=60,
    )

    async def open_problems() -> str:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await wait_for(pilot, lambda: "2 heads" in screen_text(app))
            await pilot.press("exclamation_mark")
            await settle(app, pilot)
            return screen_text(app)

    text = asyncio.run(open_problems())

    assert 'fix: workbench merge heads -m "merge heads"' in text
    assert "or:  workbench linearize b2 --onto c3" in text
    assert "flask" not in text


DONE = "WORKBENCH-EXITED"


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=True
    ).stdout


def wait_for_screen(socket: str, text: str, seconds: float = 120.0) -> str:
    deadline = time.monotonic() + seconds
    while True:
        screen = tmux(socket, "capture-pane", "-p", "-t", "main")
        if text in screen:
            return screen
        assert time.monotonic() < deadline, f"{text!r} did not appear:\n{screen}"
        time.sleep(0.1)


@contextlib.contextmanager
def workbench_in_tmux(project, fork: str) -> Iterator[str]:
    """``python -m workbench tui`` in a private tmux server (160x48): its socket name."""
    socket = f"workbench-alembic-{os.getpid()}-{time.monotonic_ns()}"
    environment = {**project.env, "WORKBENCH_TUI_FORK": fork, "TERM": "xterm-256color"}
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items())
    command = f"env -u COLUMNS -u LINES {exports} {shlex.quote(sys.executable)} -m workbench tui"
    shell = f"cd {shlex.quote(str(project.path))} && {command}; echo {DONE} $?; sleep 600"
    tmux(socket, "new-session", "-d", "-s", "main", "-x", "160", "-y", "48", shell)
    try:
        yield socket
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "one-process"])
def test_workbench_tui_in_a_real_terminal(two_revisions, fork):
    with workbench_in_tmux(two_revisions, fork) as socket:
        wait_for_screen(socket, "Revisions: 2")
        wait_for_screen(socket, "behind 1")
        screen = wait_for_screen(socket, "u Upgrade")
        assert "[default] users" in screen
        tmux(socket, "send-keys", "-t", "main", "q")
        screen = wait_for_screen(socket, DONE)
    assert f"{DONE} 0" in screen
    assert "Traceback" not in screen


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "one-process"])
def test_workbench_tui_advises_the_command_it_was_started_with(two_heads, fork):
    with workbench_in_tmux(two_heads, fork) as socket:
        wait_for_screen(socket, "2 heads")
        tmux(socket, "send-keys", "-t", "main", "!")
        screen = wait_for_screen(socket, "fix: ")
    assert 'fix: python -m workbench merge heads -m "merge heads"' in screen
    assert "flask" not in screen


@pytest.mark.parametrize("backend", ["sqlite"])
def test_workbench_tui_serve_shows_the_project_read_only_and_leaves_no_process(make_alembic):
    from workbench.demo.browser import chromium, processes_in, served, wait_for_screen

    require_chromium()
    project = make_alembic()
    created = project.workbench("revision", "-m", "served", "--rev-id", "a1")
    assert created.returncode == 0, created.stderr
    with chromium() as driver:
        with served(project.path, env=project.environment(), program=("workbench",)) as server:
            driver.get(server.url)
            assert driver.title == "Migration Workbench — read-only"
            wait_for_screen(driver, "Migration Workbench", "(read-only)", "a1", "default")
            tabs = [line for line in processes_in(project.path) if " tui --read-only" in line]
            assert tabs and all("workbench" in line for line in tabs)
            assert server.stop(signal.SIGTERM) == 0
        deadline = time.monotonic() + 5
        while processes_in(project.path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_in(project.path)
