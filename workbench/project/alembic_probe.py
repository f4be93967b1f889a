"""Learn a plain Alembic project's folders and databases by running its env.py, in a child.

Run as ``python -m workbench.project.alembic_probe`` in the project's folder, with the
options as JSON on stdin. The configuration is read by Alembic's own ``Config`` exactly as the
``alembic`` command builds it; env.py then runs in online mode, as ``alembic current`` would,
except that no connection is made and nothing is migrated: every engine env.py creates hands
out a stand-in connection, and ``context.configure``/``context.run_migrations`` only record
what they are given (the URL of each engine, its name in a multi-database env.py, the version
table). One JSON object is written on the real stdout; whatever env.py prints or logs goes to
stderr, which the parent shows, masked, only when the probe fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any


class EnvPyFailed(Exception):
    """env.py itself failed (not the configuration before it): what it raised."""

    def __init__(self, raised: BaseException) -> None:
        super().__init__(str(raised))
        self.raised = raised


class StandInConnection:
    """What an engine hands env.py instead of connecting: it records, runs nothing.

    It carries the engine (and so its URL and dialect) to ``context.configure``, and takes
    the transaction calls env.py templates make, sync or through an async engine.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect

    def __enter__(self) -> StandInConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def begin(self) -> StandInConnection:
        return self

    begin_twophase = begin
    begin_nested = begin

    def in_transaction(self) -> bool:
        return False

    def execute(self, *args: Any, **kwargs: Any) -> None:
        """A statement env.py runs before migrating (``SET search_path``): not run here."""
        return None

    exec_driver_sql = execute

    def commit(self) -> None:
        return None

    rollback = close = prepare = invalidate = detach = dispose = commit


class Recorder:
    """What env.py told Alembic: one entry per ``context.configure`` call, named on run."""

    def __init__(self) -> None:
        self.databases: list[dict[str, Any]] = []
        self.pending: dict[str, Any] | None = None

    def configure(self, **kwargs: Any) -> None:
        """Note the database and version table a ``context.configure`` call names."""
        connection = kwargs.get("connection")
        url: Any = kwargs.get("url")
        if connection is not None and getattr(connection, "engine", None) is not None:
            url = connection.engine.url
        if url is not None and not isinstance(url, str):
            url = url.render_as_string(hide_password=False)
        self.pending = {
            "name": None,
            "url": url,
            "dialect_name": kwargs.get("dialect_name"),
            "version_table": kwargs.get("version_table") or "alembic_version",
            "version_table_schema": kwargs.get("version_table_schema"),
            "has_metadata": kwargs.get("target_metadata") is not None,
        }
        self.databases.append(self.pending)

    def run_migrations(self, **kwargs: Any) -> None:
        """Name the database last configured: ``engine_name`` in a multi-database env.py."""
        if self.pending is not None:
            self.pending["name"] = kwargs.get("engine_name") or None
            self.pending = None


@contextlib.contextmanager
def engines_not_connecting() -> Iterator[None]:
    """While the block runs, engines (sync and async) hand out stand-in connections."""
    from sqlalchemy.engine import Engine

    original = Engine.connect

    def connect(self: Engine) -> StandInConnection:
        return StandInConnection(self)

    Engine.connect = connect  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        Engine.connect = original  # type: ignore[method-assign]


def make_config(request: dict[str, Any]) -> Any:
    """Alembic's Config as the ``alembic`` command line builds it from the same options."""
    from argparse import Namespace

    from alembic.config import Config

    cmd_opts = Namespace(x=list(request.get("x") or ()) or None, autogenerate=False)
    config = Config(
        file_=request["ini"],
        toml_file=request["toml"],
        ini_section=request.get("name") or "alembic",
        cmd_opts=cmd_opts,
    )
    url = request.get("url")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if request.get("script_location"):
        config.set_main_option("script_location", request["script_location"])
    return config


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """The project's folders and the databases its env.py names, as JSON-ready data."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    config = make_config(request)
    script = ScriptDirectory.from_config(config)
    recorder = Recorder()
    environment = EnvironmentContext(config, script, fn=lambda rev, context: [], dont_mutate=True)
    environment.configure = recorder.configure  # type: ignore[method-assign]
    environment.run_migrations = recorder.run_migrations  # type: ignore[method-assign]
    environment.begin_transaction = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    env_py = os.path.join(script.dir, "env.py")
    try:
        with engines_not_connecting(), environment:
            script.run_env()
    except BaseException as exc:
        raise EnvPyFailed(exc) from exc
    databases = []
    for number, database in enumerate(recorder.databases):
        if database["url"] is None:
            continue
        name = database["name"] or ("default" if number == 0 else f"database{number + 1}")
        databases.append({**database, "name": name})
    return {
        "script_location": os.path.abspath(script.dir),
        "version_locations": [str(path) for path in script._version_locations],
        "recursive_version_locations": bool(script.recursive_version_locations),
        "sourceless": bool(script.sourceless),
        "databases": databases,
        "watched": watched_files(
            [request["ini"], request["toml"], env_py], os.path.dirname(config.config_file_name)
        ),
    }


def watched_files(config_files: list[str | None], config_folder: str) -> list[list[Any]]:
    """The files whose change may change what env.py names, with their size and mtime.

    The configuration files and env.py, every module env.py loaded from outside the standard
    library, site-packages and the workbench (the application's settings), and the ``.env``
    files beside the configuration or in the working folder (settings libraries read them).
    """
    import sysconfig

    skipped = {
        os.path.realpath(path)
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
    skipped.add(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    paths = {os.path.abspath(path) for path in config_files if path}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        real = os.path.realpath(file)
        if not any(real.startswith(folder + os.sep) for folder in skipped):
            paths.add(os.path.abspath(file))
    for folder in {os.path.abspath(config_folder or "."), os.getcwd()}:
        paths.add(os.path.join(folder, ".env"))
    return [[path, *file_identity(path)] for path in sorted(paths)]


def file_identity(path: str) -> tuple[int | None, int | None]:
    """A file's mtime (ns) and size, or (None, None) when it does not exist."""
    try:
        stat = os.stat(path)
    except OSError:
        return None, None
    return stat.st_mtime_ns, stat.st_size


def main() -> int:
    """Read the options on stdin, write the description (or the failure) on the real stdout."""
    output = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        request = json.loads(sys.stdin.read())
        result: dict[str, Any] = probe(request)
        status = 0
    except BaseException as exc:
        import traceback

        from workbench.errors import describe_failure

        traceback.print_exc()
        if isinstance(exc, EnvPyFailed):
            result = {"error": describe_failure(exc.raised), "in_env_py": True}
        else:
            result = {"error": describe_failure(exc)}
        status = 1
    output.write(json.dumps(result))
    output.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
