"""Flask-Migrate's verbs as commands: ``init``, ``revision``, ``migrate``, ``upgrade`` and the rest.

Each is click wiring over ``workbench.services.commands`` on the group's project, with
Flask-Migrate's options, help and output.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import click

from workbench.cli.options import (
    command,
    command_group_path,
    directory_option,
    group_directory,
    loaded_project,
    migration_command,
    sql_option,
    tag_option,
    verbose_option,
    x_arg_option,
    x_args,
)
from workbench.cli.safety import safety_arguments, safety_options


def _commands() -> Any:
    """The use cases, imported on use: they pull in Alembic's runtime."""
    from workbench.services import commands

    return commands


@command()
@migration_command
def list_templates() -> None:
    """List available templates."""
    _commands().list_templates()


@command()
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
@migration_command
def init(directory: str | None, multidb: bool, template: str | None, package: bool) -> None:
    """Creates a new migration repository."""
    _commands().init(loaded_project(directory), multidb, template, package)


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


@command()
@_revision_options
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Populate revision script with candidate migration operations, "
    "based on comparison of database to model",
)
@migration_command
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
        loaded_project(directory),
        message,
        autogenerate,
        sql,
        head,
        splice,
        branch_label,
        version_path,
        rev_id,
        x_arg=x_args(),
    )


@command()
@_revision_options
@x_arg_option
@migration_command
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

    folder = group_directory(directory)
    _, review = migrate_reviewed(
        loaded_project(directory),
        message,
        sql,
        head,
        splice,
        branch_label,
        version_path,
        rev_id,
        x_arg=x_args(x_arg),
    )
    if review is not None and review.revision is not None:
        in_folder = f" -d {shlex.quote(folder)}" if folder else ""
        echo_migrate_findings(review, f"{command_group_path()}{in_folder} review {review.revision}")


@command()
@directory_option
@click.argument("revision", default="head")
@migration_command
def edit(directory: str | None, revision: str) -> None:
    """Edit a revision file"""
    _commands().edit(loaded_project(directory), revision, x_arg=x_args())


@command()
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
@migration_command
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

    project = loaded_project(directory)
    planned = show_merge_plan(project, revisions, message, branch_label, rev_id, dry_run)
    if dry_run:
        return
    # the ids the printed plan merges, in its order: what is written is what was printed
    _commands().merge(
        project,
        planned if planned is not None else revisions,
        message,
        branch_label,
        rev_id,
        x_arg=x_args(),
    )


@command()
@directory_option
@sql_option
@tag_option
@x_arg_option
@safety_options
@click.argument("revision", default="head")
@migration_command
def upgrade(
    directory: str | None,
    sql: bool,
    tag: str | None,
    x_arg: tuple[str, ...],
    revision: str,
    **safety: Any,
) -> None:
    """Upgrade to a later version"""
    if sql:
        from workbench.services.scratch_sql import upgrade_sql

        rendered = upgrade_sql(loaded_project(directory), revision, tag, x_arg=x_args(x_arg))
        click.echo(rendered.text, nl=False)
        return
    _commands().upgrade(
        loaded_project(directory),
        revision,
        sql,
        tag,
        x_arg=x_args(x_arg),
        **safety_arguments(safety),
    )


@command()
@directory_option
@sql_option
@tag_option
@x_arg_option
@safety_options
@click.argument("revision", default="-1")
@migration_command
def downgrade(
    directory: str | None,
    sql: bool,
    tag: str | None,
    x_arg: tuple[str, ...],
    revision: str,
    **safety: Any,
) -> None:
    """Revert to a previous version"""
    if sql:
        from workbench.services.scratch_sql import downgrade_sql

        rendered = downgrade_sql(loaded_project(directory), revision, tag, x_arg=x_args(x_arg))
        click.echo(rendered.text, nl=False)
        return
    _commands().downgrade(
        loaded_project(directory),
        revision,
        sql,
        tag,
        x_arg=x_args(x_arg),
        **safety_arguments(safety),
    )


@command()
@directory_option
@click.argument("revision", default="head")
@migration_command
def show(directory: str | None, revision: str) -> None:
    """Show the revision denoted by the given symbol."""
    _commands().show(loaded_project(directory), revision, x_arg=x_args())


@command()
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
@migration_command
def history(
    directory: str | None, rev_range: str | None, verbose: bool, indicate_current: bool
) -> None:
    """List changeset scripts in chronological order."""
    _commands().history(
        loaded_project(directory), rev_range, verbose, indicate_current, x_arg=x_args()
    )


@command()
@directory_option
@verbose_option
@click.option(
    "--resolve-dependencies", is_flag=True, help="Treat dependency versions as down revisions"
)
@migration_command
def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
    """Show current available heads in the script directory"""
    _commands().heads(loaded_project(directory), verbose, resolve_dependencies, x_arg=x_args())


@command()
@directory_option
@verbose_option
@migration_command
def branches(directory: str | None, verbose: bool) -> None:
    """Show current branch points"""
    _commands().branches(loaded_project(directory), verbose, x_arg=x_args())


@command()
@directory_option
@verbose_option
@migration_command
def current(directory: str | None, verbose: bool) -> None:
    """Display the current revision for each database."""
    _commands().current(loaded_project(directory), verbose, x_arg=x_args())


@command()
@directory_option
@sql_option
@tag_option
@click.option(
    "--purge", is_flag=True, help="Delete the version in the alembic_version table before stamping"
)
@safety_options
@click.argument("revision", default="head")
@migration_command
def stamp(
    directory: str | None, sql: bool, tag: str | None, purge: bool, revision: str, **safety: Any
) -> None:
    """'stamp' the revision table with the given revision; don't run any migrations"""
    _commands().stamp(
        loaded_project(directory),
        revision,
        sql,
        tag,
        purge,
        x_arg=x_args(),
        **safety_arguments(safety),
    )


@command()
@directory_option
@migration_command
def check(directory: str | None) -> None:
    """Check if there are any new operations to migrate"""
    _commands().check(loaded_project(directory), x_arg=x_args())


COMMANDS = (
    list_templates,
    init,
    revision,
    migrate,
    edit,
    merge,
    upgrade,
    downgrade,
    show,
    history,
    heads,
    branches,
    current,
    stamp,
    check,
)
