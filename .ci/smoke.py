"""Smoke check of a built wheel, installed as users install it, on one Python.

    python3 .ci/smoke.py PYTHON WHEEL

Makes a fresh venv with PYTHON, installs WHEEL into it (not editable; plus aiosqlite and
greenlet, the async driver an aioflask project brings), then, from a temporary folder outside
the checkout so nothing is imported from the source tree:

- checks that ``workbench`` is imported from the venv's site-packages;
- for each template (flask, flask-multidb, aioflask, aioflask-multidb), writes a small app and
  runs ``flask db init -t TEMPLATE``, ``migrate``, ``upgrade`` and ``status`` (exit 0 only when
  every database is at head);
- runs ``python -m workbench demo --no-open`` twice (the second run reopens the project), then
  ``flask db graph`` in the demo;
- runs ``flask db tui`` on the demo in a real terminal (tmux), waits until the screen shows the
  graph, presses ``q`` and checks the exit status is 0.

Prints one line per step; exits 1 at the first failure, with what the command printed.
Uses only the standard library, so any Python 3 can run it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATES = ("flask", "flask-multidb", "aioflask", "aioflask-multidb")
COMMAND_TIMEOUT = 300
SCREEN_TIMEOUT = 90

SYNC_APP = """\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from workbench import Migrate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///main.sqlite"
app.config["SQLALCHEMY_BINDS"] = {binds!r}
db = SQLAlchemy(app)
migrate = Migrate(app, db)


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40))


if {binds!r}:

    class Event(db.Model):
        __bind_key__ = "audit"
        id = db.Column(db.Integer, primary_key=True)
"""

ASYNC_APP = """\
from pathlib import Path

from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import create_async_engine

from workbench import Migrate

HERE = Path(__file__).resolve().parent


class AsyncDatabase:
    \"\"\"What the aioflask templates expect of ``db``: async engines and metadatas by bind.\"\"\"

    def __init__(self, names):
        self.engines = {{
            name: create_async_engine(f"sqlite+aiosqlite:///{{HERE / (name or 'main')}}.sqlite")
            for name in names
        }}
        self.metadatas = {{name: MetaData() for name in names}}
        self.metadata = self.metadatas[None]


app = Flask(__name__)
app.config["SQLALCHEMY_BINDS"] = {binds!r}
db = AsyncDatabase([None, *{binds!r}])
Table("account", db.metadata, Column("id", Integer, primary_key=True), Column("name", String(40)))
for name in {binds!r}:
    Table(f"{{name}}_event", db.metadatas[name], Column("id", Integer, primary_key=True))
migrate = Migrate(app, db)
"""


class SmokeFailure(Exception):
    """A step of the smoke check failed; the message says which and what was printed."""


def step(message: str) -> None:
    """Say what the smoke check does next."""
    print(f"    {message}", flush=True)


def run(
    command: list[str], cwd: Path, env: dict[str, str], expect: int = 0
) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the smoke check unless it exits with ``expect``."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != expect:
        raise SmokeFailure(
            f"`{shlex.join(command)}` in {cwd} exited {result.returncode} (expected {expect})\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    return result


def user_environment(venv: Path) -> dict[str, str]:
    """The environment of a user who activated the venv: no FLASK_*, no PYTHONPATH."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "WORKBENCH_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["FLASK_APP"] = "app"
    return env


def install(python: str, wheel: Path, venv: Path) -> None:
    """A fresh venv with the wheel (and an async SQLite driver) installed."""
    step(f"venv with {python} in {venv}")
    run([python, "-m", "venv", str(venv)], cwd=venv.parent, env=dict(os.environ))
    step(f"pip install {wheel.name} aiosqlite greenlet")
    run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(wheel),
            "aiosqlite",
            "greenlet",
        ],
        cwd=venv.parent,
        env=dict(os.environ),
    )


def check_installed_copy(venv: Path, work: Path, env: dict[str, str]) -> None:
    """``workbench`` comes from the venv's site-packages, not from a checkout."""
    found = run(
        [str(venv / "bin" / "python"), "-c", "import workbench; print(workbench.__file__)"],
        cwd=work,
        env=env,
    ).stdout.strip()
    step(f"workbench is imported from {found}")
    if not found.startswith(str(venv)) or "site-packages" not in Path(found).parts:
        raise SmokeFailure(f"workbench was imported from {found}, not from {venv}'s site-packages")


def check_template(template: str, work: Path, env: dict[str, str]) -> None:
    """init with the template, then migrate, upgrade and status on a small app."""
    project = work / template
    project.mkdir()
    binds = ["audit"] if template.endswith("multidb") else []
    if template.startswith("aioflask"):
        source = ASYNC_APP.format(binds={name: "unused" for name in binds})
    else:
        source = SYNC_APP.format(binds={name: f"sqlite:///{name}.sqlite" for name in binds})
    (project / "app.py").write_text(source)
    for command in (["init", "-t", template], ["migrate", "-m", "first"], ["upgrade"]):
        run(["flask", "db", *command], cwd=project, env=env)
    status = run(["flask", "db", "status"], cwd=project, env=env).stdout
    versions = list((project / "migrations" / "versions").glob("*.py"))
    if len(versions) != 1:
        raise SmokeFailure(f"{template}: migrate wrote {len(versions)} revisions, not 1")
    at_head = status.count(" at head ")
    if at_head != 1 + len(binds):
        raise SmokeFailure(f"{template}: status shows {at_head} databases at head:\n{status}")
    step(f"{template}: init, migrate, upgrade; status: {at_head} database(s) at head")


def check_demo(venv: Path, work: Path, env: dict[str, str]) -> tuple[Path, list[str]]:
    """The demo command, run twice (made, then reopened), and ``flask db graph`` in it.

    Returns the demo's folder and its heads (from ``flask db heads``).
    """
    python = str(venv / "bin" / "python")
    first = run([python, "-m", "workbench", "demo", "--no-open"], cwd=work, env=env).stdout
    again = run([python, "-m", "workbench", "demo", "--no-open"], cwd=work, env=env).stdout
    folder = work / "workbench-demo"
    if not first.startswith("Created") or not again.startswith("Reopening"):
        raise SmokeFailure(f"the demo command said:\n{first}then:\n{again}")
    step(f"demo: {first.splitlines()[0]}; then {again.splitlines()[0].split(' in ')[0]}")
    heads = [
        line.split()[0]
        for line in run(["flask", "db", "heads"], cwd=folder, env=env).stdout.splitlines()
    ]
    graph = run(["flask", "db", "graph"], cwd=folder, env=env).stdout
    if len(heads) != 2 or not all(head in graph for head in heads):
        raise SmokeFailure(f"flask db graph lacks the heads {heads}:\n{graph}")
    step(f"flask db graph: {len(graph.splitlines())} lines, heads {', '.join(heads)}")
    return folder, heads


def check_workbench_in_tmux(demo: Path, heads: list[str], work: Path, env: dict[str, str]) -> None:
    """``flask db tui`` in tmux: the graph and its heads show, ``q`` quits, exit status 0."""
    if shutil.which("tmux") is None:
        raise SmokeFailure("tmux is not installed")
    status_file = work / "tui-exit-status"
    socket = f"workbench-smoke-{os.getpid()}"
    command = (
        f"cd {shlex.quote(str(demo))} && flask db tui; "
        f"echo $? > {shlex.quote(str(status_file))}; sleep {SCREEN_TIMEOUT}"
    )

    def tmux(*args: str) -> str:
        return run(["tmux", "-L", socket, *args], cwd=work, env=env).stdout

    tmux("new-session", "-d", "-s", "smoke", "-x", "160", "-y", "48", command)
    try:
        screen = wait_for_screen(tmux, ["Revisions:", *heads], status_file)
        step(f"flask db tui shows the graph ({', '.join(heads)} on screen); pressing q")
        tmux("send-keys", "-t", "smoke", "q")
        deadline = time.monotonic() + SCREEN_TIMEOUT
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.2)
        screen = tmux("capture-pane", "-p", "-t", "smoke")
        status = status_file.read_text().strip() if status_file.exists() else None
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    if status != "0":
        raise SmokeFailure(f"flask db tui exited with {status} after q; the screen:\n{screen}")
    step("flask db tui exited 0")


def wait_for_screen(tmux, wanted: list[str], status_file: Path) -> str:
    """Wait until every piece of text is on the tmux screen; fail if the command ends first."""
    deadline = time.monotonic() + SCREEN_TIMEOUT
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "smoke")
        if all(piece in screen for piece in wanted):
            return screen
        if status_file.exists():
            break
        time.sleep(0.3)
    raise SmokeFailure(f"the screen never showed {wanted}; it showed:\n{screen}")


def smoke(python: str, wheel: Path) -> None:
    """Every step, in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="workbench-smoke-") as scratch:
        venv = Path(scratch) / "venv"
        work = Path(scratch) / "work"
        work.mkdir()
        install(python, wheel, venv)
        env = user_environment(venv)
        check_installed_copy(venv, work, env)
        for template in TEMPLATES:
            check_template(template, work, env)
        demo, heads = check_demo(venv, work, env)
        check_workbench_in_tmux(demo, heads, work, env)


def main(argv: list[str]) -> int:
    """``smoke.py PYTHON WHEEL``: 0 when every step passed."""
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    python, wheel = argv[0], Path(argv[1]).resolve()
    try:
        smoke(python, wheel)
    except (SmokeFailure, subprocess.TimeoutExpired) as failure:
        print(f"error: smoke check with {python}: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
