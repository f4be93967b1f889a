"""What a review reports: findings, each with the rule that saw it, how bad it is and where.

Plain frozen data with no imports beyond the standard library, so the rules, the preview a
child process sends, the CLI's ``--json`` and the UI share one model (and use findings as keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

OpPath = tuple[int, ...]
"""Where an op sits in an op tree: its index in ``UpgradeOps.ops``, then inside a table group."""


class Severity(str, Enum):
    """How bad a finding is: BLOCK stops `flask db review`, WARN stops it with --strict.

    Members are listed from worst to mildest. A severity is also its word (a ``str``), so it
    prints, compares and goes into JSON as ``"block"``, ``"warn"`` or ``"info"``.
    """

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Finding:
    """One danger in a migration: which rule saw it, where, and how to fix it.

    ``op_index`` is the op the finding points at (the data-losing one); ``related_op_indexes``
    are the other ops of the same pattern (the add of a rename, the create of a recreated
    index). ``new_name`` is the column or table a probable rename leads to. ``line`` (the
    script line, when known) and ``database`` (``"default"`` or a bind's name) say where the
    finding is once a review of a whole script placed it.
    """

    rule: str
    severity: Severity
    message: str
    fix: str | None = None
    table: str | None = None
    column: str | None = None
    op_index: OpPath = ()
    related_op_indexes: tuple[OpPath, ...] = ()
    new_name: str | None = None
    rewrite_available: bool = False
    line: int | None = None
    database: str = "default"

    @property
    def target(self) -> str | None:
        """``table.column`` or ``table``: what the finding is about, as an ack names it."""
        if self.table is None:
            return None
        return self.table if self.column is None else f"{self.table}.{self.column}"

    @property
    def blocks(self) -> bool:
        """True when the finding blocks: the migration loses data or fails as it stands."""
        return self.severity is Severity.BLOCK

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON-ready data; :meth:`from_json` reads it back."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
            "table": self.table,
            "column": self.column,
            "line": self.line,
            "database": self.database,
            "op_index": list(self.op_index),
            "related_op_indexes": [list(path) for path in self.related_op_indexes],
            "new_name": self.new_name,
            "rewrite_available": self.rewrite_available,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """A finding from :meth:`to_json`'s data (as a child process sends it)."""
        return cls(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            message=data["message"],
            fix=data.get("fix"),
            table=data.get("table"),
            column=data.get("column"),
            op_index=tuple(data.get("op_index", ())),
            related_op_indexes=tuple(tuple(path) for path in data.get("related_op_indexes", ())),
            new_name=data.get("new_name"),
            rewrite_available=data.get("rewrite_available", False),
            line=data.get("line"),
            database=data.get("database", "default"),
        )
