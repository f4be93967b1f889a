"""Shared fixtures: scratch databases on every backend, temporary Flask projects, `flask` runs.

Every scenario runs against real parts: SQLite files, a PostgreSQL and a MariaDB server named by
``WORKBENCH_TEST_POSTGRES_URL`` / ``WORKBENCH_TEST_MYSQL_URL``, and real ``flask`` subprocesses.
A module or test marked ``flask_in_process`` runs its projects' ``flask`` commands inside the
test process instead (``flask_in_process.py``: same environment, folder, streams and exit
status), unless the test is marked ``flask_subprocess``; ``WORKBENCH_TEST_FLASK_SUBPROCESS=1``
sends every run to a real child again.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask_in_process import marked_in_process
from flask_projects import (
    BACKENDS,
    DEFAULT_MODELS,
    Project,
    ProjectFactory,
    ScratchDatabases,
    assert_one_line_error,
    close_server_databases,
    run_flask,
    write_app,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests marked ``long`` first, the rest in their order.

    Workers take the tests in order (and steal from each other's queues): a long test left
    for the end of a queue would run alone while the other workers wait for it.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session", autouse=True)
def server_databases_dropped() -> Iterator[None]:
    """At the end of the session, drop the server databases still made or not yet dropped."""
    yield
    close_server_databases()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a scenario runs on."""
    return request.param


@pytest.fixture
def scratch_databases(backend: str, tmp_path: Path) -> Iterator[ScratchDatabases]:
    """A source of fresh databases on the test's backend, dropped once the test ends."""
    databases = ScratchDatabases(backend, tmp_path)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def database_url(scratch_databases: ScratchDatabases) -> str:
    """The URL of a fresh, empty database on the test's backend."""
    return scratch_databases.new()


@pytest.fixture
def make_project(
    scratch_databases: ScratchDatabases, tmp_path: Path, request: pytest.FixtureRequest
) -> ProjectFactory:
    """Write a Flask project on fresh databases of the test's backend.

    Arguments: ``binds`` (bind names, each on its own fresh database), ``extension``
    ("workbench" or "flask_migrate"), ``migrate_kwargs`` (passed to ``Migrate``), ``app_code``
    (source appended to app.py after ``migrate`` exists: configure callbacks, commands),
    ``models`` (models.py source), ``factory`` (use ``Migrate().init_app``), ``database_url``.
    In a test or module marked ``flask_in_process``, the project's ``flask`` runs happen inside
    the test process (``Project.in_process``), except in a test marked ``flask_subprocess``.
    """
    count = 0
    in_process = marked_in_process(request.node)

    def make(
        *,
        binds: Sequence[str] = (),
        extension: str = "workbench",
        migrate_kwargs: Mapping[str, Any] | None = None,
        app_code: str = "",
        models: str = DEFAULT_MODELS,
        factory: bool = False,
        database_url: str | None = None,
    ) -> Project:
        nonlocal count
        count += 1
        folder = tmp_path / f"project{count}"
        folder.mkdir()
        migrate_kwargs = dict(migrate_kwargs or {})
        url = database_url or scratch_databases.new()
        bind_urls = {name: scratch_databases.new() for name in binds}
        write_app(
            folder,
            url,
            bind_urls,
            extension=extension,
            migrate_kwargs=migrate_kwargs,
            app_code=app_code,
            factory=factory,
        )
        project = Project(
            path=folder,
            database_url=url,
            binds=bind_urls,
            command=migrate_kwargs.get("command", "db"),
            directory=str(migrate_kwargs.get("directory", "migrations")),
            version_table=migrate_kwargs.get("version_table", "alembic_version"),
            in_process=in_process,
        )
        project.write_models(models)
        return project

    return make


@pytest.fixture(name="run_flask")
def run_flask_fixture(
    request: pytest.FixtureRequest,
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_flask(project, *args, env=None, input=None)``; in process when the test is marked."""
    return functools.partial(run_flask, in_process=marked_in_process(request.node))


@pytest.fixture(name="assert_one_line_error")
def assert_one_line_error_fixture() -> Callable[[subprocess.CompletedProcess[str]], str]:
    """``assert_one_line_error(result)``: exit 1, one ``Error: ...`` line, no traceback."""
    return assert_one_line_error
