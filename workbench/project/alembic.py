"""A plain Alembic project: ``alembic.ini`` and/or ``[tool.alembic]``, env.py, no Flask.

The configuration is found the way the ``alembic`` command finds it (``-c``, up to one ini
file and one ``pyproject.toml``; else ``ALEMBIC_CONFIG``; else ``alembic.ini`` and
``pyproject.toml`` in the working folder) and read only by Alembic's own ``Config``. Which
databases the project migrates is learned by running its env.py in a child process
(``workbench.project.alembic_probe``), never by importing the application here; what the
child learned is kept in the user's cache, valid while none of the files it depends on, the
options or the environment change, so the graph and status commands need no child at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.core.databases import DatabaseTarget
from workbench.core.secrets import mask_passwords, mask_url
from workbench.errors import WorkbenchError
from workbench.project import LoadedProject, MigrationProject, VersionApplied, XArg, is_multidb

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from workbench.core.verify import ScratchDatabases, ScratchInfo

URL_VARIABLE = "WORKBENCH_DATABASE_URL"
"""The environment variable that stands for ``--url``."""
OPTIONS_VARIABLE = "WORKBENCH_ALEMBIC_OPTIONS"
"""Set for the workbench's child processes: the project's options as JSON, in place of an app."""
CACHE_VARIABLE = "WORKBENCH_PROJECT_CACHE"
"""``WORKBENCH_PROJECT_CACHE=0`` runs env.py's probe every time, keeping nothing."""
PROBE_TIMEOUT_SECONDS = 120.0
PROBE_FORMAT = 1
"""Changes when what the probe answers changes, so that older kept answers are not read."""
VOLATILE_VARIABLES = frozenset(
    {
        "_",
        "OLDPWD",
        "PWD",
        "SHLVL",
        "COLUMNS",
        "LINES",
        "TERM",
        "COLORTERM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "TERM_SESSION_ID",
        "WINDOWID",
        "TMUX",
        "TMUX_PANE",
        "PS1",
        "PYTEST_CURRENT_TEST",
        "SSH_TTY",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_AUTH_SOCK",
        "HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET",
    }
)
"""Variables that change between two commands in one shell and never name a database.

hyperfine sets the last one to a new value for every run it times.
"""
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


@dataclass(frozen=True)
class AlembicOptions:
    """The options of the ``alembic`` command line that say which project and how to run it.

    ``config``: the ``-c/--config`` values (an ini file and/or a ``pyproject.toml``);
    ``name``: the ini section (``-n``); ``x``: the ``-x`` values for env.py; ``url``: a
    database URL given to env.py as ``sqlalchemy.url`` (``--url`` or ``WORKBENCH_DATABASE_URL``);
    ``cwd``: the folder the command runs in, where relative paths start.
    """

    config: tuple[str, ...] = ()
    name: str = "alembic"
    x: tuple[str, ...] = ()
    url: str | None = field(default=None, repr=False)
    cwd: str = field(default_factory=os.getcwd)

    def to_json(self) -> dict[str, Any]:
        """The options as a JSON object (for a child process)."""
        return {
            "config": list(self.config),
            "name": self.name,
            "x": list(self.x),
            "url": self.url,
            "cwd": self.cwd,
        }

    def to_environment(self) -> str:
        """The options as the value of ``WORKBENCH_ALEMBIC_OPTIONS``."""
        return json.dumps(self.to_json())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AlembicOptions | None:
        """The options a parent workbench left in ``WORKBENCH_ALEMBIC_OPTIONS``, if any."""
        value = (os.environ if environ is None else environ).get(OPTIONS_VARIABLE)
        return cls.from_json(json.loads(value)) if value else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlembicOptions:
        """Options sent by ``to_json``."""
        return cls(
            config=tuple(data.get("config") or ()),
            name=data.get("name") or "alembic",
            x=tuple(data.get("x") or ()),
            url=data.get("url"),
            cwd=data.get("cwd") or os.getcwd(),
        )


def config_files(
    options: AlembicOptions, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """The (pyproject.toml, ini file) pair Alembic's command line would read, absolute.

    The same rules as ``alembic``: ``-c`` may name one ini file and one ``pyproject.toml``;
    what it does not name comes from ``ALEMBIC_CONFIG`` (either kind of file), else
    ``alembic.ini`` and ``pyproject.toml`` in the working folder. Either may not exist.
    """
    environ = os.environ if environ is None else environ
    from_environment = environ.get("ALEMBIC_CONFIG")
    toml, ini = "pyproject.toml", "alembic.ini"
    if from_environment and os.path.basename(from_environment) == "pyproject.toml":
        toml = from_environment
    elif from_environment:
        ini = from_environment
    named_toml = named_ini = None
    for name in options.config:
        if os.path.basename(name) == "pyproject.toml":
            if named_toml is not None:
                raise WorkbenchError("pyproject.toml indicated more than once")
            named_toml = name
        else:
            if named_ini is not None:
                raise WorkbenchError("only one ini file may be indicated")
            named_ini = name
    toml, ini = named_toml or toml, named_ini or ini
    return (
        os.path.normpath(os.path.join(options.cwd, toml)),
        os.path.normpath(os.path.join(options.cwd, ini)),
    )


class ProbedProject(NamedTuple):
    """What running env.py in the probe said: the folders, the databases, the files it read."""

    script_location: str
    version_locations: tuple[str, ...]
    recursive_version_locations: bool
    sourceless: bool
    targets: tuple[DatabaseTarget, ...]
    dialect_names: tuple[str | None, ...]
    watched: tuple[tuple[str, int | None, int | None], ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbedProject:
        """The probe's answer as a description."""
        databases = data["databases"]
        return cls(
            script_location=data["script_location"],
            version_locations=tuple(data["version_locations"]),
            recursive_version_locations=bool(data["recursive_version_locations"]),
            sourceless=bool(data["sourceless"]),
            targets=tuple(
                DatabaseTarget(
                    name=database["name"],
                    url=database["url"],
                    version_table=database["version_table"],
                    version_table_schema=database["version_table_schema"],
                )
                for database in databases
            ),
            dialect_names=tuple(database.get("dialect_name") for database in databases),
            watched=tuple((path, mtime, size) for path, mtime, size in data["watched"]),
        )

    def is_current(self) -> bool:
        """True while every file the probe depended on is as it was then."""
        from workbench.project.alembic_probe import file_identity

        return all(file_identity(path) == (mtime, size) for path, mtime, size in self.watched)


def probe_key(
    options: AlembicOptions, environ: Mapping[str, str], script_location: str | None = None
) -> str:
    """What the probe's answer depends on besides files: the options, Python, the environment."""
    toml, ini = config_files(options, environ)
    stable = sorted((k, v) for k, v in environ.items() if k not in VOLATILE_VARIABLES)
    text = json.dumps(
        [
            PROBE_FORMAT,
            sys.executable,
            options.cwd,
            toml,
            ini,
            options.name,
            list(options.x),
            options.url,
            script_location,
            stable,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_path(key: str, environ: Mapping[str, str]) -> str | None:
    """The cache file of one probe key, None when ``WORKBENCH_PROJECT_CACHE=0``."""
    if environ.get(CACHE_VARIABLE, "1") == "0":
        return None
    root = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "migration-workbench", f"alembic-project-{key}.json")


def _read_cached(path: str | None) -> ProbedProject | None:
    """The kept answer, when there is one and its files are unchanged."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            probed = ProbedProject.from_json(json.load(file))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return probed if probed.is_current() else None


def _write_cached(path: str | None, answer: Mapping[str, Any]) -> None:
    """Keep the answer, readable by the user only: it holds the database URLs."""
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(answer, file)
        os.replace(temporary, path)
    except OSError:
        pass


def run_probe(
    options: AlembicOptions,
    environ: Mapping[str, str] | None = None,
    script_location: str | None = None,
) -> dict[str, Any]:
    """Run env.py in the probe child; its answer, or a one-line ``WorkbenchError``."""
    import subprocess

    environ = dict(os.environ if environ is None else environ)
    toml, ini = config_files(options, environ)
    python_path = environ.get("PYTHONPATH")
    environ["PYTHONPATH"] = (
        f"{python_path}{os.pathsep}{_PACKAGE_PARENT}" if python_path else _PACKAGE_PARENT
    )
    request = {"toml": toml, "ini": ini, "name": options.name, "x": list(options.x)}
    request["url"] = options.url
    request["script_location"] = script_location
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "workbench.project.alembic_probe"],
            cwd=options.cwd,
            env=environ,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkbenchError(
            f"env.py did not finish within {PROBE_TIMEOUT_SECONDS:.0f} s while the workbench "
            "learned its databases"
        ) from exc
    passwords = _url_passwords([options.url])
    try:
        answer = json.loads(finished.stdout)
    except ValueError:
        last = (finished.stderr.strip().splitlines() or ["no output"])[-1]
        raise WorkbenchError(
            mask_passwords(f"running env.py to learn its databases failed: {last}", passwords)
        ) from None
    if "error" in answer:
        error = answer["error"]
        if answer.get("in_env_py"):
            error = f"env.py failed while the workbench learned its databases: {error}"
        raise WorkbenchError(mask_passwords(_error_text(error, ini, toml, options.name), passwords))
    return answer


def _error_text(error: str, ini: str, toml: str, section: str) -> str:
    """The probe's failure, told like ``alembic`` tells it, with the config files it read."""
    if error.startswith("No 'script_location' key found"):
        shown = [path for path in (ini, toml) if os.path.exists(path)]
        where = " or ".join(os.path.relpath(path) for path in shown) if shown else None
        if where is None:
            return (
                f"no Alembic configuration: neither {os.path.relpath(ini)} nor "
                f"{os.path.relpath(toml)} exists (give one with -c, or run `alembic init`)"
            )
        return f"no script_location in [{section}] of {where}"
    return error


def _url_passwords(urls: Sequence[Any]) -> list[str]:
    """The passwords in these URLs, to mask wherever they might appear."""
    from sqlalchemy.engine import make_url

    passwords = []
    for url in urls:
        if not url:
            continue
        try:
            password = make_url(url).password
        except Exception:
            continue
        if password:
            passwords.append(str(password))
    return passwords


def kept_answer(
    options: AlembicOptions, environ: Mapping[str, str] | None = None
) -> ProbedProject | None:
    """What an earlier probe with the same options learned, if it still holds; no probe run."""
    environ = os.environ if environ is None else environ
    return _read_cached(cache_path(probe_key(options, environ), environ))


def learn_project(
    options: AlembicOptions,
    environ: Mapping[str, str] | None = None,
    script_location: str | None = None,
) -> ProbedProject:
    """The project's folders and databases: kept from an earlier probe, else probed now."""
    environ = os.environ if environ is None else environ
    path = cache_path(probe_key(options, environ, script_location), environ)
    cached = _read_cached(path)
    if cached is not None:
        return cached
    answer = run_probe(options, environ, script_location)
    _write_cached(path, answer)
    return ProbedProject.from_json(answer)


class AlembicProject(LoadedProject):
    """A plain Alembic project, as the ``alembic`` command sees it from the same options.

    ``directory``, when given (``-d``), replaces the configuration's ``script_location``.
    """

    def __init__(self, options: AlembicOptions | None = None, directory: str | None = None) -> None:
        self.options = options or AlembicOptions()
        self.toml_file, self.ini_file = config_files(self.options)
        self.script_location = (
            os.path.join(self.options.cwd, directory) if directory is not None else None
        )
        self._probed: ProbedProject | None = None

    @property
    def probed(self) -> ProbedProject:
        """What env.py says, learned once per project object.

        A ``-d`` that names the configuration's own folder (as the workbench's child
        processes are told) reuses what was learned without it.
        """
        if self._probed is None and self.script_location is not None:
            plain = kept_answer(self.options)
            if plain is not None and os.path.abspath(plain.script_location) == os.path.abspath(
                self.script_location
            ):
                self._probed = plain
        if self._probed is None:
            self._probed = learn_project(self.options, script_location=self.script_location)
        return self._probed

    @property
    def directory(self) -> str:  # type: ignore[override]
        """The migrations folder (Alembic's ``script_location``).

        When env.py cannot tell (it fails), the working folder: failures are located in it.
        """
        if self.script_location is not None:
            return self.script_location
        try:
            return self.probed.script_location
        except WorkbenchError:
            return self.options.cwd

    @property
    def multidb(self) -> bool:
        """True when the revision template has one upgrade function per database."""
        return is_multidb(self.directory)

    def describe(self) -> MigrationProject:
        """The folders and databases env.py names; no revision file imported."""
        if self.script_location is not None and not os.path.isdir(self.script_location):
            raise WorkbenchError(f"no migrations folder at {self.script_location!r}")
        probed = self.probed
        return MigrationProject(
            directory=probed.script_location,
            version_locations=probed.version_locations,
            recursive_version_locations=probed.recursive_version_locations,
            sourceless=probed.sourceless,
            multidb=self.multidb,
            targets=probed.targets,
        )

    def alembic_config(self, x_arg: XArg = None, opts: Sequence[str] = ()) -> AlembicConfig:
        """Alembic's Config from the same files, section and ``-x`` values as ``alembic``.

        ``x_arg`` replaces the options' ``-x`` values when given; ``opts`` names flags set
        on ``cmd_opts`` (``autogenerate``), as Alembic's command line sets them.
        """
        from argparse import Namespace

        from alembic.config import Config

        if x_arg is None:
            x_values = list(self.options.x)
        elif isinstance(x_arg, str):
            x_values = [x_arg]
        else:
            x_values = list(x_arg)
        cmd_opts = Namespace(x=x_values or None, **{name: True for name in opts})
        if "autogenerate" not in opts:
            cmd_opts.autogenerate = False
        config = Config(
            file_=self.ini_file,
            toml_file=self.toml_file,
            ini_section=self.options.name,
            cmd_opts=cmd_opts,
        )
        if self.options.url:
            config.set_main_option("sqlalchemy.url", self.options.url.replace("%", "%%"))
        if self.script_location is not None:
            config.set_main_option("script_location", self.script_location)
        return config

    def init_config(self, template_directory: str | None) -> AlembicConfig:
        """The Config ``alembic init`` would make the folder with (Alembic's templates)."""
        from alembic.config import Config

        class TemplatesConfig(Config):
            def get_template_directory(self) -> str:
                return template_directory or super().get_template_directory()

        config = TemplatesConfig(
            file_=self.ini_file, toml_file=self.toml_file, ini_section=self.options.name
        )
        config.set_main_option("script_location", self.directory)
        return config

    @contextmanager
    def version_apply_hook(self, callback: VersionApplied) -> Iterator[None]:
        """While the block runs, every ``context.configure`` of env.py gets ``callback`` too.

        env.py passes its own configure arguments; the callback joins whatever
        ``on_version_apply`` they hold, for this block only.
        """
        from alembic.runtime.environment import EnvironmentContext

        original = EnvironmentContext.configure

        def configure(environment: Any, *args: Any, **kwargs: Any) -> None:
            own = kwargs.get("on_version_apply") or ()
            if callable(own):
                own = (own,)
            kwargs["on_version_apply"] = [*own, callback]
            original(environment, *args, **kwargs)

        EnvironmentContext.configure = configure  # type: ignore[method-assign]
        try:
            yield
        finally:
            EnvironmentContext.configure = original  # type: ignore[method-assign]

    def passwords(self) -> list[str]:
        """The passwords of the URLs env.py names (and of ``--url``).

        Only ``--url``'s when env.py fails: the failure itself is the one to report.
        """
        try:
            learned = [target.url for target in self.probed.targets]
        except WorkbenchError:
            learned = []
        return _url_passwords([self.options.url, *learned])

    def dialects(self, multidb: bool) -> list[tuple[str, Any]]:
        """(name, SQLAlchemy dialect) of each database env.py names, without connecting."""
        from sqlalchemy.engine import make_url

        targets = self.probed.targets if multidb else self.probed.targets[:1]
        return [(target.name, make_url(target.url).get_dialect()()) for target in targets]

    @contextmanager
    def on_scratch(
        self, scratch: ScratchDatabases, multidb: bool
    ) -> Iterator[Callable[[], list[ScratchInfo]]]:
        """Every engine env.py creates on a database it names is made on a scratch one.

        Each call of the yielded function creates a fresh set and says which.
        """
        from workbench.core.verify import ScratchInfo

        targets = self.probed.targets if multidb else self.probed.targets[:1]
        redirect = EngineRedirect()

        def fresh() -> list[ScratchInfo]:
            infos = []
            with redirect.paused():
                for target in targets:
                    url = scratch.create(target.url, target.name)
                    redirect.point(target.url, url)
                    infos.append(
                        ScratchInfo(
                            name=target.name, dialect=url.get_backend_name(), url=mask_url(url)
                        )
                    )
            return infos

        with redirect:
            yield fresh


def _database_identity(url: Any) -> tuple[str, str | None, int | None, str | None]:
    """Which database a URL names, whatever its driver: backend, host, port and database."""
    return (url.get_backend_name(), url.host, url.port, url.database)


class EngineRedirect:
    """While active, an engine created on a known URL is created on its replacement instead.

    Every engine env.py makes goes through SQLAlchemy's ``create_engine`` however it was
    imported (``engine_from_config``, ``create_async_engine``), which resolves the URL first:
    that one step is replaced. An engine on a URL not pointed anywhere fails, so nothing
    reaches a database the caller did not mean; ``paused()`` lets the caller's own through,
    and an engine on a replacement itself (a scratch database, with any driver) goes through.
    A known database reached through another driver (a sync one for an async project's lock)
    is moved to its replacement, keeping that driver.
    """

    def __init__(self) -> None:
        self.replacements: dict[str, Any] = {}
        self.scratch: set[tuple[str, str | None, int | None, str | None]] = set()
        self.by_database: dict[tuple[str, str | None, int | None, str | None], Any] = {}
        self.active = True

    def point(self, original: Any, replacement: Any) -> None:
        """Create engines meant for ``original`` on ``replacement`` from now on."""
        from sqlalchemy.engine import make_url

        key = make_url(original).render_as_string(hide_password=False)
        self.replacements[key] = make_url(replacement)
        self.by_database[_database_identity(make_url(original))] = self.replacements[key]
        self.scratch.add(_database_identity(self.replacements[key]))

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Let engines be created on their own URLs while the block runs."""
        self.active = False
        try:
            yield
        finally:
            self.active = True

    def __enter__(self) -> EngineRedirect:
        from sqlalchemy.engine import URL

        self._original = URL._instantiate_plugins
        redirect = self

        def instantiate_plugins(url: URL, kwargs: Mapping[str, Any]) -> Any:
            if not redirect.active:
                return redirect._original(url, kwargs)
            key = url.render_as_string(hide_password=False)
            if _database_identity(url) in redirect.scratch:
                return redirect._original(url, kwargs)
            moved = redirect.by_database.get(_database_identity(url))
            if key not in redirect.replacements and moved is not None:
                return redirect._original(moved.set(drivername=url.drivername), kwargs)
            if key not in redirect.replacements:
                raise WorkbenchError(
                    f"env.py created an engine on {url.render_as_string(hide_password=True)},"
                    " a database the workbench did not learn from it: nothing was run there"
                )
            return redirect._original(redirect.replacements[key], kwargs)

        URL._instantiate_plugins = instantiate_plugins  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        from sqlalchemy.engine import URL

        URL._instantiate_plugins = self._original  # type: ignore[method-assign]
