"""``workbench`` on real ``alembic init`` projects: it agrees with ``alembic`` itself.

The same project, the same options: ``alembic`` and ``workbench`` print the same heads,
current revisions and history, whichever of the two wrote the revisions or ran the upgrade.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask_in_process import run_alembic_in_process, run_workbench_in_process

pytestmark = pytest.mark.flask_in_process

TEMPLATES = ["generic", "async", "multidb", "pyproject", "pyproject_async"]
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
IMPORT_MARKER = "revision-file-was-imported"


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def agree(project, *args):
    """Run ``alembic ARGS`` and ``workbench ARGS``; both succeed with the same stdout."""
    alembic = ok(project.alembic(*args))
    workbench = ok(project.workbench(*args))
    assert workbench.stdout == alembic.stdout, args
    return workbench.stdout


@pytest.mark.parametrize("template", TEMPLATES)
def test_alembic_and_workbench_agree_on_heads_current_and_history(make_alembic, template):
    project = make_alembic(template)
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    ok(project.alembic("revision", "-m", "second", "--rev-id", "b2"))
    assert project.revision_files() == {"a1_users.py", "b2_second.py"}

    ok(project.workbench("upgrade", "a1"))
    assert agree(project, "current").splitlines()[0] == "a1"
    assert agree(project, "heads") == "b2 (head)\n"
    agree(project, "history")
    if template == "generic":
        agree(project, "history", "--verbose")
        agree(project, "history", "-r", "a1:b2")
        agree(project, "show", "a1")

    ok(project.alembic("upgrade", "head"))
    assert agree(project, "current").splitlines()[0] == "b2 (head)"
    agree(project, "history", "--indicate-current")  # multidb: once for each database
    if template == "generic":
        agree(project, "current", "--verbose")

    status = ok(project.workbench("status", "--json"))
    assert {item["name"]: item["state"] for item in json.loads(status.stdout)} == {
        name: "at head" for name in project.urls
    }


@SQLITE_ONLY
def test_upgrade_downgrade_and_stamp_move_the_database_as_alembic_sees_it(make_alembic):
    project = make_alembic()
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    ok(project.workbench("revision", "-m", "empty", "--rev-id", "b2"))

    ok(project.workbench("upgrade"))
    assert ok(project.alembic("current")).stdout == "b2 (head)\n"
    ok(project.workbench("downgrade"))
    assert ok(project.alembic("current")).stdout == "a1\n"
    ok(project.workbench("upgrade"))
    ok(project.workbench("downgrade", "-1"))  # a relative step, as `alembic downgrade -1` reads it
    assert ok(project.alembic("current")).stdout == "a1\n"
    ok(project.workbench("upgrade"))
    ok(project.workbench("downgrade", "--tag", "-1", "-1"))  # the first -1 is the tag's value
    assert ok(project.alembic("current")).stdout == "a1\n"
    ok(project.workbench("stamp", "base"))
    assert ok(project.alembic("current")).stdout == ""


@SQLITE_ONLY
def test_the_settings_app_works_from_its_environment(make_alembic):
    project = make_alembic(settings_app=True)
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    ok(project.workbench("upgrade"))

    assert agree(project, "current") == "a1 (head)\n"
    graph = ok(project.workbench("graph"))
    assert "[default]" in graph.stdout and "a1" in graph.stdout
    status = ok(project.workbench("status"))
    assert "at head" in status.stdout


@SQLITE_ONLY
def test_a_password_never_shows_in_status(make_alembic):
    project = make_alembic(settings_app=True)
    url = "postgresql+psycopg://shop:s3cret-pw@127.0.0.1:9/shop"

    result = project.workbench("status", "--timeout", "2", env={"SHOP_DATABASE_URL": url})

    assert result.returncode == 1
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "shop:***@127.0.0.1:9/shop" in result.stdout


@SQLITE_ONLY
def test_x_arguments_name_and_pyproject_are_read_as_alembic_reads_them(make_alembic, tmp_path):
    project = make_alembic()
    ok(project.workbench("revision", "-m", "one", "--rev-id", "a1"))
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    text = project.env_py.read_text().replace(
        'url = config.get_main_option("sqlalchemy.url")',
        'url = context.get_x_argument(as_dictionary=True).get("db")',
    )
    text = text.replace(
        "connectable = engine_from_config(",
        'config.set_main_option("sqlalchemy.url", '
        'context.get_x_argument(as_dictionary=True).get("db") '
        'or config.get_main_option("sqlalchemy.url"))\n'
        "    connectable = engine_from_config(",
    )
    project.env_py.write_text(text)

    ok(project.workbench("-x", f"db={elsewhere}", "upgrade"))

    assert agree(project, "-x", f"db={elsewhere}", "current") == "a1 (head)\n"
    assert agree(project, "current") == ""
    status = json.loads(ok(project.workbench("-x", f"db={elsewhere}", "status", "--json")).stdout)
    assert [item["url"] for item in status] == [elsewhere]

    ini = project.path / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + textwrap.dedent(
            f"""
            [other]
            script_location = %(here)s/migrations
            sqlalchemy.url = {elsewhere}
            """
        )
    )
    assert agree(project, "-n", "other", "current") == "a1 (head)\n"
    moved = project.path / "conf.ini"
    ini.rename(moved)
    assert agree(project, "-c", "conf.ini", "-n", "other", "current") == "a1 (head)\n"
    assert (
        ok(project.workbench("current", env={"ALEMBIC_CONFIG": str(moved)})).stdout
        == ok(project.alembic("current", env={"ALEMBIC_CONFIG": str(moved)})).stdout
    )


@SQLITE_ONLY
@pytest.mark.parametrize(
    "args",
    [
        (),
        ("frobnicate",),
        ("heads", "--bogus"),
        ("-c", "missing.ini", "heads"),
        ("upgrade", "nosuchrevision"),
        ("graph", "--format", "bogus"),
        ("show", "nosuchrevision"),
    ],
    ids=[
        "no-command",
        "unknown-command",
        "unknown-option",
        "missing-config",
        "bad-revision",
        "bad-choice",
        "unknown-revision",
    ],
)
def test_bad_input_is_one_error_line(make_alembic, assert_one_line_error, args):
    project = make_alembic()
    before = project.revision_files()

    result = project.workbench(*args)

    assert_one_line_error(result)
    assert project.revision_files() == before


@SQLITE_ONLY
@pytest.mark.parametrize(
    "command", [("heads",), ("history",), ("current",), ("upgrade", "head"), ("check",)]
)
def test_a_missing_parent_is_named_in_one_line(make_alembic, assert_one_line_error, command):
    project = make_alembic()
    ok(project.workbench("revision", "-m", "one", "--rev-id", "a1"))
    ok(project.workbench("revision", "-m", "two", "--rev-id", "b2"))
    (second,) = (project.migrations / "versions").glob("b2_*.py")
    second.write_text(second.read_text().replace("'a1'", "'deadbeef0000'"))

    result = project.workbench(*command)

    line = assert_one_line_error(result)  # Alembic says: a warning, then KeyError: 'deadbeef0000'
    assert "the revision history is broken" in line
    assert f"{second.name}: down_revision names 'deadbeef0000'" in line


def test_version_is_printed_anywhere_as_alembic_prints_its_own(tmp_path):
    from workbench.version import __version__

    shown = subprocess.run(
        [sys.executable, "-m", "workbench", "--version"],
        cwd=tmp_path,  # no alembic.ini here
        capture_output=True,
        text=True,
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"python -m workbench {__version__}\n"


@SQLITE_ONLY
def test_doctor_names_the_fixes_with_the_workbench_command_never_flask(make_alembic):
    project = make_alembic()
    ok(project.alembic("revision", "-m", "first", "--rev-id", "a1"))
    ok(project.alembic("revision", "-m", "left", "--rev-id", "b2", "--head", "a1"))
    ok(project.alembic("revision", "-m", "right", "--rev-id", "c3", "--head", "a1", "--splice"))
    script = Path(sys.executable).parent / "workbench"

    as_module = project.workbench("doctor")
    as_script = subprocess.run(
        [str(script), "doctor"],
        cwd=project.path,
        env=project.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    for result, program in ((as_module, "python -m workbench"), (as_script, "workbench")):
        assert result.returncode == 1, result.stderr
        assert f'  fix: {program} merge heads -m "merge heads"\n' in result.stdout
        assert f"  or:  {program} linearize b2 --onto c3\n" in result.stdout
        assert f"  fix: {program} edit a1\n" in result.stdout
        assert f"  fix: {program} upgrade heads\n" in result.stdout
        assert "flask" not in result.stdout + result.stderr


def tree(folder: Path) -> dict[str, str]:
    """Every file under folder, by relative path, with its text."""
    return {
        str(path.relative_to(folder)): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("template", ["generic", "pyproject"])
def test_init_makes_what_alembic_init_makes(tmp_path, template, assert_one_line_error):
    by_alembic, by_workbench = tmp_path / "alembic", tmp_path / "workbench"
    by_alembic.mkdir()
    by_workbench.mkdir()
    args = ["init", "-t", template, "migrations"]

    ok(run_alembic_in_process(by_alembic, args, os.environ))
    made = ok(run_workbench_in_process(by_workbench, args, os.environ))

    assert tree(by_workbench) == tree(by_alembic)
    assert "Please edit configuration" in made.stdout
    again = assert_one_line_error(run_workbench_in_process(by_workbench, args, os.environ))
    assert again == "Error: Directory migrations already exists and is not empty"
    unknown = run_workbench_in_process(by_workbench, ["init", "-t", "nosuch", "m2"], os.environ)
    assert assert_one_line_error(unknown).startswith("Error: No such template ")
    assert not (by_workbench / "m2").exists()


def test_a_folder_without_alembic_is_one_error_line(tmp_path, assert_one_line_error):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "workbench", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    line = assert_one_line_error(result)
    assert "alembic.ini" in line


@SQLITE_ONLY
@pytest.mark.parametrize("cache", ["0", "1"], ids=["probed", "kept"])
def test_graph_and_status_never_import_a_revision_file(make_alembic, tmp_path, cache):
    project = make_alembic()
    ok(project.workbench("revision", "-m", "one", "--rev-id", "a1"))
    revision = project.migrations / "versions" / "a1_one.py"
    marker = project.path / IMPORT_MARKER
    revision.write_text(f"open({str(marker)!r}, 'w').close()\n" + revision.read_text())
    env = {"WORKBENCH_PROJECT_CACHE": cache, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    for _ in range(2):
        assert "a1" in ok(project.workbench("graph", env=env)).stdout
        assert "1 revision to apply" in project.workbench("status", env=env).stdout
    assert not marker.exists()

    ok(project.alembic("heads"))
    assert marker.exists()


@SQLITE_ONLY
def test_graph_and_status_import_no_flask_sqlalchemy_alembic_or_textual(make_alembic, tmp_path):
    project = make_alembic()
    ok(project.workbench("revision", "-m", "one", "--rev-id", "a1"))
    env = {"WORKBENCH_PROJECT_CACHE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    ok(project.workbench("graph", env=env))  # learns the database once, in a child

    for command in ("graph", "status"):
        result = project.run("-X", "importtime", "-m", "workbench", command, env=env)
        loaded = {
            line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "imported package" not in line
        }
        assert "workbench" in loaded, result.stderr[-500:]
        assert not loaded & {"flask", "sqlalchemy", "alembic", "textual"}, command
        families = {
            line.rsplit("|", 1)[1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:")
        } & {
            "workbench.cli.verbs",
            "workbench.cli.branches",
            "workbench.cli.review",
            "workbench.cli.squash",
        }
        assert not families, command


def test_the_workbench_command_takes_every_family_command_but_flask_init_and_templates():
    from workbench.cli import alembic_group, branches, inspection, review, squash, verbs

    listed = [name for _, names in alembic_group.FAMILIES for name in names]
    families = (
        *inspection.COMMANDS,
        *verbs.COMMANDS,
        *branches.COMMANDS,
        *review.COMMANDS,
        *squash.COMMANDS,
    )

    assert sorted(listed) == sorted(
        command.name for command in families if command.name not in ("init", "list-templates")
    )


@SQLITE_ONLY
@pytest.mark.parametrize("template", ["generic", "async", "multidb"])
def test_verify_runs_env_py_on_scratch_databases_only(make_alembic, template):
    project = make_alembic(template)
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    files = [url.split(":///", 1)[1] for url in project.urls.values()]
    for path in files:
        Path(path).unlink(missing_ok=True)

    result = ok(project.workbench("verify"))

    assert "PASS models-match" in result.stdout
    assert "Ran on scratch databases, now dropped" in result.stdout
    assert not [path for path in files if Path(path).exists()]


@SQLITE_ONLY
def test_squash_collapses_the_history_into_a_proven_baseline(make_alembic):
    project = make_alembic()
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    ok(project.workbench("revision", "-m", "empty", "--rev-id", "b2"))
    ok(project.workbench("upgrade"))

    result = ok(project.workbench("squash", "b2", "--yes"))

    assert "Proof passed (default)" in result.stdout
    assert project.revision_files() == {"b2_empty.py"}
    assert agree(project, "heads") == "b2 (head)\n"
    assert agree(project, "current") == "b2 (head)\n"
    database = Path(project.url.split(":///", 1)[1])
    database.unlink()
    ok(project.alembic("upgrade", "head"))
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "user"} <= tables


@pytest.mark.parametrize("backend", ["mysql"])
def test_squash_and_verify_work_on_an_async_server_project(make_alembic):
    project = make_alembic("async")
    ok(project.workbench("revision", "--autogenerate", "-m", "users", "--rev-id", "a1"))
    ok(project.workbench("revision", "-m", "empty", "--rev-id", "b2"))
    ok(project.workbench("upgrade"))

    assert "PASS models-match" in ok(project.workbench("verify")).stdout
    result = ok(project.workbench("squash", "b2", "--yes"))

    assert "Proof passed (default)" in result.stdout
    assert project.revision_files() == {"b2_empty.py"}
    assert agree(project, "current") == "b2 (head)\n"
