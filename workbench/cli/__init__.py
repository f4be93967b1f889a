"""The ``flask db`` command group: click wiring over ``workbench.services.commands``, nothing more.

The group is registered twice: by ``Migrate.init_app`` under its ``command`` name, and as a
Flask plugin command ``db`` so that it exists even when the app cannot be loaded, and for apps
still using Flask-Migrate's ``Migrate``.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import os
import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from flask import current_app
from flask.cli import NoAppException, ScriptInfo

from workbench.cli.console import preamble_held
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.graph import RevisionGraph

P = ParamSpec("P")
R = TypeVar("R")

DIRECTORY_HELP = 'Migration script directory (default is "migrations")'
SQL_HELP = "Don't emit SQL to database - dump to standard output instead"
TAG_HELP = 'Arbitrary "tag" name - can be used by custom env.py scripts'
X_ARG_HELP = "Additional arguments consumed by custom env.py scripts"
VERBOSE_HELP = "Use more verbose output"
FORK_ARGS = "workbench.fork_args"
"""Context meta key: the ``db`` group's arguments, when ``tui`` starts in two processes."""
EARLY_SCAN = "workbench.early_scan"
"""Context meta key: the scan ``graph`` and ``status`` started before the app was loaded."""


class MigrationCommand(click.Command):
    """A ``flask db`` subcommand; asked for JSON, even a wrong option is a JSON error.

    Options are parsed before the command runs, so ``_migration_command`` never sees such an
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
            ctx.meta[EARLY_SCAN] = early
            ctx.call_on_close(early.close)
        return ctx


def _start_early_scan(group: click.Group, args: list[str]) -> Any:
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
    from workbench.project import DEFAULT_DIRECTORY, start_folder_scan

    return start_folder_scan(command_options[0] or group_directory or DEFAULT_DIRECTORY)


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


def _forks_for_workbench(group: click.Group, args: list[str]) -> bool:
    """True when the arguments open the workbench and it can start in two processes.

    Then the app is loaded by the forked child (``workbench.tui.prefork``), which also checks
    whether the app has a ``db`` command of its own; ``FORK_ARGS`` keeps the arguments for it.
    """
    if current_app or not _opens_workbench(group, args):
        return False
    from workbench.tui.prefork import fork_available

    return fork_available()


def _opens_workbench(group: click.Group, args: list[str]) -> bool:
    """True for ``[group options] tui [tui options]``, with no option (``--help``) they lack."""
    rest = _after_options(group, args)
    command = group.commands.get("tui")
    if not rest or rest[0] != "tui" or command is None:
        return False
    return _after_options(command, rest[1:]) == []


def _after_options(command: click.Command, args: list[str]) -> list[str] | None:
    """The arguments after the command's leading options; None if one is not the command's."""
    options = [param for param in command.params if isinstance(param, click.Option)]
    with_value = {name for option in options if not option.is_flag for name in option.opts}
    flags = {name for option in options if option.is_flag for name in option.opts}
    rest = list(args)
    while rest and rest[0].startswith("-"):
        name, equals, _ = rest.pop(0).partition("=")
        if name in with_value and not equals:
            if not rest:
                return None
            rest.pop(0)
        elif not (name in with_value or (name in flags and not equals)):
            return None
    return rest


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


def _migration_command(function: Callable[P, R]) -> Callable[P, R | None]:
    """Run a subcommand inside the app's context; a failure becomes one ``Error:`` line, exit 1.

    Alembic's routine preamble is held back, so a command that fails before doing anything
    prints the error line alone.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        ctx = click.get_current_context()
        with preamble_held() as stderr:
            try:
                _push_app_context(ctx)
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
            click.echo(f"Error: {message}", err=True)
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


def _interactive_command(function: Callable[P, R]) -> Callable[P, R | None]:
    """Like ``_migration_command`` for a full-screen command, which needs the real stderr."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        ctx = click.get_current_context()
        try:
            _push_app_context(ctx)
            return function(*args, **kwargs)
        except WorkbenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        return None

    return wrapper


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


def _commands() -> Any:
    """The command functions, imported on use: they pull in Alembic's runtime."""
    from workbench.services import commands

    return commands


def _group_directory(directory: str | None) -> str | None:
    """The subcommand's ``-d``, else the group's."""
    return directory or click.get_current_context().meta.get("workbench.directory")


def _x_args(x_arg: tuple[str, ...] = ()) -> list[str]:
    """The group's ``-x`` values followed by the subcommand's, each exactly once."""
    group_values = click.get_current_context().meta.get("workbench.x_arg", ())
    return [*group_values, *x_arg]


directory_option = click.option("-d", "--directory", default=None, help=DIRECTORY_HELP)
x_arg_option = click.option("-x", "--x-arg", multiple=True, help=X_ARG_HELP)
sql_option = click.option("--sql", is_flag=True, help=SQL_HELP)
tag_option = click.option("--tag", default=None, help=TAG_HELP)
verbose_option = click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)


@click.group(cls=MigrationGroup)
@click.option("-d", "--directory", default=None, help=DIRECTORY_HELP)
@click.option("-x", "--x-arg", multiple=True, help=X_ARG_HELP)
@click.pass_context
def db(ctx: click.Context, directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations."""
    ctx.meta["workbench.directory"] = directory
    ctx.meta["workbench.x_arg"] = x_arg


db_plugin = db


@db.command()
@_migration_command
def list_templates() -> None:
    """List available templates."""
    _commands().list_templates()


@db.command()
@directory_option
@click.option("--multidb", is_flag=True, help="Support multiple databases")
@click.option(
    "-t", "--template", default=None, help='Repository template to use (default is "flask")'
)
@click.option(
    "--package",
    is_flag=True,
    help="Write empty __init__.py files to the environment and version locations",
)
@_migration_command
def init(directory: str | None, multidb: bool, template: str | None, package: bool) -> None:
    """Creates a new migration repository."""
    _commands().init(_group_directory(directory), multidb, template, package)


def _revision_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``revision`` and ``migrate`` share."""
    for option in reversed(
        [
            directory_option,
            click.option("-m", "--message", default=None, help="Revision message"),
            sql_option,
            click.option(
                "--head",
                default="head",
                help="Specify head revision or <branchname>@head to base new revision on",
            ),
            click.option(
                "--splice",
                is_flag=True,
                help='Allow a non-head revision as the "head" to splice onto',
            ),
            click.option(
                "--branch-label",
                default=None,
                help="Specify a branch label to apply to the new revision",
            ),
            click.option(
                "--version-path",
                default=None,
                help="Specify specific path from config for version file",
            ),
            click.option(
                "--rev-id",
                default=None,
                help="Specify a hardcoded revision id instead of generating one",
            ),
        ]
    ):
        function = option(function)
    return function


@db.command()
@_revision_options
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Populate revision script with candidate migration operations, "
    "based on comparison of database to model",
)
@_migration_command
def revision(
    directory: str | None,
    message: str | None,
    sql: bool,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    autogenerate: bool,
) -> None:
    """Create a new revision file."""
    _commands().revision(
        _group_directory(directory),
        message,
        autogenerate,
        sql,
        head,
        splice,
        branch_label,
        version_path,
        rev_id,
        x_arg=_x_args(),
    )


@db.command()
@_revision_options
@x_arg_option
@_migration_command
def migrate(
    directory: str | None,
    message: str | None,
    sql: bool,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    x_arg: tuple[str, ...],
) -> None:
    """Autogenerate a new revision file (Alias for 'revision --autogenerate')"""
    from workbench.cli.review import echo_migrate_findings
    from workbench.services.review import migrate_reviewed

    folder = _group_directory(directory)
    _, review = migrate_reviewed(
        folder,
        message,
        sql,
        head,
        splice,
        branch_label,
        version_path,
        rev_id,
        x_arg=_x_args(x_arg),
    )
    if review is not None and review.revision is not None:
        group = click.get_current_context().parent
        in_folder = f" -d {shlex.quote(folder)}" if folder else ""
        command_path = group.command_path if group else "flask db"
        echo_migrate_findings(review, f"{command_path}{in_folder} review {review.revision}")


@db.command()
@directory_option
@click.argument("revision", default="head")
@_migration_command
def edit(directory: str | None, revision: str) -> None:
    """Edit a revision file"""
    _commands().edit(_group_directory(directory), revision, x_arg=_x_args())


@db.command()
@directory_option
@click.option("-m", "--message", default=None, help="Merge revision message")
@click.option(
    "--branch-label", default=None, help="Specify a branch label to apply to the new revision"
)
@click.option(
    "--rev-id", default=None, help="Specify a hardcoded revision id instead of generating one"
)
@click.option(
    "--dry-run", is_flag=True, help="Print the merge plan (conflicts, upgrade order), write nothing"
)
@click.argument("revisions", nargs=-1)
@_migration_command
def merge(
    directory: str | None,
    message: str | None,
    branch_label: str | None,
    rev_id: str | None,
    dry_run: bool,
    revisions: tuple[str, ...],
) -> None:
    """Merge two revisions together, creating a new revision file"""
    from workbench.cli.branches import show_merge_plan

    planned = show_merge_plan(
        _group_directory(directory), revisions, message, branch_label, rev_id, dry_run
    )
    if dry_run:
        return
    # the ids the printed plan merges, in its order: what is written is what was printed
    _commands().merge(
        _group_directory(directory),
        planned if planned is not None else revisions,
        message,
        branch_label,
        rev_id,
        x_arg=_x_args(),
    )


@db.command()
@directory_option
@sql_option
@tag_option
@x_arg_option
@click.argument("revision", default="head")
@_migration_command
def upgrade(
    directory: str | None, sql: bool, tag: str | None, x_arg: tuple[str, ...], revision: str
) -> None:
    """Upgrade to a later version"""
    _commands().upgrade(_group_directory(directory), revision, sql, tag, x_arg=_x_args(x_arg))


@db.command()
@directory_option
@sql_option
@tag_option
@x_arg_option
@click.argument("revision", default="-1")
@_migration_command
def downgrade(
    directory: str | None, sql: bool, tag: str | None, x_arg: tuple[str, ...], revision: str
) -> None:
    """Revert to a previous version"""
    _commands().downgrade(_group_directory(directory), revision, sql, tag, x_arg=_x_args(x_arg))


@db.command()
@directory_option
@click.argument("revision", default="head")
@_migration_command
def show(directory: str | None, revision: str) -> None:
    """Show the revision denoted by the given symbol."""
    _commands().show(_group_directory(directory), revision, x_arg=_x_args())


@db.command()
@directory_option
@click.option(
    "-r",
    "--rev-range",
    default=None,
    help="Specify a revision range; format is [start]:[end]",
)
@verbose_option
@click.option(
    "-i",
    "--indicate-current",
    is_flag=True,
    help="Indicate current version (Alembic 0.9.9 or greater is required)",
)
@_migration_command
def history(
    directory: str | None, rev_range: str | None, verbose: bool, indicate_current: bool
) -> None:
    """List changeset scripts in chronological order."""
    _commands().history(
        _group_directory(directory), rev_range, verbose, indicate_current, x_arg=_x_args()
    )


@db.command()
@directory_option
@verbose_option
@click.option(
    "--resolve-dependencies", is_flag=True, help="Treat dependency versions as down revisions"
)
@_migration_command
def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
    """Show current available heads in the script directory"""
    _commands().heads(_group_directory(directory), verbose, resolve_dependencies, x_arg=_x_args())


@db.command()
@directory_option
@verbose_option
@_migration_command
def branches(directory: str | None, verbose: bool) -> None:
    """Show current branch points"""
    _commands().branches(_group_directory(directory), verbose, x_arg=_x_args())


@db.command()
@directory_option
@verbose_option
@_migration_command
def current(directory: str | None, verbose: bool) -> None:
    """Display the current revision for each database."""
    _commands().current(_group_directory(directory), verbose, x_arg=_x_args())


@db.command()
@directory_option
@sql_option
@tag_option
@click.option(
    "--purge", is_flag=True, help="Delete the version in the alembic_version table before stamping"
)
@click.argument("revision", default="head")
@_migration_command
def stamp(directory: str | None, sql: bool, tag: str | None, purge: bool, revision: str) -> None:
    """'stamp' the revision table with the given revision; don't run any migrations"""
    _commands().stamp(_group_directory(directory), revision, sql, tag, purge, x_arg=_x_args())


@db.command()
@directory_option
@_migration_command
def check(directory: str | None) -> None:
    """Check if there are any new operations to migrate"""
    _commands().check(_group_directory(directory), x_arg=_x_args())


@db.command()
@directory_option
@click.option(
    "--read-only", is_flag=True, help="Disable every action that writes a file or a database"
)
def tui(directory: str | None, read_only: bool) -> None:
    """Open the migration workbench: the revision graph, the databases, the scripts."""
    ctx = click.get_current_context()
    info = ctx.find_object(ScriptInfo)
    app_import_path = info.app_import_path if info else None
    directory = _group_directory(directory)
    if FORK_ARGS in ctx.meta:
        from workbench.tui import prefork

        job = functools.partial(_load_in_child, ctx, directory)
        loaded = prefork.load_in_child(job, directory)
        if isinstance(loaded, prefork.Failed):
            click.echo(f"Error: {loaded.error}", err=True)
            ctx.exit(1)
        if isinstance(loaded, prefork.Preloaded):
            from workbench.tui.app import run_preloaded

            try:
                run_preloaded(loaded, app_import_path=app_import_path, read_only=read_only)
            except WorkbenchError as exc:
                click.echo(f"Error: {exc}", err=True)
                ctx.exit(1)
            return
        if _run_own_db_command(ctx):
            return
    _workbench_in_process(app_import_path, directory, read_only)


def _load_in_child(
    ctx: click.Context, directory: str | None, send: Callable[[object], None]
) -> None:
    """The forked child's job: step aside for the app's own ``db``, or load the workbench."""
    from workbench.tui import prefork

    group = ctx.parent
    assert group is not None
    if _app_command_named(group.parent, group.info_name) is not None:
        send(prefork.StepAside())
        return
    try:
        _push_app_context(ctx)
        prefork.describe_project(current_app._get_current_object(), directory, send)
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


@_interactive_command
def _workbench_in_process(
    app_import_path: str | None, directory: str | None, read_only: bool
) -> None:
    """The workbench with the app loaded in this process (no fork, or the child said nothing)."""
    from workbench.tui.app import run_workbench

    run_workbench(
        current_app._get_current_object(),
        app_import_path=app_import_path,
        directory=directory,
        read_only=read_only,
    )


timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each database",
)


@db.command()
@directory_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "dot", "mermaid"]),
    default="text",
    show_default=True,
    help="Output format",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Show the N newest revisions"
)
@timeout_option
@_migration_command
def graph(directory: str | None, output_format: str, limit: int | None, timeout: float) -> None:
    """Draw the revision graph, with heads and where each database stands."""
    from workbench.core import export, verdict
    from workbench.core.databases import database_status
    from workbench.project import load_project

    project = load_project(current_app, _group_directory(directory))
    revision_graph = project.load_graph(click.get_current_context().meta.pop(EARLY_SCAN, None))
    statuses = database_status(project.targets, revision_graph, timeout)
    if output_format == "json":
        click.echo(json.dumps(export.graph_document(revision_graph, statuses, limit), indent=2))
        if verdict.refusals(revision_graph.diagnostics):
            click.get_current_context().exit(1)
        return
    render = {"text": export.graph_text, "dot": export.graph_dot, "mermaid": export.graph_mermaid}
    click.echo(render[output_format](revision_graph, statuses, limit), nl=False)
    if _report_history(revision_graph):
        click.get_current_context().exit(1)


@db.command()
@directory_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per database")
@timeout_option
@_migration_command
def status(directory: str | None, as_json: bool, timeout: float) -> None:
    """Show where each database stands; exit 1 unless every one is at head."""
    from workbench.core import export
    from workbench.core.databases import database_status
    from workbench.project import load_project

    project = load_project(current_app, _group_directory(directory))
    revision_graph = project.load_graph(click.get_current_context().meta.pop(EARLY_SCAN, None))
    statuses = database_status(project.targets, revision_graph, timeout)
    if as_json:
        click.echo(json.dumps([export.status_dict(item) for item in statuses], indent=2))
    else:
        click.echo(export.status_table(statuses), nl=False)
    broken = _report_history(revision_graph)
    if broken or not all(item.at_head for item in statuses):
        click.get_current_context().exit(1)


def _report_history(graph: RevisionGraph) -> bool:
    """Print on stderr what keeps the history from being what it looks like; True if broken.

    One line per refusal (Alembic cannot load the history), per unknown header that leaves
    the heads or an upgrade unknown, and per warning Alembic itself gives. A history Alembic
    loads cleanly prints nothing; an unknown branch label alone changes nothing shown here.
    """
    from workbench.core import verdict

    broken = verdict.refusals(graph.diagnostics)
    for diagnostic in verdict.worth_a_line(graph.diagnostics):
        click.echo(verdict.line(diagnostic), err=True)
    if broken:
        click.echo(
            f"Error: the revision history is broken, Alembic cannot load it "
            f"({verdict.summary(broken)})",
            err=True,
        )
    return bool(broken)


import workbench.cli.branches  # noqa: E402,F401  (registers linearize and doctor)
from workbench.cli import review as cli_review  # noqa: E402,F401  (registers review and verify)
