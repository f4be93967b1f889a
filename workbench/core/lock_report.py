"""What each statement of a revision locked, rewrote and cost, as measured on a scratch copy.

Plain data shared by the service that measures (``services/measure.py``), the CLI and the
child process: a ``LockReport`` per migrated database, one ``MeasuredStatement`` per statement
the revision's upgrade sent. ``measured_findings`` lets a measurement replace a rule's guess
about the same op, so a review says what the server did rather than what it probably does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.core.findings import Finding, OpPath, Severity
from workbench.core.preview import Preview

POSTGRESQL_LOCK_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
"""PostgreSQL's table lock modes as ``pg_locks.mode`` names them, weakest first."""

BLOCKS_WRITES = "SHARE"
"""The weakest PostgreSQL table lock that blocks INSERT, UPDATE and DELETE."""

REWRITE_GUESSES = frozenset({"volatile-default", "cross-type-change"})
"""Rules whose message says the table is rewritten: a measurement can prove it is not."""
LOCK_GUESSES = frozenset(
    {
        "index-not-concurrent",
        "set-not-null",
        "unique-on-existing-table",
        "constraint-not-valid",
        *REWRITE_GUESSES,
    }
)
"""Rules that guess the lock a statement takes: the measured lock replaces the guess."""


def lock_mode_name(mode: str) -> str:
    """``AccessExclusiveLock`` as PostgreSQL's documentation writes it: ``ACCESS EXCLUSIVE``."""
    words: list[str] = []
    for character in mode.removesuffix("Lock"):
        if character.isupper() and words:
            words.append(" ")
        words.append(character.upper())
    return "".join(words)


def strongest_mode(modes: Sequence[str]) -> str:
    """The strongest of some ``pg_locks`` modes (unknown ones count as the weakest)."""
    return max(
        modes,
        key=lambda mode: POSTGRESQL_LOCK_MODES.index(mode) if mode in POSTGRESQL_LOCK_MODES else -1,
    )


def blocks_writes(mode: str) -> bool:
    """True when a PostgreSQL lock mode (``SHARE``, ``ACCESS EXCLUSIVE``...) blocks writes."""
    names = [lock_mode_name(known) for known in POSTGRESQL_LOCK_MODES]
    return mode in names and names.index(mode) >= names.index(BLOCKS_WRITES)


@dataclass(frozen=True)
class TableLock:
    """The strongest lock a statement took on one table that existed before it."""

    table: str
    mode: str


@dataclass(frozen=True)
class MeasuredStatement:
    """One statement as it ran on the scratch copy.

    ``op_index`` is the op of the script that sent it (empty when no op did, e.g. a query
    on ``op.get_bind()``), ``lines`` that op's lines in the script when they were found (a
    batch block's: the line of each op in it).
    ``locks`` and ``rewritten`` name tables that existed before it.
    ``algorithm`` and ``lock_level`` are MySQL/MariaDB's answer for an ALTER (the first of
    INSTANT, INPLACE, COPY the server accepted, with the weakest LOCK it allowed); ``note``
    says anything else measured (a lock seen while the statement waited, SQLite's copy).
    """

    sql: str
    seconds: float
    op_index: OpPath = ()
    locks: tuple[TableLock, ...] = ()
    rewritten: tuple[str, ...] = ()
    algorithm: str | None = None
    lock_level: str | None = None
    note: str | None = None
    lines: tuple[int, ...] = ()

    def summary(self) -> str:
        """What the statement did, in one line without its SQL."""
        parts = []
        if self.algorithm is not None:
            tables = ", ".join(lock.table for lock in self.locks)
            parts.append(f"ALGORITHM={self.algorithm}, LOCK={self.lock_level} on {tables}")
        elif self.locks:
            parts.append("locks " + ", ".join(f"{lock.table} ({lock.mode})" for lock in self.locks))
        if self.rewritten:
            parts.append("rewrites " + ", ".join(self.rewritten))
        elif self.locks or self.algorithm is not None:
            parts.append("no rewrite")
        if self.note:
            parts.append(self.note)
        parts.append(f"{self.seconds * 1000:.1f} ms")
        return "; ".join(parts)


@dataclass(frozen=True)
class LockReport:
    """The statements of one revision's upgrade on one database, measured on a scratch copy.

    ``rows`` is how many synthetic rows each table held when measured (``--rows-from``);
    empty when the scratch tables were empty.
    """

    revision: str
    database: str
    dialect: str
    statements: tuple[MeasuredStatement, ...] = ()
    rows: Mapping[str, int] = field(default_factory=dict)

    def for_finding(self, finding: Finding) -> list[MeasuredStatement]:
        """The statements the op of a finding sent (an op inside a batch block: the block's).

        Matched by script line where the statements' lines are known (a finding of an
        autogenerated op tree has other paths than the script's calls), else by op path.
        """
        if any(statement.lines for statement in self.statements):
            return [statement for statement in self.statements if finding.line in statement.lines]
        path = finding.op_index
        return [
            statement
            for statement in self.statements
            if statement.op_index and path[: len(statement.op_index)] == statement.op_index
        ]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self) | {"rows": dict(self.rows)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LockReport:
        """A report from :meth:`to_dict`'s data (as a child process sends it)."""
        return cls(
            revision=data["revision"],
            database=data["database"],
            dialect=data["dialect"],
            statements=tuple(
                MeasuredStatement(
                    **{
                        **item,
                        "op_index": tuple(item.get("op_index", ())),
                        "locks": tuple(TableLock(**lock) for lock in item.get("locks", ())),
                        "rewritten": tuple(item.get("rewritten", ())),
                        "lines": tuple(item.get("lines", ())),
                    }
                )
                for item in data.get("statements", ())
            ),
            rows=dict(data.get("rows", {})),
        )


def report_lines(report: LockReport) -> Iterator[str]:
    """A lock report as terminal lines: a heading, then each statement and what it did."""
    rows = ", ".join(f"{table}: {count} rows" for table, count in sorted(report.rows.items()))
    size = f"tables filled with {rows}" if rows else "empty tables"
    database = f" on database {report.database}" if report.database != "default" else ""
    yield (
        f"Measured {report.revision}{database}, on a scratch {report.dialect} database at its "
        f"parent ({size}): {len(report.statements)} statement(s)."
    )
    for statement in report.statements:
        yield f"  {statement.sql}"
        yield f"      {statement.summary()}"


def measured_findings(
    findings: Sequence[Finding], reports: Sequence[LockReport]
) -> tuple[Finding, ...]:
    """The findings with each lock or rewrite guess replaced by what its op was measured doing.

    A finding of a rule in ``LOCK_GUESSES`` whose op sent measured statements says "measured"
    and what was seen; a rewrite the rule guessed and the measurement did not see drops to INFO
    (the measurement wins). Findings of other rules, or without measurements, stay as they are.
    """
    by_database = {report.database: report for report in reports}
    replaced = []
    for finding in findings:
        report = by_database.get(finding.database)
        statements = report.for_finding(finding) if report is not None else []
        if finding.rule not in LOCK_GUESSES or not statements:
            replaced.append(finding)
            continue
        seen = " then ".join(statement.summary() for statement in statements)
        rows = f" with {_rows_text(report.rows)}" if report is not None and report.rows else ""
        severity = finding.severity
        rewrote = any(statement.rewritten for statement in statements)
        if finding.rule in REWRITE_GUESSES and not rewrote and report.dialect != "sqlite":
            severity = Severity.INFO
        if finding.rule not in REWRITE_GUESSES and not _blocks(statements, report.dialect):
            severity = Severity.INFO
        message = f"{finding.message} Measured on a scratch copy{rows}: {seen}."
        replaced.append(dataclasses.replace(finding, severity=severity, message=message))
    return tuple(replaced)


def measured_review(review: Preview, reports: Sequence[LockReport]) -> Preview:
    """A review whose findings say what the reports measured (``measured_findings``)."""
    databases = tuple(
        dataclasses.replace(database, findings=measured_findings(database.findings, reports))
        for database in review.databases
    )
    return dataclasses.replace(review, databases=databases)


def _blocks(statements: Sequence[MeasuredStatement], dialect: str) -> bool:
    """True when a measured statement blocked writes to a table (or may have: unknown)."""
    if dialect != "postgresql":
        return any(statement.lock_level != "NONE" for statement in statements)
    return any(blocks_writes(lock.mode) for statement in statements for lock in statement.locks)


def _rows_text(rows: Mapping[str, int]) -> str:
    """``users: 10000 rows, orders: 500 rows``."""
    return ", ".join(f"{table}: {count} rows" for table, count in sorted(rows.items()))
