"""The ``flask db`` commands that resolve branches and broken states: linearize and doctor.

Also the merge plan that ``flask db merge`` prints before writing. Kept apart from the
Flask-Migrate verbs (``workbench.cli.verbs``); the group adds them beside those.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from workbench.cli.ci import format_option
from workbench.cli.options import (
    command,
    command_group_path,
    described_project,
    directory_option,
    migration_command,
    timeout_option,
)
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.graph import RevisionGraph
    from workbench.project import LoadedProject


def show_merge_plan(
    project: LoadedProject,
    revisions: Sequence[str],
    message: str | None,
    branch_label: str | None,
    rev_id: str | None,
    dry_run: bool,
) -> tuple[str, ...] | None:
    """Print what merging ``revisions`` means: conflicts, the merge revision, each database's run.

    Returns the revision ids the plan merges, so that the merge written is the one printed;
    None when no plan could be made for a reason Alembic's merge reports in its own words.
    Refuses (nothing printed, nothing written) while Alembic cannot load the history or a
    header the heads depend on is unknown: the plan would be a guess.
    """
    from workbench.core.branches import plan_merge
    from workbench.core.databases import database_status
    from workbench.core.graph import GraphError

    described = project.describe()
    graph = described.load_graph()
    _refuse_on_a_guess(graph, "merge")
    try:
        statuses = database_status(described.targets, graph)
        plan = plan_merge(graph, revisions, statuses, message, rev_id, branch_label)
    except (WorkbenchError, GraphError) as exc:
        if dry_run:
            raise WorkbenchError(str(exc)) from exc
        return None
    click.echo(plan.describe(graph))
    if dry_run:
        click.echo("Dry run: nothing written.")
    return plan.parents


def _refuse_on_a_guess(graph: RevisionGraph, action: str) -> None:
    """Stop a command that writes from the graph while it is broken or its heads unknown."""
    from workbench.core.verdict import why_no_writing

    reason = why_no_writing(graph.diagnostics)
    if reason is not None:
        raise WorkbenchError(f"cannot {action}: {reason}; nothing written")


@command()
@directory_option
@click.argument("head")
@click.option("--onto", required=True, help="The head to put HEAD's branch on top of")
@click.option("--dry-run", is_flag=True, help="Show the new graph and write nothing")
@click.option("--yes", is_flag=True, help="Rewrite without asking for confirmation")
@timeout_option
@migration_command
def linearize(
    directory: str | None, head: str, onto: str, dry_run: bool, yes: bool, timeout: float
) -> None:
    """Move HEAD's branch on top of another head, so history stays linear without a merge.

    Rewrites the down_revision of the branch's first revision; refused when any database
    has applied a revision of that branch.
    """
    from workbench.core import export
    from workbench.core.branches import analyze_branches, count
    from workbench.core.databases import database_status
    from workbench.core.files import FileChangedError
    from workbench.core.graph import GraphError
    from workbench.core.linearize import LinearizeRefused, apply_linearize, plan_linearize

    project = described_project(directory)
    graph = project.load_graph()
    _refuse_on_a_guess(graph, "linearize")
    statuses = database_status(project.targets, graph, timeout)
    try:
        head_id, onto_id = (_one_revision(graph, name) for name in (head, onto))
        plan = plan_linearize(graph, head_id, onto_id, statuses)
    except (GraphError, LinearizeRefused) as exc:
        raise WorkbenchError(f"cannot linearize: {exc}") from exc
    check = plan.check
    analysis = analyze_branches(graph, (head_id, onto_id))
    shown = len(check.branch) + len(analysis.branches[1].revisions) + len(check.merge_bases) + 1
    moving = count(len(check.branch), "revision")
    click.echo(
        f"Move the branch of {head_id} ({moving}, from {check.first}) onto {onto_id}: "
        f"{os.path.relpath(plan.path)} gets down_revision = {onto_id!r} "
        f"instead of {check.old_parent!r}"
    )
    for conflict in analysis.conflicts:
        click.echo(f"  conflict: {conflict.describe()}")
    click.echo("The history after the rewrite:")
    click.echo(export.graph_text(plan.graph, statuses, shown), nl=False)
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise WorkbenchError(
                "standard input is not a terminal: pass --yes to rewrite without asking; "
                "nothing written"
            )
        if not click.confirm(f"Rewrite {os.path.relpath(plan.path)}?", default=False):
            raise WorkbenchError("cancelled; nothing written")
    try:
        apply_linearize(plan)
    except (FileChangedError, OSError) as exc:
        raise WorkbenchError(str(exc)) from exc
    click.echo(f"Rewrote {os.path.relpath(plan.path)}; one head: {head_id}")


def _one_revision(graph: RevisionGraph, name: str) -> str:
    """The single revision a name (id, prefix, label) denotes."""
    from workbench.core.graph import GraphError

    resolved = graph.resolve(name)
    if len(resolved) != 1:
        raise GraphError(f"{name} names {len(resolved)} revisions; name one head")
    return resolved[0]


@command()
@directory_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per problem")
@format_option("json", "github")
@timeout_option
@click.option(
    "--only",
    "only_kinds",
    multiple=True,
    metavar="KIND",
    help="Report only problems of this kind (repeatable), e.g. multiple_heads",
)
@click.option(
    "--no-databases",
    is_flag=True,
    help="Check the revision files only; do not read the databases (for pre-commit hooks)",
)
@migration_command
def doctor(
    directory: str | None,
    as_json: bool,
    output_format: str,
    timeout: float,
    only_kinds: tuple[str, ...],
    no_databases: bool,
) -> None:
    """Find every broken state (heads, databases, revision files) and the command fixing each.

    Exits 1 when an error or a warning is found (information alone exits 0). Changes nothing.
    """
    from workbench.core.databases import database_status
    from workbench.core.doctor import describe_problems, examine, needs_attention

    project = described_project(directory)
    graph = project.load_graph()
    statuses = [] if no_databases else database_status(project.targets, graph, timeout)
    context = click.get_current_context()
    problems = examine(graph, statuses, project.directory, command=command_group_path())
    if only_kinds:
        problems = [problem for problem in problems if problem.kind in only_kinds]
    if output_format == "github":
        from workbench.cli.ci import echo_github
        from workbench.core.annotations import doctor_annotations

        echo_github(doctor_annotations(problems, graph))
    elif as_json or output_format == "json":
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
    else:
        click.echo(describe_problems(problems), nl=False)
    if needs_attention(problems):
        context.exit(1)


COMMANDS = (linearize, doctor)
