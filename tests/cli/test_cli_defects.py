"""Flask-Migrate 4.1.0 defects we fix.

Each scenario also runs on Flask-Migrate itself (its own group, under ``flask fm``), where it must
fail: proof that the test detects the defect.
"""

from __future__ import annotations

import ast

import pytest
from sample_models import MULTIDB_MODELS

pytestmark = pytest.mark.flask_in_process

FLASK_MIGRATE_DEFECT = pytest.mark.xfail(strict=True, reason="Flask-Migrate 4.1.0's defect")


def cases(*backends: str) -> list:
    """Workbench on the given backends, plus Flask-Migrate on SQLite, expected to fail."""
    params = [
        pytest.param(
            "workbench",
            backend,
            id=f"workbench-{backend}",
            marks=[pytest.mark.servers] if backend != "sqlite" else [],
        )
        for backend in backends
    ]
    params.append(
        pytest.param(
            "flask_migrate", "sqlite", id="flask_migrate-sqlite", marks=FLASK_MIGRATE_DEFECT
        )
    )
    return params


ALL_BACKENDS = cases("sqlite", "postgresql", "mysql")


@pytest.fixture
def make_project_for(make_project):
    """A project on Workbench (group ``db``) or on Flask-Migrate (group ``fm``)."""

    def make(extension: str, **kwargs):
        migrate_kwargs = dict(kwargs.pop("migrate_kwargs", {}))
        if extension == "flask_migrate":
            migrate_kwargs["command"] = "fm"
        return make_project(extension=extension, migrate_kwargs=migrate_kwargs, **kwargs)

    return make


@pytest.mark.parametrize(("extension", "backend"), cases("sqlite"))
def test_group_x_argument_reaches_env_py_once(make_project_for, extension):
    project = make_project_for(extension)
    project.db("init")
    project.instrument_env()
    project.db("migrate", "-m", "create user")

    upgraded = project.db("-x", "a=1", "upgrade")
    x_args = [
        ast.literal_eval(line.removeprefix("x-args: "))
        for line in upgraded.stdout.splitlines()
        if line.startswith("x-args: ")
    ]
    assert x_args == [["a=1"]]


UPGRADE_THEN_MIGRATE = """\
import {module}
from app import app

with app.app_context():
    {module}.upgrade()
    {module}.migrate(message="nothing changed")
"""


@pytest.mark.parametrize(("extension", "backend"), ALL_BACKENDS)
def test_migrate_after_upgrade_in_one_process_writes_no_empty_revision(make_project_for, extension):
    project = make_project_for(extension)
    project.db("init")
    project.db("migrate", "-m", "create user")
    before = project.revision_files()

    project.python(UPGRADE_THEN_MIGRATE.format(module=extension))
    assert project.revision_files() == before
    assert "user" in project.state().tables


MODULE_FUNCTION_FAILURE = """\
import {module}
from app import app

with app.app_context():
    try:
        {module}.upgrade(revision="nosuchrev")
    except BaseException as exc:
        print("raised", type(exc).__module__, type(exc).__name__)
"""


@pytest.mark.parametrize(("extension", "backend"), cases("sqlite"))
def test_module_functions_raise_instead_of_exiting(make_project_for, extension):
    project = make_project_for(extension)
    project.db("init")
    project.db("migrate", "-m", "create user")

    result = project.python(MODULE_FUNCTION_FAILURE.format(module=extension))
    assert result.stdout.strip() == "raised workbench.errors WorkbenchError"


@pytest.mark.parametrize(("extension", "backend"), ALL_BACKENDS)
def test_offline_upgrade_honours_configure_args(make_project_for, extension):
    project = make_project_for(extension, migrate_kwargs={"version_table": "wb_versions"})
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    before = project.state()

    offline = project.db("upgrade", "--sql")
    assert "wb_versions" in offline.stdout
    assert "alembic_version" not in offline.stdout
    assert project.state() == before

    project.db("upgrade")
    state = project.state()
    assert state.versions == {"aaaa0001"}
    assert "alembic_version" not in state.tables


@pytest.mark.parametrize(("extension", "backend"), ALL_BACKENDS)
def test_multidb_offline_upgrade_prints_every_database(make_project_for, extension):
    project = make_project_for(extension, binds=["users"], models=MULTIDB_MODELS)
    project.db("init", "--multidb")
    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    before = project.snapshot()

    offline = project.db("upgrade", "--sql")
    unquoted = offline.stdout.replace("`", "").replace('"', "")
    assert "CREATE TABLE post" in unquoted
    assert "CREATE TABLE user" in unquoted
    assert (
        offline.stdout.count("INSERT INTO alembic_version (version_num) VALUES ('aaaa0001')") == 2
    )
    assert not list(project.path.rglob("*.sql"))
    assert project.snapshot() == before
