"""``flask db squash``: click wiring over ``workbench.services.squash``.

The plan comes first (what is removed, what stays, where every database stands, what the
baseline cannot carry), then the proof on scratch databases; the files are written only when
nothing refuses, the proof passes and the user says yes (or gave ``--yes``).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from typing import TypeVar

import click

from workbench.cli.options import (
    command,
    directory_option,
    loaded_project,
    migration_command,
    x_arg_option,
    x_args,
)
from workbench.core.squash import plan_lines, proof_lines
from workbench.errors import WorkbenchError

R = TypeVar("R")


def _quietly(work: Callable[[], R]) -> R:
    """Run work with what env.py and Alembic print held back."""
    held = io.StringIO()
    with contextlib.redirect_stdout(held), contextlib.redirect_stderr(held):
        return work()


@command()
@directory_option
@x_arg_option
@click.option("-m", "--message", default=None, help="Message of the baseline revision")
@click.option("--dry-run", is_flag=True, help="Print the plan and the proof, write nothing")
@click.option("--yes", is_flag=True, help="Write without asking (uncommitted changes still refuse)")
@click.argument("revision")
@migration_command
def squash(
    directory: str | None,
    x_arg: tuple[str, ...],
    message: str | None,
    dry_run: bool,
    yes: bool,
    revision: str,
) -> None:
    """Collapse REVISION and everything below it into one baseline revision, proven first.

    The baseline keeps REVISION's id and creates the schema as it stands at REVISION,
    rendered by autogenerate from a scratch database upgraded through the old revisions.
    Before anything is written, a second scratch database is upgraded through the baseline
    and both schemas are compared; any difference refuses the squash.
    """
    from workbench.services import squash as squashing

    project = loaded_project(directory)
    prepared = _quietly(lambda: squashing.prepare(project, revision))
    plan = prepared.plan
    if plan.squashed:
        for line in plan_lines(plan):
            click.echo(line)
    if plan.refused:
        for refusal in plan.refusals:
            click.echo(f"Refused: {refusal.describe()}", err=True)
        raise WorkbenchError(f"the squash of {revision} is refused; nothing was written")
    values = x_args(x_arg)
    baseline = _quietly(lambda: squashing.build_baseline(project, prepared, message, values))
    for line in proof_lines(baseline.proof):
        click.echo(line)
    if not baseline.proof.passed:
        raise WorkbenchError("the baseline does not build the same schema; nothing was written")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    if not yes:
        question = f"Write the baseline and remove {len(plan.removed_paths)} file(s)?"
        if plan.not_carried:
            question = (
                f"Write the baseline without the {len(plan.not_carried)} step(s) it does not "
                f"carry, and remove {len(plan.removed_paths)} file(s)?"
            )
        if not click.confirm(question, default=False):
            click.echo("Nothing was written.")
            return
    outcome = squashing.write_squash(prepared, baseline)
    click.echo(
        f"Wrote the baseline {outcome.revision} to {os.path.relpath(outcome.baseline_path)}; "
        f"removed {len(outcome.removed)} file(s)."
    )


COMMANDS = (squash,)
