"""Commands that look without changing anything: ``graph``, ``status`` and the workbench, ``tui``.

``graph`` and ``status`` read the revision files statically and the version tables directly:
neither imports Alembic's runtime, a revision file or Textual. They run with the cyclic
garbage collector paused: what they build (a record per revision) has no cycles to free, and
each collection would walk all of it again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from workbench.cli.ci import format_option
from workbench.cli.options import (
    command,
    described_project,
    directory_option,
    early_scan,
    group_directory,
    migration_command,
    project_source,
    timeout_option,
)
from workbench.core.collector import collector_paused
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.graph import RevisionGraph


SERVE_HINT = "Error: --serve needs textual-serve: pip install 'flask-migrate-workbench[serve]'"
SERVE_MODULES = {"textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2"}
"""What the ``serve`` extra installs; any other missing module is a bug, not a hint."""
DEFAULT_PORT = 8000


@command()
@directory_option
@click.option(
    "--read-only", is_flag=True, help="Disable every action that writes a file or a database"
)
@click.option(
    "--serve",
    is_flag=True,
    help="Serve the workbench to web browsers (read-only unless --allow-writes)",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="With --serve: the address to listen on",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="With --serve: the port to listen on",
)
@click.option(
    "--allow-writes", is_flag=True, help="With --serve: let the browsers' workbenches write"
)
def tui(
    directory: str | None,
    read_only: bool,
    serve: bool,
    host: str,
    port: int,
    allow_writes: bool,
) -> None:
    """Open the migration workbench: the revision graph, the databases, the scripts."""
    ctx = click.get_current_context()
    if not serve:
        for name, given in (("--allow-writes", allow_writes), ("--host", host != "127.0.0.1")):
            if given:
                raise click.UsageError(f"{name} goes with --serve")
        if port != DEFAULT_PORT:
            raise click.UsageError("--port goes with --serve")
        project_source(ctx).open_workbench(ctx, group_directory(directory), read_only)
        return
    if read_only and allow_writes:
        raise click.UsageError("--read-only and --allow-writes exclude each other")
    try:
        from workbench.cli.serving import serve_workbench
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in SERVE_MODULES:
            raise
        click.echo(SERVE_HINT, err=True)
        ctx.exit(1)
    source = project_source(ctx)
    try:
        source.enter(ctx)  # a project that cannot load fails here, not in every tab
        argv = source.workbench_command(ctx, group_directory(directory), not allow_writes)
        serve_workbench(argv, host=host, port=port, allow_writes=allow_writes)
    except WorkbenchError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(1)


@command()
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
@migration_command
@collector_paused()
def graph(directory: str | None, output_format: str, limit: int | None, timeout: float) -> None:
    """Draw the revision graph, with heads and where each database stands."""
    from workbench.core import export, verdict
    from workbench.core.databases import database_status

    project = described_project(directory)
    revision_graph = project.load_graph(early_scan())
    statuses = database_status(project.targets, revision_graph, timeout)
    if output_format == "json":
        click.echo(json.dumps(export.graph_document(revision_graph, statuses, limit), indent=2))
        if verdict.refusals(revision_graph.diagnostics):
            click.get_current_context().exit(1)
        return
    render = {"text": export.graph_text, "dot": export.graph_dot, "mermaid": export.graph_mermaid}
    click.echo(render[output_format](revision_graph, statuses, limit), nl=False)
    if report_history(revision_graph):
        click.get_current_context().exit(1)


@command()
@directory_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per database")
@format_option("json", "github")
@timeout_option
@migration_command
@collector_paused()
def status(directory: str | None, as_json: bool, output_format: str, timeout: float) -> None:
    """Show where each database stands; exit 1 unless every one is at head."""
    from workbench.core import export
    from workbench.core.databases import database_status

    project = described_project(directory)
    revision_graph = project.load_graph(early_scan())
    statuses = database_status(project.targets, revision_graph, timeout)
    if output_format == "github":
        from workbench.cli.ci import echo_github
        from workbench.core import verdict
        from workbench.core.annotations import history_annotations, status_annotations

        diagnostics = revision_graph.diagnostics
        refused = verdict.refusals(diagnostics)
        echo_github(
            history_annotations(verdict.worth_a_line(diagnostics), refused)
            + status_annotations(statuses, revision_graph)
        )
    elif as_json or output_format == "json":
        click.echo(json.dumps([export.status_dict(item) for item in statuses], indent=2))
    else:
        click.echo(export.status_table(statuses), nl=False)
    broken = report_history(revision_graph)
    if broken or not all(item.at_head for item in statuses):
        click.get_current_context().exit(1)


def report_history(graph: RevisionGraph) -> bool:
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


COMMANDS = (graph, status, tui)
