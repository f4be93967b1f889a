"""The ``flask db`` group: Flask's way in to the commands, and the only CLI module that sees Flask.

It loads the app and enters its context, makes the app's migration project
(``workbench.project.flask``) for the commands, starts the workbench in two processes when it
can, and composes the families of commands: Flask-Migrate's verbs, the inspecting ones, the
branch ones and the review ones.

The group is registered twice: by ``Migrate.init_app`` under its ``command`` name, and as a
Flask plugin command ``db`` so that it exists even when the app cannot be loaded, and for apps
still using Flask-Migrate's ``Migrate``.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import NoAppException, ScriptInfo

from workbench.cli.branches import COMMANDS as BRANCH_COMMANDS
from workbench.cli.inspection import COMMANDS as INSPECTING_COMMANDS
from workbench.cli.options import (
    DIRECTORY_HELP,
    DIRECTORY_KEY,
    EARLY_SCAN_KEY,
    SOURCE_KEY,
    X_ARG_HELP,
    X_ARG_KEY,
    MigrationCommand,
    command_group_path,
    interactive_command,
)
from workbench.cli.review import COMMANDS as REVIEW_COMMANDS
from workbench.cli.squash import COMMANDS as SQUASH_COMMANDS
from workbench.cli.verbs import COMMANDS as FLASK_MIGRATE_COMMANDS
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.scan import PendingScan
    from workbench.project import LoadedProject

FORK_ARGS = "workbench.fork_args"
"""Context meta key: the ``db`` group's arguments, when ``tui`` starts in two processes."""


class MigrationGroup(click.Group):
    """The ``db`` group; as a plugin it steps aside when the app defines its own ``db`` command.

    Apps that already had a ``db`` command pass ``command='database'`` to ``Migrate``; the
    plugin must not hide their command.
    """

    command_class = MigrationCommand

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if _forks_for_workbench(self, args):
            ctx = super().make_context(info_name, args, parent=parent, **extra)
            ctx.meta[FORK_ARGS] = list(args)
            return ctx
        early = _start_early_scan(self, args)
        try:
            own_command = _app_command_named(parent, info_name)
            if own_command is not None:
                if early is not None:
                    early.close()
                return own_command.make_context(info_name, args, parent=parent, **extra)
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except BaseException:
            if early is not None:
                early.close()
            raise
        if early is not None:
            ctx.meta[EARLY_SCAN_KEY] = early
            ctx.call_on_close(early.close)
        return ctx


class FlaskProjectSource:
    """The commands' project: the Flask app's, loaded as ``flask`` loads it."""

    def enter(self, ctx: click.Context) -> None:
        """Load the app (once) and enter its context."""
        _push_app_context(ctx)

    def project(self, directory: str | None) -> LoadedProject:
        """The project of the app whose context is active."""
        from workbench.project.flask import FlaskProject

        return FlaskProject.current(directory)

    def workbench_command(
        self, ctx: click.Context, directory: str | None, read_only: bool
    ) -> list[str]:
        """``python -m flask [--app APP] db tui [-d DIR] [--read-only]``, as this one was called."""
        info = ctx.find_object(ScriptInfo)
        app_import_path = info.app_import_path if info else None
        group = ctx.parent.info_name if ctx.parent and ctx.parent.info_name else "db"
        return [
            sys.executable,
            "-m",
            "flask",
            *(["--app", app_import_path] if app_import_path else []),
            group,
            "tui",
            *(["--directory", directory] if directory else []),
            *(["--read-only"] if read_only else []),
        ]

    def open_workbench(self, ctx: click.Context, directory: str | None, read_only: bool) -> None:
        """The workbench: loaded by a forked child when the group asked for it, else here."""
        info = ctx.find_object(ScriptInfo)
        app_import_path = info.app_import_path if info else None
        command_group = command_group_path()
        if FORK_ARGS in ctx.meta:
            from workbench.project.flask import DEFAULT_DIRECTORY
            from workbench.tui import prefork

            job = functools.partial(_load_in_child, ctx, directory)
            loaded = prefork.load_in_child(job, directory or DEFAULT_DIRECTORY)
            if isinstance(loaded, prefork.Failed):
                click.echo(f"Error: {loaded.error}", err=True)
                ctx.exit(1)
            if isinstance(loaded, prefork.Preloaded):
                from workbench.tui.app import run_preloaded

                try:
                    run_preloaded(
                        loaded,
                        command_group=command_group,
                        app_import_path=app_import_path,
                        read_only=read_only,
                    )
                except WorkbenchError as exc:
                    click.echo(f"Error: {exc}", err=True)
                    ctx.exit(1)
                return
            if _run_own_db_command(ctx):
                return
        _workbench_in_process(command_group, app_import_path, directory, read_only)


def _start_early_scan(group: click.Group, args: list[str]) -> PendingScan | None:
    """For ``graph`` and ``status``, the scan of the migrations folder, started before the app.

    Loading the app takes about as long as a cold scan of thousands of revisions; a forked
    copy scans meanwhile. The folder is the ``-d`` given, else Migrate's default: the command
    takes the scan only if the app's migration project has these very folders.
    """
    if current_app:
        return None
    group_options = _leading_directory(group, args)
    if group_options is None or not group_options[1]:
        return None
    group_directory, (name, *rest) = group_options
    command = group.commands.get(name)
    if name not in ("graph", "status") or command is None:
        return None
    command_options = _leading_directory(command, rest)
    if command_options is None or command_options[1]:
        return None
    from workbench.project import start_folder_scan
    from workbench.project.flask import DEFAULT_DIRECTORY

    return start_folder_scan(command_options[0] or group_directory or DEFAULT_DIRECTORY)


def _forks_for_workbench(group: click.Group, args: list[str]) -> bool:
    """True when the arguments open the workbench and it can start in two processes.

    Then the app is loaded by the forked child (``workbench.tui.prefork``), which also checks
    whether the app has a ``db`` command of its own; ``FORK_ARGS`` keeps the arguments for it.
    """
    if current_app or not opens_workbench(group, args):
        return False
    from workbench.tui.prefork import fork_available

    return fork_available()


def opens_workbench(group: click.Group, args: list[str]) -> bool:
    """True for ``[group options] tui [tui options]``, with no option (``--help``) they lack."""
    rest = _after_options(group, args)
    command = group.commands.get("tui")
    if not rest or rest[0] != "tui" or command is None:
        return False
    return _after_options(command, rest[1:]) == []


def _after_options(command: click.Command, args: list[str]) -> list[str] | None:
    """The arguments after the command's leading options; None if one is not the command's."""
    leading = _leading_directory(command, args)
    return None if leading is None else leading[1]


def _leading_directory(
    command: click.Command, args: list[str]
) -> tuple[str | None, list[str]] | None:
    """The ``-d`` among the command's leading options, and the arguments after them.

    None if an option is not one of the command's (``--help``), or has no value.
    """
    options = [param for param in command.params if isinstance(param, click.Option)]
    with_value = {name for option in options if not option.is_flag for name in option.opts}
    flags = {name for option in options if option.is_flag for name in option.opts}
    directory = None
    rest = list(args)
    while rest and rest[0].startswith("-"):
        name, equals, value = rest.pop(0).partition("=")
        if name in with_value and not equals:
            if not rest:
                return None
            value = rest.pop(0)
        elif not (name in with_value or (name in flags and not equals)):
            return None
        if name in ("-d", "--directory"):
            directory = value
    return directory, rest


def _is_migration_group(command: click.Command) -> bool:
    """True for our group and for Flask-Migrate's, which ours replaces."""
    callback_module = getattr(command.callback, "__module__", "")
    return isinstance(command, MigrationGroup) or callback_module == "flask_migrate.cli"


def _app_command_named(parent: click.Context | None, name: str | None) -> click.Command | None:
    """The app's own command of that name, when it is not a migration group."""
    if parent is None or name is None or current_app:
        return None
    info = parent.find_object(ScriptInfo)
    if info is None:
        return None
    try:
        app = info.load_app()
    except Exception:
        return None
    command = app.cli.get_command(parent, name)
    if command is None or _is_migration_group(command):
        return None
    parent.with_resource(app.app_context())
    return command


def _push_app_context(ctx: click.Context) -> None:
    """Load the app (once) and enter its context; a missing app is a one-line error.

    What the app's import made lives until the command ends: frozen, the garbage collector
    stops walking those objects again and again (tens of milliseconds per command).
    """
    if current_app:
        return
    info = ctx.ensure_object(ScriptInfo)
    try:
        app = info.load_app()
    except NoAppException as exc:
        raise WorkbenchError(exc.format_message()) from exc
    except Exception as exc:
        raise WorkbenchError(f"cannot load the app: {exc}") from exc
    gc.freeze()
    ctx.with_resource(app.app_context())


def _load_in_child(
    ctx: click.Context, directory: str | None, send: Callable[[object], None]
) -> None:
    """The forked child's job: step aside for the app's own ``db``, or load the workbench."""
    from workbench.project.flask import FlaskProject
    from workbench.tui import prefork

    group = ctx.parent
    assert group is not None
    if _app_command_named(group.parent, group.info_name) is not None:
        send(prefork.StepAside())
        return
    try:
        _push_app_context(ctx)
        prefork.describe_project(FlaskProject.current(directory), send)
    except WorkbenchError as exc:
        send(prefork.Failed(str(exc)))


def _run_own_db_command(ctx: click.Context) -> bool:
    """Run the app's own ``db`` command, with the group's arguments, if it has one."""
    group = ctx.parent
    assert group is not None
    own_command = _app_command_named(group.parent, group.info_name)
    if own_command is None:
        return False
    args = group.meta[FORK_ARGS]
    with own_command.make_context(group.info_name, args, parent=group.parent) as own:
        own_command.invoke(own)
    return True


@interactive_command
def _workbench_in_process(
    command_group: str, app_import_path: str | None, directory: str | None, read_only: bool
) -> None:
    """The workbench with the app loaded in this process (no fork, or the child said nothing)."""
    from workbench.project.flask import FlaskProject
    from workbench.tui.app import run_workbench

    project = FlaskProject.current(directory).describe()
    run_workbench(
        project, command_group=command_group, app_import_path=app_import_path, read_only=read_only
    )


@click.group(cls=MigrationGroup)
@click.option("-d", "--directory", default=None, help=DIRECTORY_HELP)
@click.option("-x", "--x-arg", multiple=True, help=X_ARG_HELP)
@click.pass_context
def db(ctx: click.Context, directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations."""
    ctx.meta[DIRECTORY_KEY] = directory
    ctx.meta[X_ARG_KEY] = x_arg
    ctx.meta[SOURCE_KEY] = FlaskProjectSource()


for family_command in (
    *FLASK_MIGRATE_COMMANDS,
    *INSPECTING_COMMANDS,
    *BRANCH_COMMANDS,
    *REVIEW_COMMANDS,
    *SQUASH_COMMANDS,
):
    db.add_command(family_command)

db_plugin = db
