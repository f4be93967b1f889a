"""What every family of commands shares: options, the command class, errors, the project.

A family module defines its commands with ``command()`` and these options and decorators, and
never imports the group that holds them: the group composes the families and, in its callback,
names the ``ProjectSource`` that loads the project the commands work on.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import click

from workbench.cli.console import preamble_held
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.scan import PendingScan
    from workbench.project import LoadedProject, MigrationProject

P = ParamSpec("P")
R = TypeVar("R")

DIRECTORY_HELP = 'The migrations folder (default: "migrations")'
SQL_HELP = "Print the SQL instead of running it on the database (offline mode)"
TAG_HELP = "A free-form tag handed to env.py (context.get_tag_argument())"
X_ARG_HELP = "An argument for env.py, often key=value (context.get_x_argument()); repeatable"
VERBOSE_HELP = "Show every field of each revision"
DIRECTORY_KEY = "workbench.directory"
X_ARG_KEY = "workbench.x_arg"
SOURCE_KEY = "workbench.project_source"
"""Context meta keys: the group's ``-d`` and ``-x``, and where its project comes from."""
EARLY_SCAN_KEY = "workbench.early_scan"
"""Context meta key: the scan of the revision files the group started before its project loaded."""


class ProjectSource(Protocol):
    """Where a group's commands get their project from (a Flask app, an ``alembic.ini``...)."""

    def enter(self, ctx: click.Context) -> None:
        """Make the project loadable for the command about to run (load the app, once).

        Raises ``WorkbenchError`` when it cannot be.
        """

    def project(self, directory: str | None) -> LoadedProject:
        """The project, in the migrations folder given (None: the project's own)."""

    def open_workbench(self, ctx: click.Context, directory: str | None, read_only: bool) -> None:
        """Run the workbench on the project until the user leaves it."""

    def workbench_command(
        self, ctx: click.Context, directory: str | None, read_only: bool
    ) -> list[str]:
        """The command line that opens this workbench in a new process (one per browser tab)."""


class MigrationCommand(click.Command):
    """A migration subcommand; asked for JSON, even a wrong option is a JSON error.

    Options are parsed before the command runs, so ``migration_command`` never sees such an
    error: the arguments tell whether JSON was asked for.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        wants_json = _asks_for_json(self, args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            if not wants_json:
                raise
            click.echo(json_error(exc.format_message()))
            raise click.exceptions.Exit(exc.exit_code) from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, relative_steps_as_arguments(self, args))


RELATIVE_STEP = re.compile(r"-\d+")
"""A revision Alembic counts back from the current one: ``downgrade -1``."""


def relative_steps_as_arguments(command: click.Command, args: list[str]) -> list[str]:
    """``-1`` read as the command's revision, as ``alembic downgrade -1`` reads it.

    Click takes any word starting with ``-`` for an option; a relative step given where the
    command's one revision argument goes is moved after ``--``. A step that is an option's
    value (``--tag -1``), or already follows ``--``, is left where it is.
    """
    arguments = [param for param in command.params if isinstance(param, click.Argument)]
    if len(arguments) != 1 or arguments[0].nargs != 1 or "--" in args:
        return args
    taking_values = {
        name
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    }
    kept: list[str] = []
    steps: list[str] = []
    for index, word in enumerate(args):
        is_value = index > 0 and args[index - 1] in taking_values
        (steps if RELATIVE_STEP.fullmatch(word) and not is_value else kept).append(word)
    return [*kept, "--", *steps] if steps else args


command = functools.partial(click.command, cls=MigrationCommand)
"""Define a migration subcommand (a family's command, added to a group by the group)."""


def project_source(ctx: click.Context | None = None) -> ProjectSource:
    """The project source the running command's group named."""
    ctx = ctx or click.get_current_context()
    source = ctx.meta.get(SOURCE_KEY)
    if source is None:
        raise WorkbenchError("this command runs only inside a migration command group")
    return source


def loaded_project(directory: str | None) -> LoadedProject:
    """The project of the running command: its ``-d``, else the group's."""
    return project_source().project(group_directory(directory))


def described_project(directory: str | None) -> MigrationProject:
    """The folders and databases of the running command's project."""
    return loaded_project(directory).describe()


def early_scan() -> PendingScan | None:
    """The scan the group started before loading the project (``graph``, ``status``), once.

    The project's ``load_graph`` takes it only if it scanned the project's very folders.
    """
    return click.get_current_context().meta.pop(EARLY_SCAN_KEY, None)


def migration_command(function: Callable[P, R]) -> Callable[P, R | None]:
    """Run a subcommand on its project; a failure becomes one ``Error:`` line, exit 1.

    Alembic's routine preamble is held back, so a command that fails before doing anything
    prints the error line alone.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        ctx = click.get_current_context()
        with preamble_held() as stderr:
            try:
                project_source(ctx).enter(ctx)
                return function(*args, **kwargs)
            except WorkbenchError as exc:
                stderr.discard()
                message = str(exc)
            except BrokenPipeError:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                ctx.exit(1)
        if _wants_json(ctx):
            click.echo(json_error(message))
        else:
            if ctx.params.get("output_format") == "github":
                from workbench.cli.ci import echo_error_annotation

                echo_error_annotation(message)
            click.echo(f"Error: {message}", err=True)
        ctx.exit(1)
        return None

    return wrapper


def interactive_command(function: Callable[P, R]) -> Callable[P, R | None]:
    """Like ``migration_command`` for a full-screen command, which needs the real stderr."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        ctx = click.get_current_context()
        try:
            project_source(ctx).enter(ctx)
            return function(*args, **kwargs)
        except WorkbenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        return None

    return wrapper


def json_error(message: str) -> str:
    """An error as the ``--json`` commands print it on stdout: ``{"error": "..."}``."""
    return json.dumps({"error": message})


def _wants_json(ctx: click.Context) -> bool:
    """True when the command was asked for JSON (``--json``, ``--format json``)."""
    return bool(ctx.params.get("as_json")) or ctx.params.get("output_format") == "json"


def _asks_for_json(command: click.Command, args: list[str]) -> bool:
    """True when a command that can print JSON has ``--json`` or ``--format json`` in args."""
    names = {param.name for param in command.params}
    if "as_json" in names and "--json" in args:
        return True
    if "output_format" not in names:
        return False
    return "--format=json" in args or ("--format", "json") in itertools.pairwise(args)


def group_directory(directory: str | None) -> str | None:
    """The subcommand's ``-d``, else the group's."""
    return directory or click.get_current_context().meta.get(DIRECTORY_KEY)


def x_args(x_arg: tuple[str, ...] = ()) -> list[str]:
    """The group's ``-x`` values followed by the subcommand's, each exactly once."""
    group_values = click.get_current_context().meta.get(X_ARG_KEY, ())
    return [*group_values, *x_arg]


def command_group_path() -> str:
    """How the user called the running command's group: ``flask db``, ``workbench``...

    The group's name as typed (``flask database`` for an app's own name), and the program's
    as ``python -m workbench`` or ``python -m flask`` names itself.
    """
    group = click.get_current_context().parent
    if group is None:
        raise WorkbenchError("this command runs only inside a migration command group")
    return group.command_path


directory_option = click.option("-d", "--directory", default=None, help=DIRECTORY_HELP)
x_arg_option = click.option("-x", "--x-arg", multiple=True, help=X_ARG_HELP)
sql_option = click.option("--sql", is_flag=True, help=SQL_HELP)
tag_option = click.option("--tag", default=None, help=TAG_HELP)
verbose_option = click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each database",
)
