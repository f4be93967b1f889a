"""One database, the everyday commands, on every backend: what a project goes through."""

from __future__ import annotations

import pytest
from sample_models import POST_MODEL

pytestmark = pytest.mark.flask_in_process
REAL_CHILD_ON_SQLITE = pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", marks=[pytest.mark.flask_subprocess, pytest.mark.long]),
        pytest.param("postgresql", marks=pytest.mark.servers),
        pytest.param("mysql", marks=pytest.mark.servers),
    ],
)
"""Real ``flask`` children on SQLite; in process on the servers."""


@REAL_CHILD_ON_SQLITE
def test_init_migrate_upgrade_check_downgrade(make_project):
    project = make_project()

    init = project.db("init")
    assert "Creating directory" in init.stdout
    assert {"alembic.ini", "env.py", "script.py.mako", "README"} <= {
        path.name for path in project.migrations.iterdir()
    }
    assert (project.migrations / "versions").is_dir()
    assert project.state().tables == frozenset()

    first = project.db("migrate", "-m", "create user")
    assert "Detected added table 'user'" in first.stderr
    assert "Detected added table" not in first.stdout
    assert "Generating" in first.stdout
    (first_file,) = project.revision_files()
    first_rev = first_file.split("_")[0]
    assert first_file == f"{first_rev}_create_user.py"
    assert "user" not in project.state().tables

    upgrade = project.db("upgrade")
    assert f"Running upgrade  -> {first_rev}, create user" in upgrade.stderr
    assert "Running upgrade" not in upgrade.stdout
    state = project.state()
    assert {"user", "alembic_version"} <= state.tables
    assert state.versions == {first_rev}

    check = project.db("check")
    assert "No new upgrade operations detected." in check.stdout

    project.add_model(POST_MODEL)
    pending = project.db("check", expect=1)
    assert "New upgrade operations detected" in pending.stderr
    assert project.revision_files() == {first_file}

    project.db("migrate", "-m", "add post", "--rev-id", "bbbb0002")
    assert project.revision_files() == {first_file, "bbbb0002_add_post.py"}

    offline = project.db("upgrade", "--sql", f"{first_rev}:head")
    assert "CREATE TABLE post" in offline.stdout
    assert "UPDATE alembic_version SET version_num='bbbb0002'" in offline.stdout
    assert "CREATE TABLE post" not in offline.stderr
    assert project.state() == state

    step_up = project.db("upgrade", "+1")
    assert f"Running upgrade {first_rev} -> bbbb0002, add post" in step_up.stderr
    state = project.state()
    assert "post" in state.tables
    assert state.versions == {"bbbb0002"}
    project.db("check")

    offline_down = project.db("downgrade", "--sql")
    assert "DROP TABLE post" in offline_down.stdout
    assert project.state() == state

    step_down = project.db("downgrade")
    assert f"Running downgrade bbbb0002 -> {first_rev}, add post" in step_down.stderr
    state = project.state()
    assert "post" not in state.tables
    assert "user" in state.tables
    assert state.versions == {first_rev}

    project.db("upgrade", "heads")
    assert project.state().versions == {"bbbb0002"}
    project.db("downgrade", "--", "-1")
    assert project.state().versions == {first_rev}

    project.db("downgrade", "base")
    state = project.state()
    assert state.tables == {"alembic_version"}
    assert state.versions == frozenset()

    project.db("upgrade", first_rev)
    assert project.state().versions == {first_rev}
    project.db("upgrade")
    state = project.state()
    assert {"user", "post"} <= state.tables
    assert state.versions == {"bbbb0002"}


def test_history_heads_branches_current_show(make_project):
    project = make_project()
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    project.add_model(POST_MODEL)
    project.db("migrate", "-m", "add post", "--rev-id", "bbbb0002")

    current = project.db("current")
    assert current.stdout.split() == ["aaaa0001"]
    current_verbose = project.db("current", "-v")
    assert "Current revision(s) for" in current_verbose.stdout
    assert "Rev: aaaa0001" in current_verbose.stdout
    assert "(head)" not in current_verbose.stdout

    history = project.db("history").stdout.splitlines()
    assert history == [
        "aaaa0001 -> bbbb0002 (head), add post",
        "<base> -> aaaa0001, create user",
    ]
    ranged = project.db("history", "-r", "base:aaaa0001").stdout.splitlines()
    assert ranged == ["<base> -> aaaa0001, create user"]
    verbose_history = project.db("history", "--verbose").stdout
    assert "Rev: bbbb0002 (head)" in verbose_history
    assert "Parent: aaaa0001" in verbose_history
    assert "Revision ID: aaaa0001" in verbose_history
    indicated = project.db("history", "-i").stdout.splitlines()
    assert indicated == [
        "aaaa0001 -> bbbb0002 (head), add post",
        "<base> -> aaaa0001 (current), create user",
    ]

    assert project.db("heads").stdout.splitlines() == ["bbbb0002 (head)"]
    heads_verbose = project.db("heads", "-v").stdout
    assert "Rev: bbbb0002 (head)" in heads_verbose
    assert "Parent: aaaa0001" in heads_verbose
    resolved = project.db("heads", "--resolve-dependencies").stdout.splitlines()
    assert resolved == ["bbbb0002 (head)"]

    assert project.db("branches").stdout.strip() == ""
    assert project.db("branches", "-v").stdout.strip() == ""

    show_head = project.db("show").stdout
    assert "Rev: bbbb0002 (head)" in show_head
    assert "Revision ID: bbbb0002" in show_head
    show_first = project.db("show", "aaaa0001").stdout
    assert "Rev: aaaa0001" in show_first
    assert "create user" in show_first


def test_stamp_sql_tag_and_purge(make_project):
    project = make_project()
    project.db("init")
    project.instrument_env()
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    before = project.state()
    assert "user" not in before.tables
    assert not before.versions

    offline = project.db("stamp", "--sql", "head")
    assert "INSERT INTO alembic_version (version_num) VALUES ('aaaa0001')" in offline.stdout
    assert project.state() == before

    tagged = project.db("stamp", "--tag", "adopt-existing", "head")
    assert tagged.stdout.count("tag: 'adopt-existing'") == 1
    state = project.state()
    assert state.tables == {"alembic_version"}
    assert state.versions == {"aaaa0001"}

    project.db("stamp", "base")
    assert project.state().versions == frozenset()
    project.db("stamp", "aaaa0001")
    assert project.state().versions == {"aaaa0001"}

    with project.connect() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'deadbeef0000'")
    (unknown,) = project.db_errors(["stamp", "aaaa0001"])
    assert "deadbeef0000" in unknown.stderr
    assert project.state().versions == {"deadbeef0000"}

    project.db("stamp", "--purge", "aaaa0001")
    state = project.state()
    assert state.versions == {"aaaa0001"}
    assert "user" not in state.tables
