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
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from workbench.cli.branches import COMMANDS as BRANCH_COMMANDS
from workbench.cli.inspection import COMMANDS as INSPECTING_COMMANDS
from workbench.cli.options import (
    DIRECTORY_KEY,
    SOURCE_KEY,
    X_ARG_HELP,
    X_ARG_KEY,
    MigrationCommand,
    interactive_command,
)
from workbench.cli.review import COMMANDS as REVIEW_COMMANDS
from workbench.cli.squash import COMMANDS as SQUASH_COMMANDS
from workbench.cli.verbs import COMMANDS as FLASK_MIGRATE_COMMANDS
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.project import LoadedProject
    from workbench.project.alembic import AlembicOptions

OPTIONS_KEY = "workbench.alembic_options"
"""Context meta key: the group's options, as ``AlembicOptions``."""
NOT_FOR_ALEMBIC = frozenset({"init", "list-templates"})
"""Flask-Migrate's verbs a plain Alembic project makes with ``alembic`` itself."""


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

        Where it can, a forked child describes the project and reads the databases while
        this process imports Textual, as ``flask db tui`` does with the app.
        """
        _run_workbench(self, directory, read_only)


@interactive_command
def _run_workbench(source: AlembicProjectSource, directory: str | None, read_only: bool) -> None:
    """The workbench on the source's project; a failure to open it is one ``Error:`` line."""
    from workbench.project.alembic import OPTIONS_VARIABLE
    from workbench.tui import prefork

    os.environ[OPTIONS_VARIABLE] = source.options.to_environment()
    project = source.project(directory)
    if prefork.fork_available():
        job = functools.partial(_describe_in_child, project)
        loaded = prefork.load_in_child(job, directory or "migrations")
        if isinstance(loaded, prefork.Failed):
            raise WorkbenchError(loaded.error)
        if isinstance(loaded, prefork.Preloaded):
            from workbench.tui.app import run_preloaded

            run_preloaded(loaded, app_import_path=None, read_only=read_only)
            return
    from workbench.tui.app import run_workbench

    run_workbench(project.describe(), app_import_path=None, read_only=read_only)


def _describe_in_child(project: LoadedProject, send: Callable[[object], None]) -> None:
    """The forked child's job: describe the project and read its databases, or say why not."""
    from workbench.tui import prefork

    try:
        prefork.describe_project(project, send)
    except WorkbenchError as exc:
        send(prefork.Failed(str(exc)))


class WorkbenchGroup(click.Group):
    """The ``workbench`` group, listing its commands in the order they are added."""

    command_class = MigrationCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=WorkbenchGroup)
@click.option(
    "-c",
    "--config",
    multiple=True,
    help="Alternate config file; defaults to value of ALEMBIC_CONFIG environment variable, "
    'or "alembic.ini". May also refer to pyproject.toml file. May be specified twice to '
    "reference both files separately",
)
@click.option(
    "-n",
    "--name",
    default="alembic",
    show_default=True,
    help="Name of section in .ini file to use for Alembic config "
    "(only applies to configparser config, not toml)",
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


for family_command in (
    *INSPECTING_COMMANDS,
    *FLASK_MIGRATE_COMMANDS,
    *BRANCH_COMMANDS,
    *REVIEW_COMMANDS,
    *SQUASH_COMMANDS,
):
    if family_command.name not in NOT_FOR_ALEMBIC:
        workbench.add_command(family_command)


@workbench.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create a demo project (a small shop) and open the workbench on it."""
    from workbench.cli.demo_command import demo_main

    ctx.exit(demo_main(["demo", *ctx.args], ctx.find_root().info_name or "workbench"))
