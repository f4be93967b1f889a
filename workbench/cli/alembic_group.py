"""The ``workbench`` command: the migration commands on a plain Alembic project, no Flask.

It takes ``alembic``'s own options (``-c/--config``, ``-n/--name``, ``-x``) and ``--url``, makes
the project they name (``workbench.project.alembic``) and composes the same families of
commands as ``flask db``: the everyday Alembic verbs, the inspecting ones, the branch ones
and the review ones, with the same options and output. ``demo`` is the one command of its
own: it makes a project to try the workbench on.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from workbench.cli.options import (
    DIRECTORY_KEY,
    SOURCE_KEY,
    X_ARG_HELP,
    X_ARG_KEY,
    MigrationCommand,
    command_group_path,
    interactive_command,
    migration_command,
    project_source,
)
from workbench.errors import WorkbenchError
from workbench.version import __version__

if TYPE_CHECKING:
    from workbench.project import LoadedProject
    from workbench.project.alembic import AlembicOptions

OPTIONS_KEY = "workbench.alembic_options"
"""Context meta key: the group's options, as ``AlembicOptions``."""


def _inspecting() -> tuple[click.Command, ...]:
    """The family of graph, status and the workbench, imported now."""
    from workbench.cli.inspection import COMMANDS

    return COMMANDS


def _flask_migrate_verbs() -> tuple[click.Command, ...]:
    """The family of Flask-Migrate's verbs, imported now."""
    from workbench.cli.verbs import COMMANDS

    return COMMANDS


def _branching() -> tuple[click.Command, ...]:
    """The family of the branch commands, imported now."""
    from workbench.cli.branches import COMMANDS

    return COMMANDS


def _reviewing() -> tuple[click.Command, ...]:
    """The family of the review commands, imported now."""
    from workbench.cli.review import COMMANDS

    return COMMANDS


def _squashing() -> tuple[click.Command, ...]:
    """The family of the squash command, imported now."""
    from workbench.cli.squash import COMMANDS

    return COMMANDS


FAMILIES: tuple[tuple[Callable[[], tuple[click.Command, ...]], tuple[str, ...]], ...] = (
    (_inspecting, ("graph", "status", "tui")),
    (
        _flask_migrate_verbs,
        (
            "revision",
            "migrate",
            "edit",
            "merge",
            "upgrade",
            "downgrade",
            "show",
            "history",
            "heads",
            "branches",
            "current",
            "stamp",
            "check",
        ),
    ),
    (_branching, ("linearize", "doctor")),
    (_reviewing, ("review", "verify")),
    (_squashing, ("squash",)),
)
"""The families of commands the group takes, each with the names it takes from it, in order.

A family's module is imported only when one of its commands runs (or the help lists them):
``workbench graph`` then never imports the review rules, the verbs' Alembic wiring and the rest.
"""


class AlembicProjectSource:
    """The commands' project: the one ``alembic`` would work on from the same options."""

    def __init__(self, options: AlembicOptions) -> None:
        self.options = options
        self._projects: dict[str | None, LoadedProject] = {}

    def enter(self, ctx: click.Context) -> None:
        """Nothing to load: the project is read when a command asks for it."""

    def project(self, directory: str | None) -> LoadedProject:
        """The project, its ``script_location`` replaced by ``-d`` when given; made once."""
        from workbench.project.alembic import AlembicProject

        if directory not in self._projects:
            self._projects[directory] = AlembicProject(self.options, directory)
        return self._projects[directory]

    def open_workbench(self, ctx: click.Context, directory: str | None, read_only: bool) -> None:
        """Run the workbench on the project; its child processes work on the same options.

        Where it can, a forked child describes the project, scans its history and reads the
        databases while this process imports Textual, as ``flask db tui`` does with the app.
        """
        _run_workbench(self, directory, read_only, command_group_path())

    def workbench_command(
        self, ctx: click.Context, directory: str | None, read_only: bool
    ) -> list[str]:
        """``python -m workbench [-c ...] [-n ...] [-x ...] tui [-d DIR] [--read-only]``.

        A ``--url`` goes to the new process as ``WORKBENCH_DATABASE_URL``, which it inherits
        from this one: a password never appears on a command line.
        """
        options = self.options
        if options.url is not None:
            os.environ["WORKBENCH_DATABASE_URL"] = options.url
        return [
            sys.executable,
            "-m",
            "workbench",
            *(argument for config in options.config for argument in ("-c", config)),
            "-n",
            options.name,
            *(argument for value in options.x for argument in ("-x", value)),
            "tui",
            *(["--directory", directory] if directory else []),
            *(["--read-only"] if read_only else []),
        ]


@interactive_command
def _run_workbench(
    source: AlembicProjectSource, directory: str | None, read_only: bool, command_group: str
) -> None:
    """The workbench on the source's project; a failure to open it is one ``Error:`` line.

    ``command_group`` is how the user called ``workbench``: the fixes it shows start with it.
    """
    from workbench.project.alembic import OPTIONS_VARIABLE
    from workbench.tui import prefork

    os.environ[OPTIONS_VARIABLE] = source.options.to_environment()
    project = source.project(directory)
    if prefork.fork_available():
        job = functools.partial(_describe_in_child, project)
        loaded = prefork.load_in_child(job, directory or "migrations", history_in_child=True)
        if isinstance(loaded, prefork.Failed):
            raise WorkbenchError(loaded.error)
        if isinstance(loaded, prefork.Preloaded):
            from workbench.tui.app import run_preloaded

            run_preloaded(
                loaded, command_group=command_group, app_import_path=None, read_only=read_only
            )
            return
    from workbench.tui.app import run_workbench

    run_workbench(
        project.describe(), command_group=command_group, app_import_path=None, read_only=read_only
    )


def _describe_in_child(project: LoadedProject, send: Callable[[object], None]) -> None:
    """The forked child's job: describe the project, scan it, read its databases, or say why not.

    Described at once (env.py's answer is kept), the project's history is scanned here too,
    while the parent imports Textual, rather than after it there.
    """
    from workbench.tui import prefork

    try:
        prefork.describe_project(project, send, with_history=True)
    except WorkbenchError as exc:
        send(prefork.Failed(str(exc)))


class WorkbenchGroup(click.Group):
    """The ``workbench`` group: its families' commands, each family loaded on first use."""

    command_class = MigrationCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        listed = [name for _, names in FAMILIES for name in names]
        return [*listed, *(name for name in self.commands if name not in listed)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            for load, names in FAMILIES:
                if cmd_name in names:
                    for family_command in load():
                        if family_command.name in names:
                            self.add_command(family_command)
        return self.commands.get(cmd_name)


@click.group(cls=WorkbenchGroup)
@click.version_option(__version__, "--version", message="%(prog)s %(version)s")
@click.option(
    "-c",
    "--config",
    multiple=True,
    help="The project's configuration: an ini file or pyproject.toml, or one of each when given "
    "twice (default: $ALEMBIC_CONFIG, else alembic.ini)",
)
@click.option(
    "-n",
    "--name",
    default="alembic",
    show_default=True,
    help="The ini file's section to read (pyproject.toml has one)",
)
@click.option("-x", "x_arg", multiple=True, help=X_ARG_HELP)
@click.option(
    "--url",
    envvar="WORKBENCH_DATABASE_URL",
    default=None,
    help="Database URL, given to env.py as sqlalchemy.url (env: WORKBENCH_DATABASE_URL)",
)
@click.pass_context
def workbench(
    ctx: click.Context,
    config: tuple[str, ...],
    name: str,
    x_arg: tuple[str, ...],
    url: str | None,
) -> None:
    """Migration Workbench for Alembic projects: the revision graph, where each database
    stands, reviews, merges and the everyday Alembic commands, in the terminal."""
    from workbench.project.alembic import AlembicOptions

    options = AlembicOptions(config=config, name=name, x=x_arg, url=url or None, cwd=os.getcwd())
    ctx.meta[OPTIONS_KEY] = options
    ctx.meta[DIRECTORY_KEY] = None
    ctx.meta[X_ARG_KEY] = x_arg
    ctx.meta[SOURCE_KEY] = AlembicProjectSource(options)


@workbench.command()
@click.option(
    "-t",
    "--template",
    default="generic",
    show_default=True,
    help="One of Alembic's templates (alembic list_templates names them)",
)
@click.option(
    "--package",
    is_flag=True,
    help="Write empty __init__.py files to the environment and version locations",
)
@click.argument("directory")
@migration_command
def init(template: str, package: bool, directory: str) -> None:
    """Initialize a new scripts directory, as ``alembic init`` does, from its templates."""
    from workbench.services.commands import init_from_alembic_template

    init_from_alembic_template(project_source().project(None), directory, template, package)


@workbench.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create a demo project (a small shop) and open the workbench on it."""
    from workbench.cli.demo_command import demo_main

    ctx.exit(demo_main(["demo", *ctx.args], ctx.find_root().info_name or "workbench"))
