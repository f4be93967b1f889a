"""Bad input: one `Error: ...` line on stderr, exit 1, no traceback, nothing written, no secrets."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sample_models import POST_MODEL
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.flask_in_process

PASSWORD = "s3cr3t-pw"

BROKEN_REVISION = """\
revision = "ffff0009"
down_revision = "aaaa0001"


def upgrade(:
    pass
"""


def assert_no_password(*results) -> None:
    for result in results:
        assert PASSWORD not in result.stdout, result.stdout
        assert PASSWORD not in result.stderr, result.stderr


def test_no_app_found(tmp_path, run_flask, assert_one_line_error):
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["db", "upgrade"], ["db", "heads"]):
        result = run_flask(empty, *command, env={"FLASK_APP": None})
        line = assert_one_line_error(result)
        assert line.startswith("Error: Could not locate a Flask application")
        assert result.stdout == ""
    assert list(empty.iterdir()) == []


@pytest.mark.flask_subprocess
@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_migrations_folder(make_project):
    project = make_project()
    before = project.snapshot()
    for result in project.db_errors(
        ["upgrade"], ["migrate", "-m", "x"], ["heads"], ["current"], ["stamp", "head"]
    ):
        assert "migrations" in result.stderr
    assert not project.migrations.exists()
    assert project.snapshot() == before


def test_revision_file_with_a_syntax_error(make_project):
    project = make_project()
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    project.add_model(POST_MODEL)
    (project.migrations / "versions" / "ffff0009_broken.py").write_text(BROKEN_REVISION)
    before = project.snapshot()

    for result in project.db_errors(
        ["upgrade"],
        ["downgrade", "base"],
        ["migrate", "-m", "add post"],
        ["check"],
        ["current"],
        ["history"],
        ["stamp", "head"],
    ):
        assert "ffff0009_broken.py" in result.stderr
    assert project.snapshot() == before


def test_unknown_revision_and_ambiguous_heads(make_project):
    project = make_project()
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    project.db("upgrade")
    before = project.snapshot()

    for result in project.db_errors(
        ["upgrade", "nosuchrev"],
        ["downgrade", "nosuchrev"],
        ["stamp", "nosuchrev"],
        ["show", "nosuchrev"],
        ["history", "-r", "nosuchrev:"],
    ):
        assert "nosuchrev" in result.stderr
    assert project.snapshot() == before

    project.db("revision", "-m", "left", "--rev-id", "bbbb0002")
    project.db("revision", "-m", "right", "--head", "aaaa0001", "--splice", "--rev-id", "cccc0003")
    before = project.snapshot()
    (ambiguous,) = project.db_errors(["upgrade"])
    assert "head" in ambiguous.stderr
    assert project.snapshot() == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sql_with_revision_and_migrate(make_project):
    project = make_project()
    project.db("init")
    project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001")
    before = project.snapshot()
    for result in project.db_errors(
        ["revision", "--sql", "-m", "x"], ["migrate", "--sql", "-m", "x"]
    ):
        assert "--sql" in result.stderr
    assert project.snapshot() == before


UNREACHABLE = [
    pytest.param(f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/test", id="postgresql"),
    pytest.param(f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:1/test", id="mysql"),
]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("unreachable_url", UNREACHABLE)
def test_unreachable_database(make_project, unreachable_url):
    project = make_project(database_url=unreachable_url)
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    before = project.revision_files()

    results = project.db_errors(
        ["upgrade"], ["current"], ["migrate", "-m", "x"], ["check"], ["stamp", "head"]
    )
    assert_no_password(*results)
    assert project.revision_files() == before


def wrong_credentials_url(backend: str, server: str) -> str:
    url = make_url(server)
    if backend == "postgresql":
        url = url.set(username="nosuchrole", password=PASSWORD)
    else:
        url = url.set(username="root", password=PASSWORD)
    return url.render_as_string(hide_password=False)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", marks=pytest.mark.servers),
        pytest.param("mysql", marks=pytest.mark.servers),
    ],
)
def test_wrong_credentials(make_project, scratch_databases, backend):
    url = wrong_credentials_url(backend, scratch_databases.new())
    project = make_project(database_url=url)
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    before = project.revision_files()

    results = project.db_errors(["upgrade"], ["current"], ["migrate", "-m", "x"])
    assert_no_password(*results)
    assert project.revision_files() == before


@pytest.fixture
def database_url_with_password(backend, scratch_databases):
    """A scratch database reached with a password: PostgreSQL trusts any, MariaDB gets a user."""
    url = make_url(scratch_databases.new())
    if backend == "postgresql":
        yield url.set(password=PASSWORD).render_as_string(hide_password=False)
        return
    user = f"wb_{secrets.token_hex(4)}"
    admin = sa.create_engine(scratch_databases.server, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{PASSWORD}'")
        connection.exec_driver_sql(f"GRANT ALL ON {url.database}.* TO '{user}'@'%%'")
    try:
        yield url.set(username=user, password=PASSWORD).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP USER '{user}'@'%%'")
        admin.dispose()


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", marks=pytest.mark.servers),
        pytest.param("mysql", marks=pytest.mark.servers),
    ],
)
def test_password_never_shown(make_project, database_url_with_password):
    project = make_project(database_url=database_url_with_password)
    results = [
        project.db("init"),
        project.db("migrate", "-m", "create user", "--rev-id", "aaaa0001"),
        project.db("upgrade"),
        project.db("history", "-v", "-i"),
        project.db("heads", "-v"),
        project.db("upgrade", "--sql", "base:head"),
        project.db("check"),
        project.db("downgrade"),
        project.db("stamp", "head"),
        *project.db_errors(["upgrade", "nosuchrev"]),
    ]
    current = project.db("current", "-v")
    assert ":***@" in current.stdout
    assert project.state().versions == {"aaaa0001"}
    assert_no_password(current, *results)
