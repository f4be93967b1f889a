"""The in-process ``flask`` runner answers as a real child and leaves the test process intact."""

from __future__ import annotations

import logging
import os
import sys

import alembic.op
import pytest

PROBE_COMMANDS = """\
import logging
import os
import sys
import warnings

import click


@app.cli.command("probe")
def probe():
    click.echo(f"cwd={os.getcwd()}")
    click.echo(f"app={os.environ.get('FLASK_APP')} probe={os.environ.get('PROBE')}")
    click.echo(f"bytecode={not sys.dont_write_bytecode}")
    warnings.warn("a user warning", UserWarning)
    warnings.warn("a deprecation", DeprecationWarning)
    logging.getLogger("probe").warning("a logged warning")
    os.write(1, b"straight to descriptor 1\\n")
    answer = click.prompt("answer", default="none")
    click.echo(f"answer={answer}")


@app.cli.command("boom")
def boom():
    raise RuntimeError("boom")


@app.cli.command("leave")
def leave():
    sys.exit("leaving with a message")
"""

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def both_ways(project, *args, **kwargs):
    """The same command run in a real child and in process: (child, in process)."""
    return (
        project.flask(*args, in_process=False, expect=None, **kwargs),
        project.flask(*args, in_process=True, expect=None, **kwargs),
    )


def test_output_environment_warnings_and_input_match_a_real_child(make_project):
    project = make_project(app_code=PROBE_COMMANDS)
    child, here = both_ways(project, "probe", env={"PROBE": "set"}, input="42\n")
    assert here.returncode == child.returncode == 0, (child.stderr, here.stderr)
    assert here.stdout == child.stdout
    assert here.stderr == child.stderr
    assert f"cwd={project.path}" in here.stdout
    assert "app=app probe=set" in here.stdout
    assert "bytecode=False" in here.stdout
    assert "straight to descriptor 1" in here.stdout
    assert "answer=42" in here.stdout
    assert "UserWarning: a user warning" in here.stderr
    assert "a deprecation" not in here.stderr
    assert "a logged warning" in here.stderr
    assert "PROBE" not in os.environ
    assert not list(project.path.rglob("__pycache__"))


def test_an_escaping_exception_is_a_traceback_and_exit_1_as_in_a_child(make_project):
    project = make_project(app_code=PROBE_COMMANDS)
    child, here = both_ways(project, "boom")
    assert here.returncode == child.returncode == 1
    assert here.stderr.startswith("Traceback")
    assert here.stderr.splitlines()[-1] == child.stderr.splitlines()[-1] == "RuntimeError: boom"

    child, here = both_ways(project, "leave")
    assert here.returncode == child.returncode == 1
    assert here.stderr == child.stderr == "leaving with a message\n"

    child, here = both_ways(project, "no-such-command")
    assert here.returncode == child.returncode == 2
    assert here.stderr == child.stderr


def test_the_test_process_is_left_as_it_was(make_project):
    project = make_project(app_code=PROBE_COMMANDS)
    root_handlers = list(logging.getLogger().handlers)
    alembic_op = dict(vars(alembic.op))
    before = (os.getcwd(), list(sys.path), dict(os.environ), sys.stdout, sys.stderr)
    project.db("init", in_process=True)
    project.db("migrate", "-m", "users", in_process=True)
    project.db("upgrade", in_process=True)
    assert (os.getcwd(), list(sys.path), dict(os.environ), sys.stdout, sys.stderr) == before
    assert logging.getLogger().handlers == root_handlers
    assert vars(alembic.op) == alembic_op
    assert not logging.getLogger("alembic").disabled
    assert "app" not in sys.modules and "models" not in sys.modules
    assert project.state().versions is not None


def test_an_earlier_project_on_sys_path_is_not_found_from_an_empty_folder(
    make_project, tmp_path, monkeypatch, run_flask
):
    project = make_project()
    monkeypatch.syspath_prepend(str(project.path))
    __import__("app")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_flask(empty, "db", "status", env={"FLASK_APP": None}, in_process=True)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Could not locate a Flask application")
