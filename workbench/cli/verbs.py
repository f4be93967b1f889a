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
    """List the templates `init` can write."""
    _commands().list_templates()


@command()
@directory_option
@click.option("--multidb", is_flag=True, help="Use the template for apps with binds")
@click.option("-t", "--template", default=None, help='The template to write (default: "flask")')
@click.option(
    "--package",
    is_flag=True,
    help="Write empty __init__.py files to the environment and version locations",
)
@migration_command
def init(directory: str | None, multidb: bool, template: str | None, package: bool) -> None:
    """Create the migrations folder: env.py, the script template and versions/."""
    _commands().init(loaded_project(directory), multidb, template, package)


def _revision_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``revision`` and ``migrate`` share."""
    for option in reversed(
        [
            directory_option,
            click.option("-m", "--message", default=None, help="The revision's message"),
            sql_option,
            click.option(
                "--head",
                default="head",
                help="The head (or <branch>@head) the new revision builds on",
            ),
            click.option(
                "--splice",
                is_flag=True,
                help="Let --head name a revision that is not a head (starts a branch)",
            ),
            click.option(
                "--branch-label",
                default=None,
                help="A branch label for the new revision",
            ),
            click.option(
                "--version-path",
                default=None,
                help="The version location (from the config) to write the file in",
            ),
            click.option(
                "--rev-id",
                default=None,
                help="The new revision's id, instead of a generated one",
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
    help="Fill the script with what comparing the models to the database finds",
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
    """Write a new, empty revision file."""
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
    """Write a revision file of what the models changed (revision --autogenerate)."""
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
    """Open a revision file in $EDITOR."""
    _commands().edit(loaded_project(directory), revision, x_arg=x_args())


@command()
@directory_option
@click.option("-m", "--message", default=None, help="The merge revision's message")
@click.option("--branch-label", default=None, help="A branch label for the new revision")
@click.option("--rev-id", default=None, help="The new revision's id, instead of a generated one")
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
    """Write a merge revision that joins heads into one."""
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
    """Run the upgrades up to REVISION (default: head)."""
    if sql:
        from workbench.services.scratch_sql import upgrade_sql

        rendered = upgrade_sql(loaded_project(directory), revision, tag, x_arg=x_args(x_arg))
        click.echo(rendered.text, nl=False)
        return
    _commands().upgrade(
        loaded_project(directory),
        revision,
        tag=tag,
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
    """Run the downgrades down to REVISION (default: one step back)."""
    if sql:
        from workbench.services.scratch_sql import downgrade_sql

        rendered = downgrade_sql(loaded_project(directory), revision, tag, x_arg=x_args(x_arg))
        click.echo(rendered.text, nl=False)
        return
    _commands().downgrade(
        loaded_project(directory),
        revision,
        tag=tag,
        x_arg=x_args(x_arg),
        **safety_arguments(safety),
    )


@command()
@directory_option
@click.argument("revision", default="head")
@migration_command
def show(directory: str | None, revision: str) -> None:
    """Show one revision: its id, parents, message and file."""
    _commands().show(loaded_project(directory), revision, x_arg=x_args())


@command()
@directory_option
@click.option(
    "-r",
    "--rev-range",
    default=None,
    help="Only revisions in this range: [start]:[end]",
)
@verbose_option
@click.option(
    "-i",
    "--indicate-current",
    is_flag=True,
    help="Mark the revisions the database stands at",
)
@migration_command
def history(
    directory: str | None, rev_range: str | None, verbose: bool, indicate_current: bool
) -> None:
    """List the revisions, newest first."""
    _commands().history(
        loaded_project(directory), rev_range, verbose, indicate_current, x_arg=x_args()
    )


@command()
@directory_option
@verbose_option
@click.option("--resolve-dependencies", is_flag=True, help="Count depends_on revisions as parents")
@migration_command
def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
    """Show the heads of the revision graph."""
    _commands().heads(loaded_project(directory), verbose, resolve_dependencies, x_arg=x_args())


@command()
@directory_option
@verbose_option
@migration_command
def branches(directory: str | None, verbose: bool) -> None:
    """Show the revisions where the graph branches."""
    _commands().branches(loaded_project(directory), verbose, x_arg=x_args())


@command()
@directory_option
@verbose_option
@migration_command
def current(directory: str | None, verbose: bool) -> None:
    """Show the revision each database stands at."""
    _commands().current(loaded_project(directory), verbose, x_arg=x_args())


@command()
@directory_option
@sql_option
@tag_option
@click.option("--purge", is_flag=True, help="Empty the version table before stamping")
@safety_options
@click.argument("revision", default="head")
@migration_command
def stamp(
    directory: str | None, sql: bool, tag: str | None, purge: bool, revision: str, **safety: Any
) -> None:
    """Set the version table to REVISION without running any migration."""
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
    """Exit 1 when the models have changes no revision holds yet."""
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
