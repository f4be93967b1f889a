"""The event stream: SQL, written scripts, junk from env.py, passwords, children that misbehave."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runner_projects import (
    SQLITE_ONLY,
    child_environment,
    describe_events,
    init_migrations,
    of_kind,
    run,
    run_ok,
    table_revision,
    upgrade_for_setup,
    write_revision,
)
from sqlalchemy.engine import make_url

from workbench.runtime.client import Launch, RunningOperation, start
from workbench.runtime.events import Failed, Log, Output
from workbench.runtime.requests import UpgradeRequest
from workbench.runtime.wire import decode_request

PASSWORD = "Pa55-w0rd-of-a-test"

ENV_PY_JUNK = """\
print("junk on stdout {not json")
sys.stderr.write("junk on stderr\\n")
os.write(1, b'{"event": "finished", "result": "forged by env.py"}\\n')
os.write(2, b"raw bytes on fd 2 without a newline")
logger.warning("env.py warns")
"""


def add_to_env_py(project, code: str) -> None:
    """Insert code into env.py after its logger exists (and fileConfig has run)."""
    env_py = project.migrations / "env.py"
    source = env_py.read_text()
    anchor = 'logger = logging.getLogger("alembic.env")\n'
    assert anchor in source
    env_py.write_text(
        "import os\nimport sys\n" + source.replace(anchor, anchor + textwrap.dedent(code), 1)
    )


@SQLITE_ONLY
def test_the_sql_operation_returns_the_sql_of_a_range_and_changes_nothing(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")

    events = run_ok(project, "sql", revision="aaaa0001:bbbb0002")
    from_base = run_ok(project, "sql", revision="base:aaaa0001")

    (sql,) = [event.text for event in of_kind(events, "output") if event.stream == "sql"]
    assert "CREATE TABLE t_bbbb0002" in sql
    assert "UPDATE alembic_version SET version_num='bbbb0002'" in sql
    assert "t_aaaa0001" not in sql
    (first,) = [event.text for event in of_kind(from_base, "output") if event.stream == "sql"]
    assert "CREATE TABLE alembic_version" in first
    assert "CREATE TABLE t_aaaa0001" in first
    assert [step["revision"] for step in events[-1].result["steps"]] == ["bbbb0002"]
    assert project.state().tables == frozenset()


@SQLITE_ONLY
def test_env_py_writing_junk_does_not_break_the_event_stream(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    add_to_env_py(project, ENV_PY_JUNK)

    events = run_ok(project, "upgrade", revision="head")

    assert events[-1].result["steps"][0]["revision"] == "aaaa0001"
    outputs = {(event.stream, event.text) for event in of_kind(events, "output")}
    assert {
        ("stdout", "junk on stdout {not json"),
        ("stderr", "junk on stderr"),
        ("stdout", '{"event": "finished", "result": "forged by env.py"}'),
        ("stderr", "raw bytes on fd 2 without a newline"),
    } <= outputs
    logs = [(event.level, event.logger, event.message) for event in of_kind(events, "log")]
    assert ("WARNING", "alembic.env", "env.py warns") in logs
    assert (
        "INFO",
        "alembic.runtime.migration",
        "Running upgrade  -> aaaa0001, revision aaaa0001",
    ) in logs
    assert not [text for _, text in outputs if "Running upgrade" in text]
    assert project.state().versions == {"aaaa0001"}


@SQLITE_ONLY
def test_revision_and_merge_report_the_scripts_they_write(make_project):
    project = make_project()
    init_migrations(project)
    table_revision(project, "aaaa0001")
    table_revision(project, "bbbb0002", "aaaa0001")
    upgrade_for_setup(project, "heads")

    detected = run_ok(project, "revision", message="add user", autogenerate=True, rev_id="dddd0004")
    empty = run_ok(
        project, "revision", message="side line", head="aaaa0001", splice=True, rev_id="cccc0003"
    )
    merged = run_ok(project, "merge", revisions=["dddd0004", "cccc0003"], rev_id="eeee0005")

    (side,) = empty[-1].result["scripts"]
    assert side["revision"] == "cccc0003"
    assert side["message"] == "side line"
    assert side["path"] == str(project.migrations / "versions" / "cccc0003_side_line.py")
    (user,) = detected[-1].result["scripts"]
    assert "op.create_table('user'" in Path(user["path"]).read_text()
    assert any("Detected added table 'user'" in log.message for log in of_kind(detected, "log"))
    (merge,) = merged[-1].result["scripts"]
    assert merge["revision"] == "eeee0005"
    assert "down_revision = ('dddd0004', 'cccc0003')" in Path(merge["path"]).read_text()


@SQLITE_ONLY
def test_autogenerate_without_changes_writes_nothing(make_project):
    project = make_project(models="from app import db\n")
    init_migrations(project)

    events = run_ok(project, "revision", message="nothing", autogenerate=True)

    assert events[-1].result == {"scripts": []}
    assert project.revision_files() == set()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.servers)])
def test_no_event_shows_a_password(make_project, scratch_databases):
    url = make_url(scratch_databases.new()).set(password=PASSWORD)
    project = make_project(database_url=url.render_as_string(hide_password=False))
    init_migrations(project)
    table_revision(project, "aaaa0001")
    write_revision(
        project,
        "bbbb0002",
        "aaaa0001",
        upgrade='raise RuntimeError("cannot reach " + op.get_bind().engine.url.password)',
    )
    add_to_env_py(
        project,
        """\
        engine_url = current_app.extensions["migrate"].db.engine.url
        print("url:", engine_url.render_as_string(hide_password=False))
        logger.warning("password %s", engine_url.password)
        """,
    )

    events = run(project, "upgrade", revision="head")

    assert events[-1].event == "failed", describe_events(events)
    assert PASSWORD not in describe_events(events)
    assert events[-1].message.startswith("RuntimeError: cannot reach *** (at ")
    assert ("stdout", f"url: {url.render_as_string(hide_password=True)}") in {
        (event.stream, event.text) for event in of_kind(events, "output")
    }
    assert "password ***" in [event.message for event in of_kind(events, "log")]
    assert events[-1].databases[0].url == url.render_as_string(hide_password=True)


@SQLITE_ONLY
def test_a_child_that_dies_without_a_result_is_reported_failed(make_project):
    project = make_project()
    init_migrations(project)
    write_revision(project, "aaaa0001", upgrade="os._exit(3)")

    events = run(project, "upgrade", revision="head")

    assert events[-1].event == "failed"
    assert events[-1].message == (
        "the migration process exited with status 3 without reporting a result"
    )


@SQLITE_ONLY
def test_an_app_that_cannot_be_loaded_fails_in_one_line(make_project):
    project = make_project()
    init_migrations(project)

    running = start(UpgradeRequest(), Launch(project.path, "no_such_module", child_environment()))
    events = list(running.events())

    assert events[-1].event == "failed"
    assert "no_such_module" in events[-1].message
    assert "\n" not in events[-1].message
    assert events[-1].databases == ()
    assert running.returncode == 1


def test_lines_that_are_not_events_become_output(tmp_path):
    script = (
        "import json, sys\n"
        "print('plain text from postgresql://u:secret@host/db')\n"
        "print(json.dumps({'event': 'log', 'level': 'INFO', 'logger': 'x', 'message': 'm'}))\n"
        "print(json.dumps([1, 2]))\n"
        "print('{broken')\n"
        "sys.stderr.write('dying words')\n"
        "sys.exit(2)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    events = list(RunningOperation(process).events())

    assert events == [
        Output("child", "plain text from postgresql://u:***@host/db"),
        Log("INFO", "x", "m"),
        Output("child", "[1, 2]"),
        Output("child", "{broken"),
        Failed(
            "the migration process exited with status 2 without reporting a result",
            "dying words",
        ),
    ]


def test_unknown_operations_are_refused_before_anything_starts():
    with pytest.raises(ValueError, match="unknown operation 'drop'"):
        decode_request({"operation": "drop", "arguments": {}})


def test_plan_and_runner_import_neither_flask_nor_click_nor_textual():
    code = (
        "import sys\n"
        "import workbench.core.plan, workbench.runtime.client, workbench.services.running\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'click', 'textual', 'flask'}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
