"""What a review needs to know about the target database before the migration runs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


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
