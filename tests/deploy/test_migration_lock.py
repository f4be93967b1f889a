"""One upgrader at a time: real ``flask db upgrade`` processes racing on one database.

Every database of the project is locked before env.py runs; a second process waits, then
finds nothing left to run. The revision used here counts its runs in a ``counter`` table and
can be held mid-run (until a ``release`` file appears), so each test decides who overlaps.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
from flask_projects import Project, describe, flask_environment

from workbench.core.databases import DatabaseTarget
from workbench.services.locks import migration_locks

SLOW_UPGRADE = """\
def upgrade():
    import os
    import time

    folder = os.environ["LOCK_TEST_FOLDER"]
    open(os.path.join(folder, f"started-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(folder, "release")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(float(os.environ.get("LOCK_TEST_SLEEP", "0")))
    op.execute("UPDATE counter SET runs = runs + 1")
"""


@dataclass
class Running:
    """A ``flask`` process started in the background, its output going to files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def wait(self, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        code = self.process.wait(timeout)
        return subprocess.CompletedProcess(
            self.process.args, code, self.stdout.read_text(), self.stderr.read_text()
        )

    def says(self, text: str) -> bool:
        return text in self.stderr.read_text()


def start_flask(project: Project, *args: str, env: dict[str, str] | None = None) -> Running:
    """Start ``python -m flask db *args`` in the project without waiting for it."""
    index = len(list(project.path.glob("run-*.err")))
    stdout = project.path / f"run-{index}.out"
    stderr = project.path / f"run-{index}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", project.command, *args],
            cwd=project.path,
            env=flask_environment({"LOCK_TEST_FOLDER": str(project.path), **(env or {})}),
            stdout=out,
            stderr=err,
        )
    return Running(process, stdout, stderr)


def wait_until(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def slow_project(make_project, env_template: str = "workbench", **kwargs) -> Project:
    """A project whose one revision counts its runs and waits for a ``release`` file."""
    project = make_project(**kwargs)
    project.db("init", in_process=True)
    if env_template == "flask_migrate":
        template = Path(flask_migrate.__file__).parent / "templates" / "flask" / "env.py"
        shutil.copyfile(template, project.migrations / "env.py")
    project.db("revision", "-m", "slow", "--rev-id", "slow1", in_process=True)
    script = project.migrations / "versions" / "slow1_slow.py"
    source = script.read_text()
    assert "def upgrade():\n    pass\n" in source
    script.write_text(source.replace("def upgrade():\n    pass\n", SLOW_UPGRADE, 1))
    with project.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (runs integer)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return project


def runs(project: Project) -> int:
    with project.connect() as connection:
        return connection.exec_driver_sql("SELECT runs FROM counter").scalar_one()


def started(project: Project) -> list[Path]:
    return list(project.path.glob("started-*"))


def release(project: Project) -> None:
    (project.path / "release").touch()


@pytest.mark.parametrize("env_template", ["workbench", "flask_migrate"])
def test_second_upgrade_waits_then_finds_nothing_to_run(make_project, env_template):
    project = slow_project(make_project, env_template)
    first = start_flask(project, "upgrade")
    wait_until(lambda: started(project), what="the first upgrade to start its revision")
    second = start_flask(project, "upgrade")
    wait_until(lambda: second.says("Waiting for another migration"), what="the second to wait")
    assert len(started(project)) == 1
    release(project)
    results = [first.wait(), second.wait()]
    for result in results:
        assert result.returncode == 0, describe(result)
        assert "Traceback" not in result.stderr, describe(result)
    assert "Running upgrade  -> slow1" in results[0].stderr
    assert "Running upgrade" not in results[1].stderr, describe(results[1])
    assert results[1].stderr.startswith(
        "Waiting for another migration of database default to finish"
    ), describe(results[1])
    assert runs(project) == 1
    assert project.state().versions == {"slow1"}


@pytest.mark.parametrize("count", [2, 8])
def test_upgrades_started_at_once_run_each_revision_once(make_project, count):
    project = slow_project(make_project)
    release(project)
    running = [
        start_flask(project, "upgrade", env={"LOCK_TEST_SLEEP": "1.5"}) for _ in range(count)
    ]
    results = [process.wait() for process in running]
    for result in results:
        assert result.returncode == 0, describe(result)
        assert "Traceback" not in result.stderr and "Error" not in result.stderr
    assert sum("Running upgrade  -> slow1" in result.stderr for result in results) == 1
    assert runs(project) == 1
    assert project.state().versions == {"slow1"}


def test_killed_holder_frees_the_lock(make_project):
    project = slow_project(make_project)
    holder = start_flask(project, "upgrade")
    wait_until(lambda: started(project), what="the holder to start its revision")
    waiter = start_flask(project, "upgrade", "--lock-wait", "60")
    wait_until(lambda: waiter.says("Waiting for another migration"), what="the second to wait")
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(30)
    wait_until(lambda: len(started(project)) == 2, what="the waiter to take the lock and run")
    release(project)
    result = waiter.wait()
    assert result.returncode == 0, describe(result)
    assert "Running upgrade  -> slow1" in result.stderr
    assert runs(project) == 1
    assert project.state().versions == {"slow1"}


def test_the_wait_limit_gives_a_one_line_error(make_project):
    project = slow_project(make_project)
    holder = start_flask(project, "upgrade")
    wait_until(lambda: started(project), what="the holder to start its revision")
    began = time.monotonic()
    result = project.db("upgrade", "--lock-wait", "1", expect=None, in_process=False)
    waited = time.monotonic() - began
    release(project)
    assert holder.wait().returncode == 0
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Waiting for another migration of database default")
    assert len(lines) == 2, describe(result)
    assert lines[1].startswith(
        "Error: gave up after 1 s waiting for another migration of database default to finish"
    ), describe(result)
    assert "nothing was run" in lines[1]
    assert "(held by " in lines[1]
    assert waited < 30
    assert runs(project) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_database_of_a_multidb_project_is_locked(make_project):
    project = make_project(binds=["users"])
    project.db("init", "--multidb", in_process=True)
    project.db("revision", "-m", "empty", "--rev-id", "r1", in_process=True)
    bind = DatabaseTarget("users", project.url("users"))
    with migration_locks([bind], wait=5, on_wait=None):
        result = project.db("upgrade", "--lock-wait", "0.5", expect=None, in_process=False)
    assert result.returncode == 1, describe(result)
    assert "Waiting for another migration of database users" in result.stderr
    assert "Error: gave up after 0.5 s waiting for another migration of database users" in (
        result.stderr
    )
    assert project.state().versions is None
    project.db("upgrade", in_process=False)
    assert project.state("users").versions == {"r1"}


@pytest.mark.parametrize(
    ("backend", "how"),
    [
        ("sqlite", "--no-lock"),
        ("sqlite", "WORKBENCH_MIGRATION_LOCK=0"),
        ("sqlite", "Migrate(migration_lock=False)"),
        ("postgresql", "--no-lock"),
        ("mysql", "--no-lock"),
    ],
)
def test_the_lock_can_be_turned_off(make_project, how):
    kwargs = {"migrate_kwargs": {"migration_lock": False}} if how.startswith("Migrate") else {}
    project = make_project(**kwargs)
    project.db("init", in_process=True)
    project.db("revision", "-m", "empty", "--rev-id", "r1", in_process=True)
    options = ["--no-lock"] if how == "--no-lock" else []
    env = {"WORKBENCH_MIGRATION_LOCK": "0"} if how.startswith("WORKBENCH") else None
    target = DatabaseTarget("default", project.url())
    with migration_locks([target], wait=5, on_wait=None):
        result = project.db("upgrade", *options, "--lock-wait", "0.5", env=env, expect=None)
    assert result.returncode == 0, describe(result)
    assert "Waiting" not in result.stderr
    assert project.state().versions == {"r1"}


def test_downgrade_and_stamp_wait_too(make_project):
    project = make_project()
    project.db("init", in_process=True)
    project.db("revision", "-m", "empty", "--rev-id", "r1", in_process=True)
    project.db("upgrade", in_process=True)
    target = DatabaseTarget("default", project.url())
    with migration_locks([target], wait=5, on_wait=None):
        results = [
            project.db(*command, "--lock-wait", "0.3", expect=None, in_process=False)
            for command in (["downgrade", "base"], ["stamp", "base"])
        ]
    for result in results:
        assert result.returncode == 1, describe(result)
        assert "Error: gave up after 0.3 s" in result.stderr
    assert project.state().versions == {"r1"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_python_api_waits_and_gives_up_like_the_command(make_project):
    project = make_project(
        app_code="""
        @app.cli.command("api-upgrade")
        def api_upgrade():
            from workbench import WorkbenchError, upgrade
            try:
                upgrade(lock_wait=0.3)
            except WorkbenchError as error:
                print("failed:", error)
        """
    )
    project.db("init", in_process=True)
    project.db("revision", "-m", "empty", "--rev-id", "r1", in_process=True)
    target = DatabaseTarget("default", project.url())
    with migration_locks([target], wait=5, on_wait=None):
        result = project.flask("api-upgrade", in_process=False)
    assert result.stdout.startswith(
        "failed: gave up after 0.3 s waiting for another migration of database default"
    ), describe(result)
    assert project.state().versions is None
    assert project.flask("api-upgrade", in_process=False).stdout == ""
    assert project.state().versions == {"r1"}
