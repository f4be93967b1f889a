"""Creating migrations folders: list-templates and init with every template and option."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sample_models import MULTIDB_MODELS

import workbench

pytestmark = pytest.mark.flask_in_process

SYNOPSES = {
    "aioflask": "Single-database configuration for aioflask.",
    "aioflask-multidb": "Multi-database configuration for aioflask.",
    "flask": "Single-database configuration for Flask.",
    "flask-multidb": "Multi-database configuration for Flask.",
}


@pytest.mark.flask_subprocess
@pytest.mark.parametrize("backend", ["sqlite"])
def test_list_templates(make_project):
    project = make_project()
    listing = project.db("list-templates")
    lines = [line for line in listing.stdout.splitlines() if line.strip()]
    assert lines == [
        "Available templates:",
        *(f"{name} - {synopsis}" for name, synopsis in SYNOPSES.items()),
    ]
    assert listing.stderr == ""


@pytest.mark.parametrize("template", ["flask", "aioflask"])
def test_single_database_templates(make_project, template):
    project = make_project()
    project.db("init", "-t", template)
    readme = (project.migrations / "README").read_text()
    assert readme.splitlines()[0] == SYNOPSES[template]

    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    assert "user" in project.state().tables
    assert project.state().versions == {"aaaa0001"}
    project.db("downgrade")
    assert project.state().tables == {"alembic_version"}
    assert project.state().versions == frozenset()


@pytest.mark.parametrize("template", ["flask-multidb", "aioflask-multidb"])
def test_multi_database_templates(make_project, template):
    project = make_project(binds=["users"], models=MULTIDB_MODELS)
    project.db("init", "--template", template)
    readme = (project.migrations / "README").read_text()
    assert readme.splitlines()[0] == SYNOPSES[template]

    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    project.db("upgrade")
    assert "post" in project.state().tables
    assert "user" in project.state("users").tables
    assert project.state().versions == project.state("users").versions == {"aaaa0001"}
    project.db("downgrade")
    assert project.state().tables == project.state("users").tables == {"alembic_version"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_init_options(make_project, tmp_path):
    project = make_project()

    project.db("init", "--package")
    assert (project.migrations / "__init__.py").is_file()
    assert (project.migrations / "versions" / "__init__.py").is_file()
    before = project.snapshot()
    (refused,) = project.db_errors(["init"])
    assert "migrations" in refused.stderr
    assert project.snapshot() == before

    project.db("init", "-d", "multi", "--multidb")
    readme = (project.path / "multi" / "README").read_text()
    assert readme.splitlines()[0] == SYNOPSES["flask-multidb"]

    own_templates = tmp_path / "own_templates"
    shutil.copytree(Path(workbench.__file__).parent / "templates" / "flask", own_templates / "mine")
    (own_templates / "mine" / "README").write_text("My own template.\n")
    project.db("init", "-d", "custom", "-t", str(own_templates / "mine"))
    assert (project.path / "custom" / "README").read_text() == "My own template.\n"
    assert (project.path / "custom" / "env.py").is_file()
