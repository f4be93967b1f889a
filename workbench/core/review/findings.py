"""What a review reports (findings) and what it needs to know about the database (context).

Plain frozen data, so the CLI can print it as JSON and the UI can use findings as keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa

OpPath = tuple[int, ...]
"""Where an op sits in an op tree: its index in ``UpgradeOps.ops``, then inside a table group."""


class Severity(Enum):
    """How bad a finding is: BLOCK stops `flask db review`, WARN stops it with --strict."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One danger in a migration: which rule saw it, where, and how to fix it.

    ``op_index`` is the op the finding points at (the data-losing one); ``related_op_indexes``
    are the other ops of the same pattern (the add of a rename, the create of a recreated
    index). ``new_name`` is the column or table a probable rename leads to.
    """

    rule: str
    severity: Severity
    message: str
    fix: str
    table: str | None
    column: str | None = None
    op_index: OpPath = ()
    related_op_indexes: tuple[OpPath, ...] = ()
    new_name: str | None = None
    rewrite_available: bool = False

    @property
    def target(self) -> str | None:
        """``table.column`` or ``table``: what the finding is about, as an ack names it."""
        if self.table is None:
            return None
        return self.table if self.column is None else f"{self.table}.{self.column}"

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON-ready data, for `flask db review --json`."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
            "table": self.table,
            "column": self.column,
            "op_index": list(self.op_index),
            "related_op_indexes": [list(path) for path in self.related_op_indexes],
            "new_name": self.new_name,
            "rewrite_available": self.rewrite_available,
        }


@dataclass(frozen=True)
class ForeignKeyAction:
    """A foreign key whose ON DELETE action changes rows of ``referring_table``.

    SQLite batch mode drops and recreates ``referred_table``; with foreign keys enforced
    that DROP fires the action on every referring row.
    """

    referred_table: str
    referring_table: str
    referring_columns: tuple[str, ...]
    ondelete: str


@dataclass(frozen=True)
class ReviewContext:
    """What the rules know about the target database before the migration runs.

    ``existing_tables`` holds table names (``schema.name`` outside the default schema); None
    means unknown, and then every table the migration does not create counts as existing.
    ``render_as_batch`` says whether autogenerate's per-table groups are rendered as
    ``batch_alter_table`` blocks (recorded scripts mark their own blocks).
    """

    dialect: str
    existing_tables: frozenset[str] | None = None
    render_as_batch: bool = False
    foreign_key_actions: tuple[ForeignKeyAction, ...] = ()

    @classmethod
    def from_connection(
        cls, connection: sa.Connection, *, render_as_batch: bool = False
    ) -> ReviewContext:
        """Read the dialect, the tables and (on SQLite) the ON DELETE actions of a database."""
        inspector = sa.inspect(connection)
        is_mariadb = getattr(connection.dialect, "is_mariadb", False)
        dialect = "mariadb" if is_mariadb else connection.dialect.name
        actions: list[ForeignKeyAction] = []
        if dialect == "sqlite":
            for (_, referring_table), keys in inspector.get_multi_foreign_keys().items():
                for key in keys:
                    ondelete = (key.get("options") or {}).get("ondelete")
                    if ondelete and ondelete.upper() != "NO ACTION":
                        actions.append(
                            ForeignKeyAction(
                                referred_table=key["referred_table"],
                                referring_table=referring_table,
                                referring_columns=tuple(key["constrained_columns"]),
                                ondelete=ondelete.upper(),
                            )
                        )
        return cls(
            dialect=dialect,
            existing_tables=frozenset(inspector.get_table_names()),
            render_as_batch=render_as_batch,
            foreign_key_actions=tuple(actions),
        )
