"""The child runs the workbench starts, and what it reads from their events.

No Textual here: which request renders a revision's SQL or a plan's, running one to its end
(from a worker thread), and the few words the screens say about the results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.graph import RevisionGraph
from workbench.core.plan import Plan
from workbench.runtime.client import Launch, start
from workbench.runtime.events import Ending, Event, Output, Standing
from workbench.runtime.requests import DowngradeRequest, Request, SqlRequest, StampRequest
from workbench.runtime.warm import WarmChild

SQL_STREAMS = frozenset({"sql", "stdout"})
SECTION = "-- Database: "


@dataclass(frozen=True)
class Outcome:
    """How an operation ended: its last event, and every line it printed on the way."""

    kind: str
    message: str = ""
    traceback: str = ""
    databases: Sequence[Standing] = ()
    result: Mapping[str, Any] = field(default_factory=dict)
    lines: Sequence[str] = ()

    @classmethod
    def from_event(cls, event: Ending, lines: Sequence[str] = ()) -> Outcome:
        """The outcome a final event (finished, failed, cancelled) describes."""
        return cls(
            kind=event.event,
            message=getattr(event, "message", ""),
            traceback=getattr(event, "traceback", ""),
            databases=getattr(event, "databases", ()),
            result=dict(getattr(event, "result", {})),
            lines=lines,
        )

    @property
    def scripts(self) -> list[Mapping[str, Any]]:
        """The revision files a ``revision`` or ``merge`` operation wrote."""
        return list(self.result.get("scripts") or ())


@dataclass(frozen=True)
class PlanPreview:
    """The SQL a plan would run on one database, or why there is none to show."""

    title: str
    sql: str | None
    note: str | None = None


@dataclass(frozen=True)
class VersionTable:
    """The name and schema of a database's version table, as env.py configures them."""

    name: str = "alembic_version"
    schema: str | None = None


def plan_preview(
    plan: Plan,
    target: DatabaseStatus,
    launcher: Launch,
    version_table: VersionTable,
    warm: WarmChild | None = None,
) -> PlanPreview:
    """Render a plan's SQL on the target database (blocking: workers only).

    Offline where Alembic can; a batch on SQLite is run on a scratch copy, and the title says so.

    ``warm`` is the workbench's long-lived child, when it has one: no child to start then.
    """
    shown_on = f"SQL on {target.name} ({_backend(target.url)})"
    title = f"{shown_on}, rendered offline"
    request = plan_sql_request(plan, target, launcher.directory or "")
    if request is None:
        return PlanPreview(
            title,
            None,
            "no SQL for this plan: the database has no revision to downgrade from",
        )
    outcome = run_to_end(launcher, request, warm)
    if outcome.kind != "finished":
        return PlanPreview(title, None, f"the SQL could not be rendered: {outcome.message}")
    if outcome.result.get("ran_on_scratch"):
        title = f"{shown_on}, run on a scratch copy (offline mode cannot render a batch on SQLite)"
    sql = database_section("\n".join(outcome.lines), target.name)
    if target.version_table_exists:
        sql = without_version_table_creation(sql, version_table)
    if plan.purge:
        sql = purge_statement(target.url, version_table) + sql
    return PlanPreview(title, sql)


def purge_statement(url: str, version_table: VersionTable) -> str:
    """The DELETE that empties the version table, in the database's dialect.

    Alembic refuses ``--purge`` offline; the purge's preview is this statement followed by
    the offline stamp from an empty table.
    """
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    dialect = make_url(url).get_dialect()()
    table = sa.table(version_table.name, schema=version_table.schema)
    delete = sa.delete(table).compile(dialect=dialect)
    return f"-- the purge empties the version table first\n{delete};\n\n"


def without_version_table_creation(sql: str, version_table: VersionTable) -> str:
    """The offline SQL without its ``CREATE TABLE`` of the version table.

    Offline mode creates the table whenever a run starts from no revision; on a database that
    has the table, the real run does not, so the preview must not show it.
    """
    name = re.escape(version_table.name)
    creation = re.compile(rf"^CREATE TABLE (?:\S+\.)?[\"`\[]?{name}[\"`\]]? \(")
    blocks = sql.split("\n\n")
    return "\n\n".join(block for block in blocks if not creation.match(block.lstrip("\n")))


def run_to_end(launcher: Launch, request: Request, warm: WarmChild | None = None) -> Outcome:
    """Run a request and wait for its end, keeping the SQL it printed (blocking: workers only).

    The request runs in ``warm`` when given, else in a child of its own.
    """
    lines: list[str] = []

    def keep(event: Event) -> None:
        if isinstance(event, Output) and event.stream in SQL_STREAMS:
            lines.append(event.text)

    running = warm.start(request) if warm is not None else start(request, launcher)
    return Outcome.from_event(running.wait(keep), lines)


def database_section(sql: str, database: str) -> str:
    """One database's part of a multi-database offline script (all of it when not sectioned)."""
    if SECTION not in sql:
        return sql
    sections = sql.split(SECTION)
    for section in sections[1:]:
        name, _, body = section.partition("\n")
        if name.strip() == database:
            return f"{SECTION}{name}\n{body}"
    return sql


def revision_sql_request(graph: RevisionGraph, revision: str, directory: str) -> SqlRequest:
    """The offline upgrade of exactly one revision, from all its parents (a merge's too)."""
    parents = graph.parents[revision]
    span = f"{','.join(parents)}:{revision}" if parents else revision
    return SqlRequest(directory=directory, revision=span)


def plan_sql_request(plan: Plan, target: DatabaseStatus, directory: str) -> Request | None:
    """The offline run of a plan on the target database, or None when it has no SQL form.

    The run starts from every revision the database stands on (``a,b:target``); a stamp
    of an empty version table (a purge's too) starts from nothing, and a downgrade from
    nothing has no SQL.
    """
    start = ",".join(target.current)
    span = f"{start}:{plan.target}" if start else plan.target
    if plan.purge or (plan.action == "stamp" and not start):
        return StampRequest(directory=directory, revision=plan.target, sql=True)
    if plan.action == "upgrade":
        return SqlRequest(directory=directory, revision=span)
    if not start:
        return None
    kind = StampRequest if plan.action == "stamp" else DowngradeRequest
    return kind(directory=directory, revision=span, sql=True)


def _backend(url: str) -> str:
    """The database backend of a URL (``sqlite``, ``postgresql``...), or ``unknown``."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).get_backend_name()
    except Exception:
        return "unknown"


def standing_summary(databases: Iterable[Standing]) -> str:
    """Where each database stands, one line each: ``default is at abc123``."""
    lines = []
    for database in databases:
        if database.error:
            lines.append(f"{database.name}: could not be read ({database.error})")
        else:
            revisions = ", ".join(database.revisions) or "base (empty version table)"
            lines.append(f"{database.name} is at {revisions}")
    return "\n".join(lines)


def status_summary(statuses: Iterable[DatabaseStatus]) -> str:
    """Where each migrated database stands after an operation, read from its version table."""
    return standing_summary(
        Standing(
            status.name,
            status.url,
            tuple(status.current),
            status.reason if status.state is DatabaseState.UNREACHABLE else None,
        )
        for status in statuses
        if not status.read_only
    )
