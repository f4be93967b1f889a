"""Drop-in: Flask-Migrate's migrations folders and apps keep working beside (and under) ours."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
from flask_projects import flask_migrate_init
from sample_models import MULTIDB_MODELS, POST_MODEL

pytestmark = pytest.mark.flask_in_process
REAL_CHILD_ON_SQLITE = pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", marks=pytest.mark.flask_subprocess),
        pytest.param("postgresql", marks=pytest.mark.servers),
        pytest.param("mysql", marks=pytest.mark.servers),
    ],
)
"""Real ``flask`` children on SQLite; in process on the servers."""

FLASK_MIGRATE_TEMPLATES = Path(flask_migrate.__file__).parent / "templates"

OWN_DB_GROUP = """\
import click


@app.cli.group("db")
def own_db():
    \"\"\"The app's own database helpers.\"\"\"


@own_db.command("seed")
def seed():
    click.echo("seeded by the app's own db command")
"""


def switch_to_workbench(project) -> None:
    app_py = project.path / "app.py"
    source = app_py.read_text()
    assert "from flask_migrate import Migrate" in source
    app_py.write_text(
        source.replace("from flask_migrate import Migrate", "from workbench import Migrate")
    )


def flask_migrate_folder(project, *, multidb: bool = False) -> None:
    """Create the migrations folder with Flask-Migrate's own ``init``."""
    flask_migrate_init(project, multidb)
    template = "flask-multidb" if multidb else "flask"
    assert (project.migrations / "env.py").read_text() == (
        FLASK_MIGRATE_TEMPLATES / template / "env.py"
    ).read_text()


def folder_contents(project) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in project.migrations.iterdir() if path.is_file()}


def test_flask_migrate_folder_driven_by_workbench(make_project):
    project = make_project(extension="flask_migrate")
    flask_migrate_folder(project)
    switch_to_workbench(project)
    before = folder_contents(project)

    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    assert "user" in project.state().tables
    assert project.state().versions == {"aaaa0001"}

    project.add_model(POST_MODEL)
    migrated = project.db("migrate", "-m", "add post", "--rev-id", "bbbb0002")
    assert "Detected added table 'post'" in migrated.stderr
    project.db("upgrade")
    assert "post" in project.state().tables
    assert project.state().versions == {"bbbb0002"}
    project.db("check")

    project.db("downgrade")
    assert "post" not in project.state().tables
    assert project.state().versions == {"aaaa0001"}
    project.db("stamp", "bbbb0002")
    assert project.state().versions == {"bbbb0002"}
    project.db("stamp", "base")
    assert project.state().versions == frozenset()
    assert project.db("current").stdout.strip() == ""

    assert folder_contents(project) == before


def test_flask_migrate_multidb_folder_driven_by_workbench(make_project):
    project = make_project(extension="flask_migrate", binds=["users"], models=MULTIDB_MODELS)
    flask_migrate_folder(project, multidb=True)
    switch_to_workbench(project)
    before = folder_contents(project)

    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    project.db("upgrade")
    default, users = project.state(), project.state("users")
    assert "post" in default.tables
    assert "user" in users.tables
    assert default.versions == users.versions == {"aaaa0001"}

    project.db("downgrade")
    default, users = project.state(), project.state("users")
    assert "post" not in default.tables
    assert "user" not in users.tables
    assert default.versions == users.versions == frozenset()
    project.db("stamp", "head")
    assert project.state().versions == project.state("users").versions == {"aaaa0001"}

    assert folder_contents(project) == before


@REAL_CHILD_ON_SQLITE
def test_app_still_on_flask_migrate_keeps_working(make_project):
    project = make_project(extension="flask_migrate")
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    assert "user" in project.state().tables
    assert project.state().versions == {"aaaa0001"}
    assert project.db("current").stdout.split() == ["aaaa0001", "(head)"]
    project.db("downgrade")
    assert "user" not in project.state().tables
    assert project.state().versions == frozenset()

    assert "aaaa0001" in project.db("graph").stdout
    assert (
        "empty  1 pending  no tables yet; 1 revision to apply"
        in project.db("status", expect=1).stdout
    )
    assert "--read-only" in project.db("tui", "--help").stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_workbench_app_gets_the_workbench_group(make_project):
    project = make_project()
    shown = project.python(
        """\
        from app import app

        group = app.cli.commands["db"]
        print(type(group).__module__, group.callback.__module__)
        """
    )
    modules = shown.stdout.split()
    assert all(module.startswith("workbench") for module in modules), shown.stdout


def test_app_with_its_own_db_command(make_project):
    project = make_project(migrate_kwargs={"command": "database"}, app_code=OWN_DB_GROUP)

    own = project.flask("db", "seed")
    assert own.stdout == "seeded by the app's own db command\n"
    assert "seed" in project.flask("db", "--help").stdout

    project.flask("database", "init")
    project.flask("database", "migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.flask("database", "upgrade")
    assert "user" in project.state().tables
    assert project.state().versions == {"aaaa0001"}
