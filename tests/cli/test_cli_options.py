"""Where the commands look and what they pass on: folders, group names, -x, --tag, FLASK_DB_*."""

from __future__ import annotations

import ast

import pytest
from sample_models import NICKNAME_COLUMN

pytestmark = pytest.mark.flask_in_process


def printed(stdout: str, label: str) -> list:
    """The values env.py printed after ``label:`` (see ``Project.instrument_env``), one per run."""
    prefix = f"{label}: "
    return [
        ast.literal_eval(line[len(prefix) :])
        for line in stdout.splitlines()
        if line.startswith(prefix)
    ]


def test_custom_directory_and_command_name(make_project):
    project = make_project(migrate_kwargs={"command": "database", "directory": "custom_dir"})

    project.flask("database", "init")
    assert (project.path / "custom_dir" / "env.py").is_file()
    assert not (project.path / "migrations").exists()
    project.flask("database", "migrate", "-m", "create user")
    project.flask("database", "upgrade")
    state = project.state()
    assert "user" in state.tables
    assert len(state.versions) == 1
    assert project.flask("database", "heads").stdout.split()[0] in state.versions

    project.flask("database", "stamp", "base")
    assert project.state().versions == frozenset()

    elsewhere = project.flask(
        "database", "heads", env={"FLASK_DATABASE_DIRECTORY": "nowhere"}, expect=1
    )
    assert "nowhere" in elsewhere.stderr


@pytest.mark.flask_subprocess
@pytest.mark.parametrize("backend", ["sqlite"])
def test_directory_options_and_environment_variables(make_project):
    project = make_project()

    project.db("init", "-d", "alt")
    assert (project.path / "alt" / "env.py").is_file()
    assert not (project.path / "migrations").exists()
    project.db("-d", "alt", "migrate", "-m", "create user", "--rev-id", "aaaa0001")
    assert {path.name for path in (project.path / "alt" / "versions").iterdir()} == {
        "aaaa0001_create_user.py"
    }

    project.db("upgrade", env={"FLASK_DB_DIRECTORY": "alt"})
    assert project.state().versions == {"aaaa0001"}
    project.db("downgrade", "-d", "alt")
    assert project.state().versions == frozenset()
    project.db("upgrade", env={"FLASK_DB_UPGRADE_DIRECTORY": "alt"})
    assert project.state().versions == {"aaaa0001"}

    missing = project.db("heads", expect=1)
    assert "migrations" in missing.stderr
    assert project.db("heads", env={"FLASK_DB_DIRECTORY": "alt"}).stdout.split() == [
        "aaaa0001",
        "(head)",
    ]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_x_arguments_and_tags_reach_env_py_once(make_project):
    project = make_project()
    project.db("init")
    project.instrument_env()

    migrated = project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001", "-x", "m=1")
    assert printed(migrated.stdout, "x-args") == [["m=1"]]

    upgraded = project.db("upgrade", "-x", "a=1", "-x", "b=2", "--tag", "release-1")
    assert printed(upgraded.stdout, "x-args") == [["a=1", "b=2"]]
    assert printed(upgraded.stdout, "tag") == ["release-1"]
    assert project.state().versions == {"aaaa0001"}

    downgraded = project.db("downgrade", "-x", "c=3", "--tag", "rollback")
    assert printed(downgraded.stdout, "x-args") == [["c=3"]]
    assert printed(downgraded.stdout, "tag") == ["rollback"]
    assert project.state().versions == frozenset()

    from_environment = project.db(
        "upgrade", env={"FLASK_DB_X_ARG": "e=5 f=6", "FLASK_DB_UPGRADE_TAG": "from-env"}
    )
    assert printed(from_environment.stdout, "x-args") == [["e=5", "f=6"]]
    assert printed(from_environment.stdout, "tag") == ["from-env"]

    offline = project.db("downgrade", "--sql", "-x", "s=1", "--tag", "offline", "aaaa0001:base")
    assert printed(offline.stdout, "x-args") == [["s=1"]]
    assert printed(offline.stdout, "tag") == ["offline"]

    stamped = project.db("stamp", "--tag", "stamped", "base")
    assert printed(stamped.stdout, "tag") == ["stamped"]
    assert project.state().versions == frozenset()

    both_levels = project.db("-x", "g=1", "upgrade", "-x", "s=2", "--sql", "base:aaaa0001")
    assert printed(both_levels.stdout, "x-args") == [["g=1", "s=2"]]
    group_only = project.db("-x", "g=1", "current")
    assert printed(group_only.stdout, "x-args") == [["g=1"]]


def test_migrate_kwargs_reach_autogenerate(make_project):
    batch = make_project()
    plain = make_project(migrate_kwargs={"render_as_batch": False}, factory=True)
    for project in (batch, plain):
        project.db("init")
        project.db("migrate", "-m", "create user")
        project.db("upgrade")
        project.write_models(NICKNAME_COLUMN)
        project.db("migrate", "-m", "add nickname", "--rev-id", "bbbb0002")
        project.db("upgrade")
        assert project.state().versions == {"bbbb0002"}

    batch_script = (batch.migrations / "versions" / "bbbb0002_add_nickname.py").read_text()
    plain_script = (plain.migrations / "versions" / "bbbb0002_add_nickname.py").read_text()
    assert "with op.batch_alter_table('user'" in batch_script
    assert "batch_alter_table" not in plain_script
    assert "op.add_column('user'" in plain_script
