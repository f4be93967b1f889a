"""``flask db review`` and ``flask db verify``: click wiring over the preview and verify commands.

Both run in the ``flask`` process, as ``migrate`` does; what env.py and Alembic print while
they work is held back, so the terminal shows the findings or the checks (or one ``Error:``
line) and ``--json`` prints nothing but JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from workbench.cli.ci import echo_github, echo_sarif, format_option
from workbench.cli.options import (
    command,
    directory_option,
    loaded_project,
    migration_command,
    x_arg_option,
    x_args,
)
from workbench.core.findings import Finding, Severity
from workbench.core.lock_report import report_lines
from workbench.core.preview import Preview
from workbench.core.verify import CheckResult, VerifyReport

R = TypeVar("R")

STATUS_WORDS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}
FINDING_JSON_KEYS = ("rule", "severity", "message", "fix", "table", "column", "line", "database")
"""What ``--json`` shows of a finding: its place in the op tree stays between the processes."""


def _quietly(work: Callable[[], R]) -> R:
    """Run work with its stdout and stderr (env.py, Alembic's logging) held back."""
    held = io.StringIO()
    with contextlib.redirect_stdout(held), contextlib.redirect_stderr(held):
        return work()


def finding_line(finding: Finding) -> str:
    """One finding as a terminal line: severity, rule, target, line, message and fix."""
    target = ".".join(part for part in (finding.table, finding.column) if part)
    where = f" (line {finding.line})" if finding.line else ""
    database = f"[{finding.database}] " if finding.database != "default" else ""
    fix = f" Fix: {finding.fix}" if finding.fix else ""
    head = " ".join(part for part in (finding.severity.upper(), finding.rule, target) if part)
    return f"{database}{head}{where}: {finding.message}{fix}"


def _counts(findings: Sequence[Finding]) -> str:
    """How many findings of each severity: "1 block, 2 warn"."""
    counts = dict.fromkeys(Severity, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return ", ".join(f"{count} {severity}" for severity, count in counts.items() if count)


SEVERITY_STYLES = {"block": {"fg": "red", "bold": True}, "warn": {"fg": "yellow", "bold": True}}


def echo_migrate_findings(review: Preview, review_command: str) -> None:
    """After ``migrate`` wrote a file: its findings, then a summary that stands out (stderr).

    Alembic's log lines come before; the findings are set apart from them (a blank line, no
    ``LEVEL`` word first) and the last lines say what was written, how many findings block,
    and the command that shows them again. The exit status stays 0, as Flask-Migrate's.
    """
    findings = review.findings
    if not findings:
        return
    shown = _shown_path(review.path or "")
    click.echo("", err=True)
    click.echo(f"Findings of the review of {shown}:", err=True)
    for finding in findings:
        target = ".".join(part for part in (finding.table, finding.column) if part)
        where = " ".join(
            part
            for part in (
                target,
                f"(line {finding.line})" if finding.line else "",
                f"[database {finding.database}]" if finding.database != "default" else "",
            )
            if part
        )
        severity = click.style(finding.severity, **SEVERITY_STYLES.get(finding.severity, {}))
        click.echo(f"  {severity}  {finding.rule}  {where}".rstrip(), err=True)
        click.echo(f"      {finding.message}", err=True)
        if finding.fix:
            click.echo(f"      fix: {finding.fix}", err=True)
    blocks = sum(1 for finding in findings if finding.blocks)
    if blocks:
        noun = "finding blocks" if blocks == 1 else "findings block"
        summary = f"Wrote {shown}, but {blocks} {noun}: fix or acknowledge before upgrading."
        style = SEVERITY_STYLES["block"]
    else:
        summary = f"Wrote {shown}, with {_counts(findings)} from its review."
        style = {"bold": True}
    click.echo("", err=True)
    click.echo(click.style(summary, **style), err=True)
    click.echo(f"See the findings again with: {review_command}", err=True)


def _shown_path(path: str) -> str:
    """A path relative to the current folder when it is inside it, as a person typed it."""
    relative = os.path.relpath(path) if path else path
    return path if not path or relative.startswith("..") else relative


def _review_json(review: Preview, *, with_sql: bool, failed: bool) -> dict[str, Any]:
    """The ``--json`` document of a review."""
    document: dict[str, Any] = {
        "revision": review.revision,
        "message": review.message,
        "path": review.path,
        "changes": review.script is not None,
        "passed": not failed,
        "findings": [
            {key: finding.to_json()[key] for key in FINDING_JSON_KEYS}
            for finding in review.findings
        ],
    }
    if with_sql:
        document["sql"] = {
            database.name: {
                "dialect": database.dialect,
                "upgrade": database.upgrade_sql,
                "downgrade": database.downgrade_sql,
            }
            for database in review.databases
        }
    return document


def _echo_sql(review: Preview) -> None:
    """Each database's upgrade and downgrade SQL, under a comment naming it."""
    for database in review.databases:
        for direction, sql in (
            ("upgrade", database.upgrade_sql),
            ("downgrade", database.downgrade_sql),
        ):
            click.echo(f"-- {direction} of database {database.name} ({database.dialect})")
            click.echo(sql.rstrip("\n") or "-- (nothing)")


def _fails(review: Preview, strict: bool) -> bool:
    """True when a finding blocks, or with ``strict`` when one warns."""
    worst = review.worst_severity()
    return worst == "block" or (strict and worst == "warn")


@command()
@directory_option
@x_arg_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object")
@format_option("json", "github", "sarif")
@click.option("--sql", "with_sql", is_flag=True, help="Also show the SQL of every database")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on blocks")
@click.option(
    "--head",
    default="head",
    show_default=True,
    help="The head the new revision would build on (as `migrate --head`)",
)
@click.option(
    "--added",
    is_flag=True,
    help="Review the revision files the commit adds (staged in git; in CI the files added "
    "between PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF), as a pre-commit hook does",
)
@click.option(
    "--locks",
    is_flag=True,
    help="Run REVISION (or the pending change) on a scratch database at its parent and report "
    "what each statement locked and rewrote, and how long it took",
)
@click.option(
    "--rows-from",
    metavar="URL",
    help="With --locks: fill the scratch tables with as many synthetic rows as this database "
    "(the real one, only read) estimates it holds, so the times mean something",
)
@click.argument("revision", required=False)
@migration_command
def review(
    directory: str | None,
    x_arg: tuple[str, ...],
    as_json: bool,
    output_format: str,
    with_sql: bool,
    strict: bool,
    head: str,
    added: bool,
    locks: bool,
    rows_from: str | None,
    revision: str | None,
) -> None:
    """Review the pending model change (or REVISION's file); exit 1 when a finding blocks.

    Writes nothing: without REVISION, the script ``migrate`` would write is rendered and
    judged in memory. With ``--locks``, REVISION (or the pending change) also runs on scratch
    databases (never the real ones) and what it was measured doing replaces the rules' guesses.
    """
    from workbench.services import review as reviewing

    project, values = loaded_project(directory), x_args(x_arg)
    if rows_from is not None and not locks:
        raise click.UsageError("--rows-from sizes the tables of --locks: give --locks too")
    if locks:
        if added:
            raise click.UsageError("--locks measures one revision: give REVISION, or none")
        options = (output_format, as_json, with_sql, strict)
        _review_locks(project, values, revision, head, rows_from, *options)
        return
    if added:
        if revision is not None:
            raise click.UsageError("--added reviews the added files: give no REVISION")
        _review_added(project, values, output_format, as_json, with_sql, strict)
        return
    if revision is None:
        result = _quietly(
            lambda: reviewing.preview(project, head=head, x_arg=values, with_sql=with_sql)
        )
    else:
        result = _quietly(
            lambda: reviewing.review_revision(project, revision, x_arg=values, with_sql=with_sql)
        )
    failed = _fails(result, strict)
    if output_format in ("github", "sarif"):
        _echo_annotations([result], output_format)
    elif as_json or output_format == "json":
        click.echo(json.dumps(_review_json(result, with_sql=with_sql, failed=failed), indent=2))
    elif result.script is None:
        click.echo("No changes in schema detected.")
    else:
        what = f"revision {result.revision}" if revision else f"the pending change ({result.path})"
        _echo_review(result, what, with_sql)
    if failed:
        click.get_current_context().exit(1)


def _review_locks(
    project: Any,
    values: list[str],
    revision: str | None,
    head: str,
    rows_from: str | None,
    output_format: str,
    as_json: bool,
    with_sql: bool,
    strict: bool,
) -> None:
    """Review a revision (or the pending change) with its statements measured on a scratch
    database; print both."""
    from workbench.services.measure import review_measured

    terminal = sys.stderr

    def on_progress(table: str, done: int, total: int) -> None:
        if terminal.isatty():
            end = "\n" if done == total else ""
            terminal.write(f"\rFilling scratch table {table}: {done} of {total} rows{end}")
        elif done == total:
            terminal.write(f"Filled scratch table {table} with {total} rows\n")
        terminal.flush()

    result, reports = _quietly(
        lambda: review_measured(
            project,
            revision,
            x_arg=values,
            head=head,
            with_sql=with_sql,
            rows_from=rows_from,
            on_progress=on_progress,
        )
    )
    failed = _fails(result, strict)
    if output_format in ("github", "sarif"):
        _echo_annotations([result], output_format)
    elif as_json or output_format == "json":
        document = _review_json(result, with_sql=with_sql, failed=failed)
        document["locks"] = [report.to_dict() for report in reports]
        click.echo(json.dumps(document, indent=2))
    elif result.script is None:
        click.echo("No changes in schema detected.")
    else:
        what = f"revision {result.revision}" if revision else f"the pending change ({result.path})"
        _echo_review(result, what, with_sql)
        for report in reports:
            for line in report_lines(report):
                click.echo(line)
    if failed:
        click.get_current_context().exit(1)


def _echo_review(result: Preview, what: str, with_sql: bool) -> None:
    """A review as text: the counts, one line per finding, the SQL when asked."""
    findings = result.findings
    click.echo(f"Reviewed {what}: {_counts(findings) or 'no findings'}.")
    for finding in findings:
        click.echo(finding_line(finding))
    if with_sql:
        _echo_sql(result)


def _echo_annotations(results: Sequence[Preview], output_format: str) -> None:
    """Reviews as GitHub workflow annotations or one SARIF log."""
    from workbench.core.annotations import review_annotations

    annotations = [annotation for result in results for annotation in review_annotations(result)]
    (echo_github if output_format == "github" else echo_sarif)(annotations)


def _review_added(
    project: Any,
    values: list[str],
    output_format: str,
    as_json: bool,
    with_sql: bool,
    strict: bool,
) -> None:
    """Review every revision file the commit adds; exit 1 when any review fails."""
    from workbench.core.gitinfo import added_files
    from workbench.errors import WorkbenchError
    from workbench.services import review as reviewing

    described = project.describe()
    graph = described.load_graph()
    try:
        paths = added_files(
            described.directory,
            os.environ.get("PRE_COMMIT_FROM_REF"),
            os.environ.get("PRE_COMMIT_TO_REF"),
        )
    except ValueError as exc:
        raise WorkbenchError(f"cannot list the added revision files: {exc}") from exc
    added = {os.path.realpath(path) for path in paths}
    revisions = [
        revision
        for revision, scanned in graph.revisions.items()
        if scanned.path and os.path.realpath(scanned.path) in added
    ]
    results = [
        _quietly(
            lambda revision=revision: reviewing.review_revision(
                project, revision, x_arg=values, with_sql=with_sql
            )
        )
        for revision in revisions
    ]
    failed = any(_fails(result, strict) for result in results)
    if output_format in ("github", "sarif"):
        _echo_annotations(results, output_format)
    elif as_json or output_format == "json":
        documents = [
            _review_json(result, with_sql=with_sql, failed=_fails(result, strict))
            for result in results
        ]
        click.echo(json.dumps(documents, indent=2))
    elif not results:
        click.echo("No revision file added.")
    else:
        for result in results:
            shown = _shown_path(result.path or "")
            _echo_review(result, f"revision {result.revision} ({shown})", with_sql)
    if failed:
        click.get_current_context().exit(1)


def _check_lines(check: CheckResult) -> Iterator[str]:
    """A check as terminal lines: its status and message, then each revision of up/down/up."""
    yield f"{STATUS_WORDS[check.status]} {check.name}: {check.message}"
    for revision in check.revisions:
        if revision.passed:
            yield f"  ok   {revision.revision}"
        else:
            yield f"  FAIL {revision.revision}: {revision.message}"


@command()
@directory_option
@x_arg_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object")
@format_option("json", "github")
@migration_command
def verify(
    directory: str | None, x_arg: tuple[str, ...], as_json: bool, output_format: str
) -> None:
    """Check the history on scratch databases: one head, upgrade, models match, up/down/up.

    The real databases are not touched: every check runs on databases created for it (a
    temporary SQLite file, or a new database on the same server) and dropped afterwards.
    """
    from workbench.services import verify as verifying

    project, values = loaded_project(directory), x_args(x_arg)
    report: VerifyReport = _quietly(lambda: verifying.verify(project, x_arg=values))
    if output_format == "github":
        from workbench.core.annotations import verify_annotations

        echo_github(verify_annotations(report, project.describe().load_graph()))
    elif as_json or output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for check in report.checks:
            for line in _check_lines(check):
                click.echo(line)
        scratch = ", ".join(f"{info.name} ({info.dialect})" for info in report.databases)
        click.echo(f"Ran on scratch databases, now dropped: {scratch}.")
    if not report.passed:
        click.get_current_context().exit(1)


COMMANDS = (review, verify)
