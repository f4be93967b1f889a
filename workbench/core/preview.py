"""Autogenerate previews: the script ``flask db migrate`` would write and the SQL it would run.

A preview runs in the child process (a ``PreviewRequest``, or a review of a revision file or a
script's text) and writes nothing into the project; this module holds what it returns and
renders an op tree's SQL offline for one dialect.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.findings import Finding, Severity

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect

    CopyFrom = Callable[[str | None, str], Table | None]


class PreviewError(Exception):
    """A preview or review that could not be made, explained in one line."""


@dataclass(frozen=True)
class DatabasePreview:
    """One database's part of a preview: its dialect, the SQL both ways and the findings."""

    name: str
    dialect: str
    upgrade_sql: str = ""
    downgrade_sql: str = ""
    operations: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Preview:
    """A migration reviewed before it is run: the script text, and each database's part.

    ``script`` is None when autogenerate found no change (nothing would be written); ``path``
    is where ``flask db migrate`` would write the file, or where the reviewed file is.
    """

    revision: str | None
    message: str | None
    script: str | None
    path: str | None
    databases: tuple[DatabasePreview, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every database's findings, in script order."""
        found = [finding for database in self.databases for finding in database.findings]
        return tuple(sorted(found, key=lambda finding: finding.line or 0))

    def worst_severity(self) -> Severity | None:
        """The most severe finding's severity, or None."""
        severities = {finding.severity for finding in self.findings}
        return next((severity for severity in Severity if severity in severities), None)

    def to_dict(self) -> dict[str, Any]:
        """The preview as JSON-ready data (what the child sends)."""
        data = asdict(self)
        for database, sent in zip(self.databases, data["databases"], strict=True):
            sent["findings"] = [finding.to_json() for finding in database.findings]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preview:
        """The preview a child sent."""
        return cls(
            revision=data.get("revision"),
            message=data.get("message"),
            script=data.get("script"),
            path=data.get("path"),
            databases=tuple(
                DatabasePreview(
                    name=database["name"],
                    dialect=database["dialect"],
                    upgrade_sql=database.get("upgrade_sql", ""),
                    downgrade_sql=database.get("downgrade_sql", ""),
                    operations=tuple(database.get("operations", ())),
                    findings=tuple(
                        Finding.from_json(item) for item in database.get("findings", ())
                    ),
                )
                for database in data.get("databases", ())
            ),
        )


def render_sql(
    operations: Iterable[Any],
    dialect: Dialect,
    *,
    batch: bool,
    copy_from: CopyFrom | None = None,
) -> str:
    """The SQL of Alembic operations on one dialect, rendered offline (no connection).

    ``batch`` renders autogenerate's per-table groups as ``batch_alter_table`` blocks (the
    env's ``render_as_batch``); a recorded script's own blocks always are. ``copy_from`` gives
    the table to copy when a batch must recreate it (SQLite), since offline mode cannot
    reflect it. An operation that cannot be rendered becomes a ``--`` comment saying why, so
    one odd operation does not hide the rest.
    """
    from alembic.operations import Operations
    from alembic.operations.ops import ModifyTableOps
    from alembic.runtime.migration import MigrationContext

    from workbench.core.review import BatchAlterTableOps

    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect=dialect,
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    runner = Operations(context)
    for operation in operations:
        try:
            if isinstance(operation, BatchAlterTableOps) or (
                isinstance(operation, ModifyTableOps) and batch
            ):
                table = copy_from(operation.schema, operation.table_name) if copy_from else None
                with runner.batch_alter_table(
                    operation.table_name,
                    schema=operation.schema,
                    recreate=getattr(operation, "recreate", "auto"),
                    copy_from=table,
                ) as batch_runner:
                    for child in operation.ops:
                        batch_runner.invoke(child)
            elif isinstance(operation, ModifyTableOps):
                for child in operation.ops:
                    runner.invoke(child)
            else:
                runner.invoke(operation)
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            buffer.write(f"-- cannot render {type(operation).__name__} offline: {first_line}\n")
    return buffer.getvalue()


def _operation_name(operation: Any) -> str:
    """The ``op.`` method that performs an Alembic operation: ``DropColumnOp`` is "drop_column"."""
    name = type(operation).__name__
    if name == "ExecuteSQLOp":
        return "execute"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Op")).lower()


def describe_operations(container: Any) -> tuple[str, ...]:
    """One short line per operation of an op tree, in running order: "drop_column users.name"."""
    from workbench.core.review.optree import op_table, walk

    lines = []
    for located in walk(container):
        operation = located.op
        column = getattr(operation, "column_name", None) or getattr(
            getattr(operation, "column", None), "name", None
        )
        table = op_table(operation)
        target = f"{table}.{column}" if table and column else table or ""
        named = getattr(operation, "index_name", None) or getattr(
            operation, "constraint_name", None
        )
        if named:
            target = f"{named} on {target}" if target else str(named)
        lines.append(f"{_operation_name(operation)} {target}".rstrip())
    return tuple(lines)


@dataclass(frozen=True)
class FixRequest:
    """A mechanical fix to apply before the script is rendered: the finding it answers.

    Fixes apply in order, each to the op tree the previous ones left, so ``op_index`` is the
    finding's path in the preview that offered it.
    """

    database: str
    rule: str
    op_index: tuple[int, ...]
