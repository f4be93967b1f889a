"""Real plain-Alembic projects for tests: made by ``alembic init``, then given models.

Each builder runs ``python -m alembic init -t TEMPLATE migrations`` in a fresh folder, points
the configuration at the test's databases and wires ``target_metadata`` in env.py to a
``models.py`` beside it, exactly as a user following Alembic's tutorial would. Nothing here
knows the workbench: these are the projects ``alembic`` itself runs on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask_in_process import run_alembic_in_process, run_workbench_in_process

TEMPLATES = ("generic", "async", "multidb", "pyproject", "pyproject_async")
ASYNC_TEMPLATES = frozenset({"async", "pyproject_async"})
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+aiomysql",
}
SETTINGS_VARIABLE = "SHOP_DATABASE_URL"
"""The environment variable the settings-object application reads its database URL from."""

MODELS = """\
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
"""

MULTIDB_MODELS = """\
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Users(DeclarativeBase):
    pass


class Orders(DeclarativeBase):
    pass


class User(Users):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))


class Order(Orders):
    __tablename__ = "order"
    id: Mapped[int] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(sa.Integer)
"""

SETTINGS = f"""\
import os


class Settings:
    \"\"\"The application's settings, read from the environment as twelve-factor apps do.\"\"\"

    def __init__(self) -> None:
        self.database_url = os.environ["{SETTINGS_VARIABLE}"]


settings = Settings()
"""

SETTINGS_ENV_LINES = """\
from shop.settings import settings

config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
"""


@dataclass
class AlembicProject:
    """A project folder made by ``alembic init``, the URLs it migrates and how to run alembic."""

    path: Path
    template: str
    urls: dict[str, str]
    """Database name ("default", or the multidb template's engine names) to URL."""
    env: dict[str, str] = field(default_factory=dict)
    in_process: bool = False
    """Run ``alembic`` and ``workbench`` inside the test process (see ``flask_in_process``)."""
    """Environment variables the project needs (the settings app's database URL)."""

    @property
    def migrations(self) -> Path:
        return self.path / "migrations"

    @property
    def env_py(self) -> Path:
        return self.migrations / "env.py"

    @property
    def url(self) -> str:
        return next(iter(self.urls.values()))

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The process environment for running commands on the project.

        What the workbench learns from env.py is kept as it is for users, in a cache folder of
        the project's own beside it.
        """
        inherited = {k: v for k, v in os.environ.items() if k != "ALEMBIC_CONFIG"}
        cache = {"XDG_CACHE_HOME": f"{self.path}-cache"}
        return {**inherited, **cache, **self.env, **(extra or {})}

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python ARGS`` in the project folder; never raises on a failing exit status."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.path,
            env=self.environment(env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def alembic(
        self, *args: str, env: Mapping[str, str] | None = None, in_process: bool | None = None
    ):
        """Run the real ``alembic`` command line.

        ``in_process`` overrides the project's ``in_process`` for this run (setup steps that
        are not what a test is about can always run in process).
        """
        if self._runs_in_process(env, in_process):
            return run_alembic_in_process(self.path, args, self.environment(env))
        return self.run("-m", "alembic", *args, env=env)

    def workbench(self, *args: str, env: Mapping[str, str] | None = None):
        """Run ``python -m workbench``."""
        if self._runs_in_process(env):
            return run_workbench_in_process(self.path, args, self.environment(env))
        return self.run("-m", "workbench", *args, env=env)

    def _runs_in_process(
        self, env: Mapping[str, str] | None, in_process: bool | None = None
    ) -> bool:
        """In process when asked, unless a ``PYTHON*`` variable or the environment wants a child."""
        asked = self.in_process if in_process is None else in_process
        if not asked or os.environ.get("WORKBENCH_TEST_FLASK_SUBPROCESS") == "1":
            return False
        return not any(name.startswith("PYTHON") for name in env or {})

    def revision_files(self) -> set[str]:
        return {path.name for path in (self.migrations / "versions").glob("*.py")}

    def add_model(self, source: str) -> None:
        """Append model source to models.py."""
        models = self.path / "models.py"
        models.write_text(models.read_text() + "\n\n" + textwrap.dedent(source))


def async_url(url: str) -> str:
    """The URL with the async driver of its backend."""
    backend = url.split(":", 1)[0].split("+", 1)[0]
    return ASYNC_DRIVERS[backend] + url[url.index(":") :]


def alembic_init(folder: Path, template: str) -> None:
    """``alembic init -t template migrations`` in folder (created), in this process."""
    folder.mkdir(parents=True, exist_ok=True)
    result = run_alembic_in_process(folder, ["init", "-t", template, "migrations"], os.environ)
    assert result.returncode == 0, result.stderr


def _ini_escape(url: str) -> str:
    """A URL as an ini value: ``%`` doubled for configparser's interpolation."""
    return url.replace("%", "%%")


def _set_ini_option(ini: Path, section: str, option: str, value: str) -> None:
    """Replace ``option = ...`` in ``[section]`` of an ini file written by ``alembic init``."""
    text = ini.read_text()
    pattern = re.compile(
        rf"(^\[{re.escape(section)}\]$.*?^){re.escape(option)} = .*?$", re.M | re.S
    )
    new, count = pattern.subn(lambda match: f"{match.group(1)}{option} = {value}", text, count=1)
    assert count == 1, f"no {option} in [{section}] of {ini}"
    ini.write_text(new)


def _wire_metadata(env_py: Path, line: str) -> None:
    """Replace env.py's ``target_metadata = ...`` with the given line(s)."""
    text = env_py.read_text()
    new, count = re.subn(r"^target_metadata = .*$", lambda _: line, text, count=1, flags=re.M)
    assert count == 1, f"no target_metadata in {env_py}"
    env_py.write_text(new)


def make_alembic_project(
    folder: Path,
    template: str,
    urls: Sequence[str],
    *,
    settings_app: bool = False,
) -> AlembicProject:
    """A project made with ``alembic init -t template``, its models wired, on the given URLs.

    ``urls``: one URL, or two for the multidb template (engine1, engine2). Async templates get
    their backend's async driver. ``settings_app``: env.py takes its URL from a settings
    object that reads ``SHOP_DATABASE_URL``, and the config's ``sqlalchemy.url`` stays the
    template's placeholder, so only running env.py can tell where the database is.
    """
    alembic_init(folder, template)
    env_py = folder / "migrations" / "env.py"
    ini = folder / "alembic.ini"
    is_async = template in ASYNC_TEMPLATES
    urls = [async_url(url) if is_async else url for url in urls]
    environment: dict[str, str] = {}
    if template == "multidb":
        assert len(urls) == 2, "the multidb template has two engines"
        names = ["engine1", "engine2"]
        for name, url in zip(names, urls, strict=True):
            _set_ini_option(ini, name, "sqlalchemy.url", _ini_escape(url))
        (folder / "models.py").write_text(MULTIDB_MODELS)
        _wire_metadata(
            env_py,
            "import models\n\ntarget_metadata = {\n"
            '    "engine1": models.Users.metadata,\n'
            '    "engine2": models.Orders.metadata,\n}',
        )
        return AlembicProject(folder, template, dict(zip(names, urls, strict=True)))
    (folder / "models.py").write_text(MODELS)
    metadata = "from models import Base\n\ntarget_metadata = Base.metadata"
    (url,) = urls
    if settings_app:
        package = folder / "shop"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "settings.py").write_text(SETTINGS)
        metadata = f"{SETTINGS_ENV_LINES}\n{metadata}"
        environment[SETTINGS_VARIABLE] = url
    else:
        # the pyproject templates keep the URL in alembic.ini too, beside the logging setup
        _set_ini_option(ini, "alembic", "sqlalchemy.url", _ini_escape(url))
    _wire_metadata(env_py, metadata)
    return AlembicProject(folder, template, {"default": url}, environment)
