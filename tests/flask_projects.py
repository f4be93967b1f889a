"""Test projects on every backend: scratch databases, Flask projects on disk, `flask` runs.

Shared by the fixtures in ``conftest.py`` and imported by name from the tests that need them, so
that a test never imports a ``conftest`` module (which one it gets depends on collection order).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_in_process import run_flask_in_process
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

SERVER_URL_VARIABLES = {
    "postgresql": "WORKBENCH_TEST_POSTGRES_URL",
    "mysql": "WORKBENCH_TEST_MYSQL_URL",
}
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.servers),
    pytest.param("mysql", id="mysql", marks=pytest.mark.servers),
]
FLASK_TIMEOUT_SECONDS = 120
FORCE_SUBPROCESS_VARIABLE = "WORKBENCH_TEST_FLASK_SUBPROCESS"

DEFAULT_MODELS = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64))
"""


def server_url(backend: str) -> URL:
    """The URL of the test server for a backend; skips (or fails on CI) when it is not given."""
    variable = SERVER_URL_VARIABLES[backend]
    value = os.environ.get(variable)
    if not value:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{variable} must be set when CI=true", pytrace=False)
        pytest.skip(f"{variable} not set")
    return make_url(value)


def url_string(url: URL) -> str:
    """A URL as a string a project can use, password included."""
    return url.render_as_string(hide_password=False)


def harness_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """An engine for the suite's own reads and writes (never the product's), one connection each.

    PyMySQL builds an SSL context for every connection it opens without SSL options (its
    PREFERRED mode), loading the system's certificates: about 20 ms of CPU, unused when the
    server has no TLS. The suite's own connections ask for no TLS, so they skip that.
    """
    connect_args = {"ssl_disabled": True} if make_url(url).get_driver_name() == "pymysql" else {}
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args, **kwargs)


def _admin_engine(url: URL) -> sa.Engine:
    return harness_engine(url, isolation_level="AUTOCOMMIT")


READY_DATABASES = 2
"""How many new, empty databases each server keeps made ahead for this process's next tests."""


class ServerDatabases:
    """New databases on one server for this test process: made ahead and dropped behind.

    Making a PostgreSQL database takes a tenth of a second or more and dropping one forces a
    checkpoint; a thread of its own does both while the tests run, so a test neither waits
    for its databases nor for their removal. Each database is made from the server's template
    for one test alone and dropped after it; the ones made ahead and never used are dropped at
    ``close``. PostgreSQL 15+ copies the template's files (``STRATEGY FILE_COPY``): its default,
    WAL_LOG, dirties every page of the copy in shared buffers for the next checkpoint to write.
    """

    def __init__(self, backend: str, server: URL) -> None:
        self.backend = backend
        self.server = server
        self._engine = _admin_engine(server)
        self._create_options = self._create_options_of_the_server()
        self._ready: list[str] = []
        self._to_drop: list[str] = []
        self._failures: list[str] = []
        self._making_ahead = True
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(
            target=self._work, name=f"{backend} scratch databases", daemon=True
        )
        self._thread.start()

    def take(self) -> str:
        """The name of a new, empty database for the caller alone."""
        with self._changed:
            name = self._ready.pop(0) if self._ready else None
            self._changed.notify()
        return name or self._create()

    def drop_later(self, names: Sequence[str]) -> None:
        """Drop these databases (ending their connections first) on the thread."""
        with self._changed:
            self._to_drop.extend(names)
            self._changed.notify()

    def close(self) -> list[str]:
        """Drop every database left, wait for the thread; the drops and makes that failed."""
        with self._changed:
            self._closing = True
            self._to_drop.extend(self._ready)
            self._ready.clear()
            self._changed.notify()
        self._thread.join()
        self._engine.dispose()
        return self._failures

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._to_drop and not self._wants_one_more():
                    if self._closing:
                        return
                    self._changed.wait()
                dropping = self._to_drop.pop(0) if self._to_drop else None
            if dropping is not None:
                self._attempt(f"drop {dropping}", self._drop, dropping)
                continue
            made = self._attempt("make a database ahead", self._create)
            with self._changed:
                if made is None:
                    self._making_ahead = False
                elif self._closing:
                    self._to_drop.append(made)
                else:
                    self._ready.append(made)

    def _wants_one_more(self) -> bool:
        return self._making_ahead and not self._closing and len(self._ready) < READY_DATABASES

    def _attempt(self, what: str, action: Callable[..., Any], *args: Any) -> Any:
        try:
            return action(*args)
        except Exception as exc:
            self._failures.append(f"{self.backend}: cannot {what}: {exc}")
            return None

    def _create_options_of_the_server(self) -> str:
        if self.backend != "postgresql":
            return ""
        with self._engine.connect() as connection:
            version = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
        return " STRATEGY FILE_COPY" if version >= 150000 else ""

    def _create(self) -> str:
        name = f"wb_{secrets.token_hex(6)}"
        with self._engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}{self._create_options}")
        return name

    def _drop(self, name: str) -> None:
        with self._engine.connect() as connection:
            if self.backend == "postgresql":
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")


_SERVERS: dict[str, ServerDatabases] = {}
_SERVERS_LOCK = threading.Lock()


def server_databases(backend: str, server: URL) -> ServerDatabases:
    """This process's ``ServerDatabases`` of a server, started at the first call."""
    key = url_string(server)
    with _SERVERS_LOCK:
        if key not in _SERVERS:
            _SERVERS[key] = ServerDatabases(backend, server)
        return _SERVERS[key]


def close_server_databases() -> None:
    """Drop every database the servers still hold for this process; fail if a drop failed."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    failures = [failure for server in servers for failure in server.close()]
    assert not failures, "\n".join(failures)


class ScratchDatabases:
    """Fresh, empty databases for one test on one backend; all dropped once the test ends."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.server = None if backend == "sqlite" else server_url(backend)
        self.created: list[str] = []

    def new(self) -> str:
        """The URL of a new empty database."""
        if self.server is None:
            return f"sqlite:///{self.folder / f'wb_{secrets.token_hex(6)}.sqlite'}"
        name = server_databases(self.backend, self.server).take()
        self.created.append(name)
        return url_string(self.server.set(database=name))

    def drop_all(self) -> None:
        """Drop every database this object created (behind the tests, on the server's thread)."""
        if self.server is None or not self.created:
            return
        server_databases(self.backend, self.server).drop_later(self.created)
        self.created = []


@dataclass(frozen=True)
class DatabaseState:
    """What a database holds, as far as migrations are concerned."""

    tables: frozenset[str]
    versions: frozenset[str] | None
    """The rows of the version table, or None when there is no version table."""


def database_state(url: str, version_table: str = "alembic_version") -> DatabaseState:
    """Read the tables and the version rows of a database with a fresh connection."""
    engine = harness_engine(url)
    try:
        with engine.connect() as connection:
            tables = frozenset(sa.inspect(connection).get_table_names())
            versions = None
            if version_table in tables:
                rows = connection.execute(
                    sa.text(f"SELECT version_num FROM {version_table}")
                ).scalars()
                versions = frozenset(rows)
            return DatabaseState(tables, versions)
    finally:
        engine.dispose()


def flask_environment(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment of a `flask` child: ours without FLASK_* and editors, plus ``extra``.

    A value of None in ``extra`` removes that variable.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("FLASK_") and name not in ("EDITOR", "VISUAL")
    }
    environment["FLASK_APP"] = "app"
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    for name, value in (extra or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def run_flask(
    project: Project | Path,
    *args: str,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
    python_options: Sequence[str] = (),
    in_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``python [python_options] -m flask *args`` in a project folder with FLASK_APP=app.

    ``in_process`` runs it inside this process instead (see ``flask_in_process``), unless the
    run needs a real interpreter: interpreter options, a ``PYTHON*`` variable, or
    ``WORKBENCH_TEST_FLASK_SUBPROCESS=1`` (which sends every run to a child).
    """
    folder = project.path if isinstance(project, Project) else Path(project)
    if in_process and _can_run_in_process(env, python_options):
        return run_flask_in_process(folder, args, flask_environment(env), input)
    return subprocess.run(
        [sys.executable, *python_options, "-m", "flask", *args],
        cwd=folder,
        env=flask_environment(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=FLASK_TIMEOUT_SECONDS,
    )


def _can_run_in_process(
    env: Mapping[str, str | None] | None, python_options: Sequence[str]
) -> bool:
    """False when a run needs a fresh interpreter, or when every run is asked to use one."""
    if os.environ.get(FORCE_SUBPROCESS_VARIABLE) == "1" or python_options:
        return False
    return not any(name.startswith("PYTHON") for name in env or {})


def run_python(
    folder: Path,
    source: str,
    args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a Python script (``sys.argv[1:]`` = args) in a project folder, env as for `flask`."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        cwd=folder,
        env=flask_environment(env),
        capture_output=True,
        text=True,
        timeout=FLASK_TIMEOUT_SECONDS,
    )


def flask_migrate_init(project: Project, multidb: bool = False) -> None:
    """Make a project's migrations folder with Flask-Migrate's own ``init()``, in process.

    A scaffold app stands in for the project's, whose modules the test process does not
    import: ``init`` takes nothing from the app but the extension (defaults here, as in the
    projects that use this) and copies Flask-Migrate's template into the folder.
    """
    from flask import Flask
    from flask_migrate import Migrate, init
    from flask_sqlalchemy import SQLAlchemy

    scaffold = Flask("scaffold")
    scaffold.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    Migrate(scaffold, SQLAlchemy(scaffold))
    with scaffold.app_context():
        init(directory=str(project.migrations), multidb=multidb)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """A failed run, for assertion messages."""
    return (
        f"$ {' '.join(map(str, result.args))}\nexit {result.returncode}\n"
        f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Assert a run failed with exit 1, no traceback and one ``Error: ...`` line on stderr.

    Returns that line.
    """
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, describe(result)
    assert lines[0].startswith("Error: "), describe(result)
    return lines[0]


@dataclass
class Project:
    """A temporary Flask project (app.py + models.py) on scratch databases."""

    path: Path
    database_url: str
    binds: dict[str, str] = field(default_factory=dict)
    command: str = "db"
    directory: str = "migrations"
    version_table: str = "alembic_version"
    in_process: bool = False
    """Run ``flask`` inside the test process (the test or module is marked ``flask_in_process``)."""

    def flask(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        expect: int | None = 0,
        python_options: Sequence[str] = (),
        in_process: bool | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``flask *args`` in the project; assert its exit status unless ``expect`` is None.

        ``in_process`` overrides the project's ``in_process`` for this run (setup steps that
        are not what a test is about can always run in process).
        """
        result = run_flask(
            self,
            *args,
            env=env,
            input=input,
            python_options=python_options,
            in_process=self.in_process if in_process is None else in_process,
        )
        if expect is not None:
            assert result.returncode == expect, describe(result)
        return result

    def db(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        expect: int | None = 0,
        python_options: Sequence[str] = (),
        in_process: bool | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``flask <migration command group> *args``, like :meth:`flask`."""
        return self.flask(
            self.command,
            *args,
            env=env,
            input=input,
            expect=expect,
            python_options=python_options,
            in_process=in_process,
        )

    def db_errors(self, *commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
        """Run ``flask <group> ...`` once per command, each expected to fail with one line.

        Every command runs before the check, so a failure lists all that broke the contract.
        """
        results = [self.db(*command, expect=None) for command in commands]
        problems = []
        for result in results:
            try:
                assert_one_line_error(result)
            except AssertionError as problem:
                problems.append(str(problem))
        assert not problems, "\n\n".join(problems)
        return results

    def python(
        self,
        source: str,
        args: Sequence[str] = (),
        env: Mapping[str, str | None] | None = None,
        expect: int | None = 0,
    ) -> subprocess.CompletedProcess[str]:
        """Run a Python script in the project folder, like :meth:`flask`."""
        result = run_python(self.path, source, args, env=env)
        if expect is not None:
            assert result.returncode == expect, describe(result)
        return result

    def write_models(self, source: str) -> None:
        """Replace models.py (to make autogenerate find changes)."""
        (self.path / "models.py").write_text(textwrap.dedent(source))

    def add_model(self, source: str) -> None:
        """Append a model class to models.py."""
        with (self.path / "models.py").open("a") as models:
            models.write("\n\n" + textwrap.dedent(source))

    @property
    def migrations(self) -> Path:
        """The migrations folder."""
        return self.path / self.directory

    def revision_files(self, folder: str = "versions") -> set[str]:
        """The names of the revision files in a folder of the migrations folder."""
        versions = self.migrations / folder
        if not versions.is_dir():
            return set()
        return {path.name for path in versions.glob("*.py")}

    def url(self, bind: str | None = None) -> str:
        """The URL of the default database or of a bind."""
        return self.database_url if bind is None else self.binds[bind]

    @contextmanager
    def connect(self, bind: str | None = None) -> Iterator[sa.Connection]:
        """A connection to the default database or a bind, committed at the end of the block."""
        engine = harness_engine(self.url(bind))
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    def state(self, bind: str | None = None) -> DatabaseState:
        """The tables and version rows of the default database or of a bind."""
        return database_state(self.url(bind), self.version_table)

    def states(self) -> dict[str | None, DatabaseState]:
        """The state of every database of the project."""
        return {bind: self.state(bind) for bind in [None, *self.binds]}

    def snapshot(self) -> tuple[dict[str | None, DatabaseState], dict[Path, bytes]]:
        """Every database's state and every file of the project: to prove nothing changed."""
        files = {
            path.relative_to(self.path): path.read_bytes()
            for path in self.path.rglob("*")
            if path.is_file()
        }
        return self.states(), files

    def instrument_env(self) -> None:
        """Make env.py print what it received: the -x values and the --tag value."""
        env_py = self.migrations / "env.py"
        source = env_py.read_text()
        anchor = "config = context.config\n"
        assert anchor in source, "env.py has no 'config = context.config' line"
        probe = (
            'print("x-args:", repr(context.get_x_argument()))\n'
            'print("tag:", repr(context.get_tag_argument()))\n'
        )
        env_py.write_text(source.replace(anchor, anchor + probe, 1))


APP_TEMPLATE = """\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
{import_line}

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = {database_url!r}
{binds_line}
db = SQLAlchemy(app)
{migrate_lines}
{app_code}

import models  # noqa: E402,F401
"""

EXTENSION_IMPORTS = {
    "workbench": "from workbench import Migrate",
    "flask_migrate": "from flask_migrate import Migrate",
}

ProjectFactory = Callable[..., Project]


def write_app(
    folder: Path,
    database_url: str,
    binds: Mapping[str, str],
    *,
    extension: str,
    migrate_kwargs: Mapping[str, Any],
    app_code: str,
    factory: bool,
) -> None:
    """Write app.py for a project."""
    arguments = "".join(f", {name}={value!r}" for name, value in migrate_kwargs.items())
    if factory:
        migrate_lines = f"migrate = Migrate({arguments.lstrip(', ')})\nmigrate.init_app(app, db)"
    else:
        migrate_lines = f"migrate = Migrate(app, db{arguments})"
    binds_line = f'app.config["SQLALCHEMY_BINDS"] = {dict(binds)!r}' if binds else ""
    (folder / "app.py").write_text(
        APP_TEMPLATE.format(
            import_line=EXTENSION_IMPORTS[extension],
            database_url=database_url,
            binds_line=binds_line,
            migrate_lines=migrate_lines,
            app_code=textwrap.dedent(app_code),
        )
    )
