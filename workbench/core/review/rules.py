"""The review rules: each looks at the op tree once and reports what loses data, fails or locks.

Rules read one index of the tree (ops by table, created tables, columns the downgrade knows),
built in one pass, so a review stays linear in the number of ops. Severity policy: BLOCK where
the migration loses data or fails on a table with rows; WARN where it may (or locks a table) and
the author should decide; INFO where nothing breaks but something deserves a look. A plain drop
of a table or column only warns: it is usually meant, and the accidental ones (a rename, models
not imported) have blocking rules of their own.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.sql.elements import TextClause

from workbench.core.findings import Finding, OpPath, Severity
from workbench.core.review import column_types
from workbench.core.review.column_types import TypeChange
from workbench.core.review.context import ReviewContext
from workbench.core.review.optree import BatchAlterTableOps, LocatedOp, op_table, table_key, walk
from workbench.core.review.raw_sql import RAW_SQL, SQL_EXTRA, ParsedSQL, parse_sql

MANY_DROPPED_TABLES = 3
"""Dropping this many tables at once is taken for models autogenerate could not see."""

_TABLE_RENAME_SIMILARITY = 0.6
# Without the dropped column's type, only a similar name suggests a rename.
_UNTYPED_RENAME_SIMILARITY = 0.5
_DIALECT_NAMES = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
}
_ROW_CHANGING_ONDELETE = {"CASCADE": "deleted", "SET NULL": "set to NULL", "SET DEFAULT": "reset"}
_POSTGRESQL_VOLATILE_CALL = re.compile(
    r"\b(random|gen_random_uuid|uuid_generate_v\w*|clock_timestamp|timeofday|nextval)\s*\(",
    re.IGNORECASE,
)
_SQL_CONSTANT = re.compile(
    r"\s*(?:[-+]?\d+(?:\.\d*)?|'(?:[^']|'')*'|NULL|TRUE|FALSE)\s*", re.IGNORECASE
)
_MYSQL_CONSTANT_TIME_DEFAULT = re.compile(
    r"\s*(?:CURRENT_TIMESTAMP|NOW)\s*(?:\(\s*\d*\s*\))?\s*", re.IGNORECASE
)
_RAW_SQL_SHOWN = 60
_COLLATE_CLAUSE = re.compile(r'\s+collate\s+(?:[\w.]*"[^"]*"|[\w.]+)')
_CAST_SUFFIX = re.compile(r"::\s*\w+(?:\s+\w+)*(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])?")
_QUALIFIER = re.compile(r'(?:"?\w+"?\.)+(?="?\w)')


def review_operations(
    upgrade_ops: ops.UpgradeOps,
    context: ReviewContext,
    downgrade_ops: ops.OpContainer | None = None,
) -> list[Finding]:
    """Every finding of every rule on an op tree, in op order.

    ``downgrade_ops``, when given, tells the rules what dropped columns and tables looked like
    in a hand-written script (autogenerate's drop ops carry it themselves).
    """
    change = _Change.index(upgrade_ops, context, downgrade_ops)
    column_renames = _column_renames(change)
    table_renames = _table_renames(change)
    renamed_paths = {rename.drop.path for rename in (*column_renames, *table_renames)}
    findings = [
        *(_column_rename_finding(rename) for rename in column_renames),
        *(_table_rename_finding(rename) for rename in table_renames),
        *_dropped_tables(change, renamed_paths),
        *_dropped_columns(change, renamed_paths),
        *_batch_cascades(change),
        *_index_noise(change),
    ]
    for located in change.located:
        for rule in _OP_RULES:
            findings.extend(rule(located, change))
    findings.sort(key=lambda finding: finding.op_index)
    if change.dialect == "postgresql" and not change.sets_lock_timeout:
        findings = [_with_lock_timeout_hint(finding) for finding in findings]
    return findings


STRONG_LOCK_RULES = frozenset(
    {
        "set-not-null",
        "cross-type-change",
        "unique-on-existing-table",
        "index-not-concurrent",
        "constraint-not-valid",
        "volatile-default",
    }
)
"""Rules whose statement holds a strong lock on PostgreSQL while it scans or rewrites a table."""
LOCK_TIMEOUT_HINT = (
    "Deploy it with a lock timeout (the upgrade command's --lock-timeout 5s, "
    "or WORKBENCH_LOCK_TIMEOUT=5s) so that, on a busy table, it fails fast instead of "
    "queueing every query behind it."
)


def _with_lock_timeout_hint(finding: Finding) -> Finding:
    """A strong-lock finding whose fix also points to the migration lock timeout."""
    if finding.rule not in STRONG_LOCK_RULES:
        return finding
    return dataclasses.replace(finding, fix=f"{finding.fix} {LOCK_TIMEOUT_HINT}")


@dataclass(frozen=True)
class _Change:
    """The upgrade ops indexed once for every rule.

    The SQL of each ``op.execute`` is parsed once (``raw_sql``, by the op's path) and the ops
    it stands for are located at that path too, so every rule judges them as op calls.
    """

    context: ReviewContext
    located: list[LocatedOp]
    created_tables: dict[str, ops.CreateTableOp]
    by_table: dict[str, list[LocatedOp]]
    columns_before: dict[tuple[str, str], sa.Column[Any]]
    tables_before: dict[str, ops.CreateTableOp]
    raw_sql: dict[OpPath, ParsedSQL | None]

    @classmethod
    def index(
        cls,
        upgrade_ops: ops.UpgradeOps,
        context: ReviewContext,
        downgrade_ops: ops.OpContainer | None,
    ) -> _Change:
        """Walk the upgrade (and downgrade) ops once."""
        raw_sql: dict[OpPath, ParsedSQL | None] = {}
        located = []
        for item in walk(upgrade_ops):
            located.append(item)
            if isinstance(item.op, ops.ExecuteSQLOp) and isinstance(
                item.op.sqltext, (str, TextClause)
            ):
                parsed = parse_sql(_sql_text(item.op), context.dialect)
                raw_sql[item.path] = parsed
                for op in parsed.ops if parsed is not None else ():
                    located.append(LocatedOp(item.path, op, item.group))
        by_table: dict[str, list[LocatedOp]] = defaultdict(list)
        created_tables: dict[str, ops.CreateTableOp] = {}
        for item in located:
            table = op_table(item.op)
            if table is not None:
                by_table[table].append(item)
            if isinstance(item.op, ops.CreateTableOp):
                created_tables[table_key(item.op.table_name, item.op.schema)] = item.op
        columns_before: dict[tuple[str, str], sa.Column[Any]] = {}
        tables_before: dict[str, ops.CreateTableOp] = {}
        for item in walk(downgrade_ops) if downgrade_ops is not None else ():
            if isinstance(item.op, ops.AddColumnOp):
                table = table_key(item.op.table_name, item.op.schema)
                columns_before[(table, item.op.column.name)] = item.op.column
            elif isinstance(item.op, ops.CreateTableOp):
                tables_before[table_key(item.op.table_name, item.op.schema)] = item.op
        return cls(
            context, located, created_tables, by_table, columns_before, tables_before, raw_sql
        )

    @property
    def sets_lock_timeout(self) -> bool:
        """True when the migration's raw SQL sets ``lock_timeout`` itself."""
        return any(
            parsed is not None and parsed.sets_lock_timeout for parsed in self.raw_sql.values()
        )

    @property
    def dialect(self) -> str:
        """The dialect family: mariadb counts as mysql."""
        dialect = self.context.dialect.lower()
        return "mysql" if dialect == "mariadb" else dialect

    @property
    def dialect_name(self) -> str:
        """The database's name for messages."""
        dialect = self.context.dialect.lower()
        return _DIALECT_NAMES.get(dialect, self.context.dialect)

    def existing(self, table: str) -> bool:
        """True when the table holds rows before this migration (or may: unknown state)."""
        if table in self.created_tables:
            return False
        known = self.context.existing_tables
        return known is None or table in known

    def in_batch(self, located: LocatedOp) -> bool:
        """True when the op runs inside a ``batch_alter_table`` block."""
        if located.group is None:
            return False
        return isinstance(located.group, BatchAlterTableOps) or self.context.render_as_batch

    def column_before(self, drop: ops.DropColumnOp) -> sa.Column[Any] | None:
        """The dropped column as it is before the migration, when its type is known."""
        column = drop.to_column()
        if column_types.resolved(column.type) is not None:
            return column
        return self.columns_before.get((table_key(drop.table_name, drop.schema), drop.column_name))

    def table_before(self, drop: ops.DropTableOp) -> list[sa.Column[Any]]:
        """The dropped table's columns before the migration; empty when unknown.

        Autogenerate keeps the reflected table on the drop op (``_reverse``); reading it
        there avoids ``to_table()``, which copies every column.
        """
        create = drop._reverse or self.tables_before.get(table_key(drop.table_name, drop.schema))
        return _columns_of(create) if create is not None else []

    def added_columns(self, table: str) -> dict[str, sa.Column[Any]]:
        """The columns this migration adds to a table, by name."""
        return {
            item.op.column.name: item.op.column
            for item in self.by_table.get(table, ())
            if isinstance(item.op, ops.AddColumnOp)
        }


# --- renames -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnRename:
    table: str
    drop: LocatedOp
    add: LocatedOp


@dataclass(frozen=True)
class _TableRename:
    drop: LocatedOp
    create: LocatedOp
    shared_columns: int
    old_column_count: int
    same_columns: bool


def _column_renames(change: _Change) -> list[_ColumnRename]:
    """Drop + add pairs of compatible columns in one table, best matches first."""
    renames = []
    for table, items in change.by_table.items():
        if not change.existing(table):
            continue
        drops = [item for item in items if isinstance(item.op, ops.DropColumnOp)]
        adds = [
            item
            for item in items
            if isinstance(item.op, ops.AddColumnOp) and RAW_SQL not in item.op.kw
        ]
        if not drops or not adds:
            continue
        candidates = []
        for drop in drops:
            old_column = change.column_before(drop.op)
            old_type = column_types.resolved(old_column.type) if old_column is not None else None
            for add in adds:
                new_column = add.op.column
                if new_column.name == drop.op.column_name:
                    continue
                if not column_types.rename_compatible(old_type, new_column.type):
                    continue
                exact = old_type is not None and column_types.same_type(old_type, new_column.type)
                similarity = difflib.SequenceMatcher(
                    None, drop.op.column_name, new_column.name
                ).ratio()
                if old_type is None and similarity < _UNTYPED_RENAME_SIMILARITY:
                    continue
                candidates.append((exact, similarity, drop, add))
        candidates.sort(key=lambda candidate: candidate[:2], reverse=True)
        paired: set[OpPath] = set()
        for _, _, drop, add in candidates:
            if drop.path in paired or add.path in paired:
                continue
            paired.update((drop.path, add.path))
            renames.append(_ColumnRename(table, drop, add))
    return renames


def _table_renames(change: _Change) -> list[_TableRename]:
    """Drop + create pairs of tables sharing most of their columns, best matches first.

    Created tables are indexed by column name once, so each dropped table only meets the
    created tables that share a column with it.
    """
    created = [item for item in change.located if isinstance(item.op, ops.CreateTableOp)]
    created_sizes = [len(_columns_of(item.op)) for item in created]
    # (column name, affinity) -> created tables with such a column; None: any affinity.
    created_with: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for number, item in enumerate(created):
        for column in _columns_of(item.op):
            affinity = column_types.rename_affinity(column.type)
            created_with[(column.name, affinity)].append(number)
            if affinity is not None:
                created_with[(column.name, None)].append(number)
    candidates = []
    for drop in change.located:
        if not isinstance(drop.op, ops.DropTableOp):
            continue
        if not change.existing(table_key(drop.op.table_name, drop.op.schema)):
            continue
        old_columns = change.table_before(drop.op)
        shared: Counter[int] = Counter()
        for column in old_columns:
            shared.update(
                created_with.get((column.name, column_types.rename_affinity(column.type)), ())
            )
        for number, count in shared.items():
            similarity = count / max(len(old_columns), created_sizes[number])
            if similarity < _TABLE_RENAME_SIMILARITY or count < min(2, len(old_columns)):
                continue
            same = count == len(old_columns) == created_sizes[number]
            candidates.append((similarity, drop, created[number], count, len(old_columns), same))
    candidates.sort(
        key=lambda candidate: (
            candidate[0],
            _shared_affixes(candidate[1].op.table_name, candidate[2].op.table_name),
        ),
        reverse=True,
    )
    renames = []
    paired: set[OpPath] = set()
    for _, drop, create, count, old_count, same in candidates:
        if drop.path in paired or create.path in paired:
            continue
        paired.update((drop.path, create.path))
        renames.append(_TableRename(drop, create, count, old_count, same))
    return renames


def _column_rename_finding(rename: _ColumnRename) -> Finding:
    drop, add = rename.drop.op, rename.add.op
    old, new = drop.column_name, add.column.name
    table = rename.table
    type_text = column_types.describe(add.column.type)
    return Finding(
        rule="probable-column-rename",
        severity=Severity.BLOCK,
        message=(
            f"{table}.{old} is dropped and {table}.{new} is added with a compatible type "
            f"({type_text}): autogenerate cannot see renames, so if this is one, every value "
            f"of {table}.{old} is lost."
        ),
        fix=(
            f"If it is a rename, apply the fix: op.alter_column('{drop.table_name}', '{old}', "
            f"new_column_name='{new}'); if both columns are meant, acknowledge this finding."
        ),
        table=table,
        column=old,
        op_index=rename.drop.path,
        related_op_indexes=(rename.add.path,),
        new_name=new,
        rewrite_available=True,
    )


def _table_rename_finding(rename: _TableRename) -> Finding:
    drop, create = rename.drop.op, rename.create.op
    old = table_key(drop.table_name, drop.schema)
    new = table_key(create.table_name, create.schema)
    if rename.same_columns:
        fix = f"If it is a rename, apply the fix: op.rename_table('{drop.table_name}', "
        fix += f"'{create.table_name}')."
    else:
        fix = f"If it is a rename, use op.rename_table('{drop.table_name}', "
        fix += f"'{create.table_name}') and add or drop the columns that differ."
    return Finding(
        rule="probable-table-rename",
        severity=Severity.BLOCK,
        message=(
            f"Table {old} is dropped and table {new} is created with {rename.shared_columns} "
            f"of its {rename.old_column_count} columns: if this is a rename, every row of "
            f"{old} is lost."
        ),
        fix=fix + " If both tables are meant, acknowledge this finding.",
        table=old,
        op_index=rename.drop.path,
        related_op_indexes=(rename.create.path,),
        new_name=new,
        rewrite_available=rename.same_columns,
    )


# --- drops ---------------------------------------------------------------------------------


def _dropped_tables(change: _Change, renamed: set[OpPath]) -> list[Finding]:
    drops = [
        item
        for item in change.located
        if isinstance(item.op, ops.DropTableOp)
        and item.path not in renamed
        and change.existing(table_key(item.op.table_name, item.op.schema))
    ]
    names = [table_key(item.op.table_name, item.op.schema) for item in drops]
    if len(drops) >= MANY_DROPPED_TABLES:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return [
            Finding(
                rule="many-tables-dropped",
                severity=Severity.BLOCK,
                message=(
                    f"{len(drops)} tables are dropped at once ({shown}): autogenerate drops "
                    "every table whose model it cannot see, most often because the models "
                    "were not imported."
                ),
                fix=(
                    "Import every models module before the metadata is read (in the app or "
                    "env.py) and generate again; acknowledge only if the drops are intended."
                ),
                table=None,
                op_index=drops[0].path,
                related_op_indexes=tuple(item.path for item in drops[1:]),
            )
        ]
    return [
        Finding(
            rule="drop-table",
            severity=Severity.WARN,
            message=f"Table {name} is dropped with every row it holds.",
            fix=(
                f"Copy the rows of {name} elsewhere first if they may be needed; acknowledge "
                "this finding when the drop is intended."
            ),
            table=name,
            op_index=item.path,
        )
        for item, name in zip(drops, names, strict=True)
    ]


def _dropped_columns(change: _Change, renamed: set[OpPath]) -> Iterator[Finding]:
    for item in change.located:
        op = item.op
        if not isinstance(op, ops.DropColumnOp) or item.path in renamed:
            continue
        table = table_key(op.table_name, op.schema)
        if not change.existing(table):
            continue
        yield Finding(
            rule="drop-column",
            severity=Severity.WARN,
            message=f"Column {table}.{op.column_name} is dropped with every value it holds.",
            fix=(
                f"Copy {table}.{op.column_name} elsewhere first if it may be needed; "
                "acknowledge this finding when the drop is intended."
            ),
            table=table,
            column=op.column_name,
            op_index=item.path,
        )


# --- rules on one op -----------------------------------------------------------------------


def _add_not_null_column(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if not isinstance(op, ops.AddColumnOp):
        return
    column = op.column
    table = table_key(op.table_name, op.schema)
    if column.nullable or column.server_default is not None or not change.existing(table):
        return
    name = f"{table}.{column.name}"
    consequence = {
        "sqlite": (
            "SQLite refuses it as soon as the table has a row ('Cannot add a NOT NULL column "
            "with default value NULL')"
        ),
        "postgresql": (
            "PostgreSQL fails with 'column contains null values' as soon as the table has a row"
        ),
        "mysql": (
            f"{change.dialect_name} does not fail but fills every existing row with the type's "
            "implicit default (0, '', a zero date), inventing values"
        ),
    }.get(change.dialect, "the ALTER fails as soon as the table has a row")
    yield Finding(
        rule="add-not-null-column",
        severity=Severity.BLOCK,
        message=f"{name} is added NOT NULL without a server default: {consequence}.",
        fix=(
            f"Add {column.name} with a server_default (or nullable=True), fill the rows, then "
            f"op.alter_column('{op.table_name}', '{column.name}', nullable=False)."
        ),
        table=table,
        column=column.name,
        op_index=located.path,
    )


def _set_not_null(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if not isinstance(op, ops.AlterColumnOp) or op.modify_nullable is not False:
        return
    table = table_key(op.table_name, op.schema)
    if op.existing_nullable is False or not change.existing(table):
        return
    name = f"{table}.{op.column_name}"
    consequence = {
        "postgresql": (
            "PostgreSQL scans the whole table under an ACCESS EXCLUSIVE lock and fails if any "
            "row holds NULL"
        ),
        "mysql": (
            f"{change.dialect_name} rebuilds the table; a row holding NULL fails it in strict "
            "mode and is changed to the implicit default (0, '') otherwise"
        ),
        "sqlite": "SQLite batch mode copies the table and fails on the first row holding NULL",
    }.get(change.dialect, "the ALTER fails if any row holds NULL")
    fix = f'Fill the NULLs first (op.execute("UPDATE {table} SET {op.column_name} = ... '
    fix += f'WHERE {op.column_name} IS NULL"))'
    if change.dialect == "postgresql":
        fix += (
            f"; on a large table add CHECK ({op.column_name} IS NOT NULL) NOT VALID, "
            "VALIDATE it, then set NOT NULL"
        )
    yield Finding(
        rule="set-not-null",
        severity=Severity.WARN,
        message=f"{name} becomes NOT NULL: {consequence}.",
        fix=fix + ".",
        table=table,
        column=op.column_name,
        op_index=located.path,
    )


def _type_change(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
        return
    old = column_types.resolved(op.existing_type)
    new = column_types.resolved(op.modify_type)
    table = table_key(op.table_name, op.schema)
    if old is None and new is not None and RAW_SQL in op.kw and change.existing(table):
        yield _raw_type_finding(located, change, op, table, column_types.describe(new))
        return
    if old is None or new is None or not change.existing(table):
        return
    if change.dialect == "postgresql" and "enum" in (
        column_types.family(old),
        column_types.family(new),
    ):
        return
    kind = column_types.change_of(old, new)
    name = f"{table}.{op.column_name}"
    what = f"{name} changes from {column_types.describe(old)} to {column_types.describe(new)}"
    if kind is TypeChange.CROSS:
        yield _cross_type_finding(located, change, op, table, what)
    elif kind is TypeChange.NARROWING:
        yield _narrowing_finding(located, change, op, table, what)


def _cross_type_finding(
    located: LocatedOp, change: _Change, op: ops.AlterColumnOp, table: str, what: str
) -> Finding:
    severity = Severity.BLOCK
    if change.dialect == "sqlite":
        consequence = (
            "SQLite batch mode copies the rows with CAST, so values that do not convert change "
            "silently ('abc' becomes 0)"
        )
    elif change.dialect == "postgresql":
        if op.kw.get("postgresql_using"):
            severity = Severity.WARN
            consequence = (
                "PostgreSQL converts every row with the given USING expression and rewrites "
                "the table under an ACCESS EXCLUSIVE lock"
            )
        else:
            consequence = (
                "PostgreSQL fails unless an implicit cast exists (postgresql_using= says how to "
                "convert) and rewrites the table under an ACCESS EXCLUSIVE lock"
            )
    elif change.dialect == "mysql":
        consequence = (
            f"{change.dialect_name} converts the rows in place: a value that does not convert "
            "fails the statement in strict mode and becomes 0 or '' otherwise"
        )
    else:
        consequence = "values that do not convert fail the migration or are changed"
    return Finding(
        rule="cross-type-change",
        severity=severity,
        message=f"{what}: {consequence}.",
        fix=(
            f"Add a new column, copy {op.column_name} into it with an explicit conversion "
            "(op.execute), check the rows, then drop the old column."
        ),
        table=table,
        column=op.column_name,
        op_index=located.path,
    )


def _raw_type_finding(
    located: LocatedOp, change: _Change, op: ops.AlterColumnOp, table: str, new: str
) -> Finding:
    """A type change in raw SQL: the old type is not in the SQL, so the worst case is told."""
    consequence = {
        "postgresql": (
            "unless the old type converts without it (a longer VARCHAR, TEXT), PostgreSQL "
            "rewrites the table under an ACCESS EXCLUSIVE lock and fails on a value that does "
            "not convert"
        ),
        "mysql": (
            f"unless the change is in place, {change.dialect_name} copies the whole table, and "
            "a value that does not convert fails or is changed"
        ),
    }.get(change.dialect, "values that do not convert fail the migration or are changed")
    return Finding(
        rule="cross-type-change",
        severity=Severity.WARN,
        message=(
            f"{table}.{op.column_name} changes to {new} in raw SQL, from a type the review "
            f"cannot see: {consequence}."
        ),
        fix=(
            f"Measure it (the review command's --locks); on a large table add a new "
            f"column, copy {op.column_name} into it in batches, then drop the old one."
        ),
        table=table,
        column=op.column_name,
        op_index=located.path,
    )


def _narrowing_finding(
    located: LocatedOp, change: _Change, op: ops.AlterColumnOp, table: str, what: str
) -> Finding:
    severity = Severity.WARN
    if change.dialect == "sqlite":
        severity = Severity.INFO
        consequence = (
            "SQLite does not enforce the new size, so values that do not fit stay and fail "
            "later on another database"
        )
    elif change.dialect == "mysql":
        consequence = (
            f"{change.dialect_name} fails on a value that does not fit in strict mode and "
            "truncates it otherwise"
        )
    else:
        consequence = f"{change.dialect_name} fails if any stored value does not fit"
    return Finding(
        rule="narrowing-type-change",
        severity=severity,
        message=f"{what}: {consequence}.",
        fix=(
            f"Check that every value of {op.column_name} fits the new type first, and shorten "
            "or move the rows that do not."
        ),
        table=table,
        column=op.column_name,
        op_index=located.path,
    )


def _sqlite_alter_outside_batch(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    if change.dialect != "sqlite" or change.in_batch(located):
        return
    op = located.op
    table = op_table(op)
    column = None
    if isinstance(op, ops.AlterColumnOp):
        if (
            op.modify_type is None
            and op.modify_nullable is None
            and op.modify_server_default is False
        ):
            return
        cannot = "change a column's type, nullability or default"
        column = op.column_name
    elif isinstance(op, ops.AddConstraintOp):
        cannot = "add a constraint to a table"
    elif isinstance(op, ops.DropConstraintOp):
        cannot = "drop a constraint"
    elif isinstance(op, ops.AddColumnOp) and table is not None and change.existing(table):
        default_sql = _server_default_sql(op.column.server_default)
        if default_sql is None or _SQL_CONSTANT.fullmatch(default_sql):
            return
        cannot = f"add a column with the non-constant default {default_sql} to a table with rows"
        column = op.column.name
    else:
        return
    target = f"{table}.{column}" if column else table
    bare_table = getattr(op, "table_name", None) or getattr(op, "source_table", table)
    yield Finding(
        rule="sqlite-alter-outside-batch",
        severity=Severity.BLOCK,
        message=(
            f"This change to {target} runs outside batch mode, and SQLite's ALTER TABLE cannot "
            f"{cannot}, so the migration fails."
        ),
        fix=(
            f"Put it in a `with op.batch_alter_table('{bare_table}') as batch_op:` block "
            "(Migrate(render_as_batch=True) makes autogenerate do so)."
        ),
        table=table,
        column=column,
        op_index=located.path,
    )


def _mysql_alter_missing_existing(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if change.dialect != "mysql" or not isinstance(op, ops.AlterColumnOp) or RAW_SQL in op.kw:
        return
    rewrites_definition = (
        op.modify_name is not None
        or op.modify_type is not None
        or op.modify_nullable is not None
        or op.modify_comment is not False
    )
    if not rewrites_definition:
        return
    missing = []
    if op.existing_type is None and op.modify_type is None:
        missing.append(("existing_type", "Alembic refuses to run it"))
    if op.existing_nullable is None and op.modify_nullable is None:
        missing.append(("existing_nullable", "a NOT NULL column silently becomes nullable"))
    if not missing:
        return
    table = table_key(op.table_name, op.schema)
    yield Finding(
        rule="mysql-alter-missing-existing",
        severity=Severity.WARN,
        message=(
            f"op.alter_column on {table}.{op.column_name} lacks "
            f"{' and '.join(name for name, _ in missing)}: {change.dialect_name} restates the "
            f"whole column definition, so {'; '.join(effect for _, effect in missing)}."
        ),
        fix=(
            "Pass existing_type=, existing_nullable= and existing_server_default= (and "
            "existing_comment=) as the column is before the change."
        ),
        table=table,
        column=op.column_name,
        op_index=located.path,
    )


def _unnamed_constraint(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    kinds = {
        ops.CreateUniqueConstraintOp: "unique",
        ops.CreateForeignKeyOp: "foreign key",
        ops.CreateCheckConstraintOp: "check",
    }
    kind = kinds.get(type(op))
    if kind is None or getattr(op, "constraint_name", "") is not None:
        return
    table = op_table(op)
    columns = _constraint_columns(op)
    yield Finding(
        rule="unnamed-constraint",
        severity=Severity.WARN,
        message=(
            f"The {kind} constraint on {table}{f' ({columns})' if columns else ''} has no "
            "name: each database invents one, so a later drop_constraint cannot name it (and "
            "SQLite batch mode cannot drop it)."
        ),
        fix="Give it a name, or set a naming_convention on the MetaData so autogenerate does.",
        table=table,
        column=columns or None,
        op_index=located.path,
    )


def _unique_on_existing_table(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if isinstance(op, ops.CreateUniqueConstraintOp):
        kind = "unique constraint"
    elif isinstance(op, ops.CreateIndexOp) and op.unique:
        kind = "unique index"
    else:
        return
    table = op_table(op)
    if table is None or not change.existing(table):
        return
    columns = _column_names(op)
    added = change.added_columns(table)
    if all(name in added and added[name].server_default is None for name in columns):
        return
    listed = ", ".join(columns)
    message = (
        f"A {kind} on {table} ({listed}) is added to an existing table: it fails if duplicate "
        "values exist"
    )
    fix = (
        f"Check first: SELECT {listed}, count(*) FROM {table} GROUP BY {listed} HAVING count(*) > 1"
    )
    if change.dialect == "postgresql":
        message += ", and blocks writes to the table while the index is built"
        fix += "; on a large table CREATE UNIQUE INDEX CONCURRENTLY, then add the constraint "
        fix += "USING INDEX"
    yield Finding(
        rule="unique-on-existing-table",
        severity=Severity.WARN,
        message=message + ".",
        fix=fix + ".",
        table=table,
        column=listed,
        op_index=located.path,
    )


def _index_not_concurrent(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if change.dialect != "postgresql" or not isinstance(op, ops.CreateIndexOp):
        return
    table = table_key(op.table_name, op.schema)
    if op.kw.get("postgresql_concurrently") or not change.existing(table):
        return
    columns = ", ".join(_column_names(op))
    yield Finding(
        rule="index-not-concurrent",
        severity=Severity.WARN,
        message=(
            f"Index {op.index_name} on {table} ({columns}) is built without CONCURRENTLY: "
            f"PostgreSQL blocks every write to {table} until it is built."
        ),
        fix=(
            "Pass postgresql_concurrently=True and run it inside "
            "`with op.get_context().autocommit_block():`."
        ),
        table=table,
        column=columns,
        op_index=located.path,
    )


def _constraint_not_valid(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if change.dialect != "postgresql":
        return
    if isinstance(op, ops.CreateForeignKeyOp):
        kind = f"foreign key to {op.referent_table}"
        locked = f"{op_table(op)} and {op.referent_table}"
    elif isinstance(op, ops.CreateCheckConstraintOp):
        kind = "check constraint"
        locked = op_table(op)
    else:
        return
    table = op_table(op)
    if table is None or op.kw.get("postgresql_not_valid") or not change.existing(table):
        return
    name = f" {op.constraint_name}" if op.constraint_name else ""
    columns = _constraint_columns(op)
    yield Finding(
        rule="constraint-not-valid",
        severity=Severity.WARN,
        message=(
            f"The {kind}{name} on {table}{f' ({columns})' if columns else ''} is checked "
            f"against every row at once: PostgreSQL scans {table} while blocking writes to "
            f"{locked}."
        ),
        fix=(
            "Create it with postgresql_not_valid=True, then run ALTER TABLE ... VALIDATE "
            "CONSTRAINT in a later migration (op.execute)."
        ),
        table=table,
        column=columns or None,
        op_index=located.path,
    )


def _volatile_default(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if not isinstance(op, ops.AddColumnOp) or change.dialect not in ("postgresql", "mysql"):
        return
    table = table_key(op.table_name, op.schema)
    if not change.existing(table):
        return
    column = op.column
    default = column.server_default
    default_sql = _server_default_sql(default)
    if change.dialect == "postgresql":
        if isinstance(default, sa.Identity):
            what = "as an identity column"
        elif isinstance(default, sa.Computed) and default.persisted is not False:
            what = "as a stored generated column"
        elif default_sql is not None and _POSTGRESQL_VOLATILE_CALL.search(default_sql):
            what = f"with the volatile default {default_sql}"
        else:
            return
        consequence = (
            "PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock to fill it"
        )
    else:
        if (
            default_sql is None
            or _SQL_CONSTANT.fullmatch(default_sql)
            or _MYSQL_CONSTANT_TIME_DEFAULT.fullmatch(default_sql)
        ):
            return
        what = f"with the expression default {default_sql}"
        consequence = (
            f"{change.dialect_name} may copy the whole table instead of adding the column in place"
        )
    yield Finding(
        rule="volatile-default",
        severity=Severity.WARN,
        message=f"{table}.{column.name} is added {what}: {consequence}.",
        fix=(
            "Add the column without that default, fill it in batches (op.execute), then set "
            "the default with op.alter_column."
        ),
        table=table,
        column=column.name,
        op_index=located.path,
    )


def _postgresql_enum_change(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    op = located.op
    if change.dialect != "postgresql":
        return
    if isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
        old = column_types.resolved(op.existing_type)
        new = column_types.resolved(op.modify_type)
        if not any(_native_enum(type_) for type_ in (old, new)):
            return
        table = table_key(op.table_name, op.schema)
        old_text = column_types.describe(old) if old is not None else "an unknown type"
        message = (
            f"{table}.{op.column_name} changes from {old_text} to "
            f"{column_types.describe(new)}: Alembic does not alter PostgreSQL ENUM types, so "
            "the ALTER fails unless the type is changed by hand."
        )
        fix = (
            "Add values with op.execute(\"ALTER TYPE ... ADD VALUE '...'\"); to remove or "
            "rename values create a new type, convert with postgresql_using=, drop the old one."
        )
        column = op.column_name
    elif isinstance(op, ops.AddColumnOp) and _native_enum(op.column.type):
        type_name = op.column.type.name
        if _enum_created_before(type_name, located.path, change):
            return
        table = table_key(op.table_name, op.schema)
        message = (
            f"{table}.{op.column.name} is added with the ENUM type {type_name}: op.add_column "
            f'does not create the type on PostgreSQL, so it fails (\'type "{type_name}" does '
            "not exist') unless the type exists already."
        )
        fix = (
            f"Create the type first: sa.Enum(..., name='{type_name}').create(op.get_bind(), "
            "checkfirst=True), and drop it in the downgrade."
        )
        column = op.column.name
    else:
        return
    yield Finding(
        rule="postgresql-enum-change",
        severity=Severity.WARN,
        message=message,
        fix=fix,
        table=table,
        column=column,
        op_index=located.path,
    )


def _raw_sql(located: LocatedOp, change: _Change) -> Iterator[Finding]:
    """Raw SQL that could not be read, and what it does that no op call does."""
    op = located.op
    if not isinstance(op, ops.ExecuteSQLOp):
        return
    shown = " ".join(_sql_text(op).split())
    if len(shown) > _RAW_SQL_SHOWN:
        shown = shown[: _RAW_SQL_SHOWN - 1] + "…"
    parsed = change.raw_sql.get(located.path)
    if parsed is None or parsed.missing_parser is not None:
        fix = "Read it yourself."
        if located.path not in change.raw_sql:
            why = "no rule reads SQL built with SQLAlchemy constructs"
        elif parsed is None:
            why = f"no SQL parser reads {change.dialect_name}"
        else:
            why = f"the SQL parser ({parsed.missing_parser}) is not installed"
            fix = f"Install the sql extra ({SQL_EXTRA}) to have op.execute reviewed."
        yield Finding(
            rule="raw-sql",
            severity=Severity.INFO,
            message=f"Raw SQL is not reviewed ({why}): {shown}",
            fix=fix,
            op_index=located.path,
        )
        return
    if parsed.error is not None:
        yield Finding(
            rule="raw-sql-unparsable",
            severity=Severity.WARN,
            message=(
                f"This SQL does not parse as {change.dialect_name} ({parsed.error}), so no "
                f"rule could read it: {shown}"
            ),
            fix="Check the statement: it will most likely fail the migration as written.",
            op_index=located.path,
        )
    for unbounded in parsed.unbounded:
        yield Finding(
            rule="unbounded-data-change",
            severity=Severity.WARN,
            message=(
                f"{unbounded.verb} of {unbounded.table} has no WHERE: every row changes in one "
                "statement, each locked until the migration's transaction ends."
            ),
            fix=(
                f"On a large table {unbounded.verb.lower()} in batches (a WHERE on a key "
                "range, one transaction per batch), or acknowledge this finding."
            ),
            table=unbounded.table,
            op_index=located.path,
        )


_OP_RULES: Sequence[Callable[[LocatedOp, _Change], Iterator[Finding]]] = (
    _add_not_null_column,
    _set_not_null,
    _type_change,
    _sqlite_alter_outside_batch,
    _mysql_alter_missing_existing,
    _unnamed_constraint,
    _unique_on_existing_table,
    _index_not_concurrent,
    _constraint_not_valid,
    _volatile_default,
    _postgresql_enum_change,
    _raw_sql,
)


# --- rules on groups of ops ----------------------------------------------------------------


def _batch_cascades(change: _Change) -> Iterator[Finding]:
    """SQLite batch mode recreating a table that ON DELETE actions of other tables follow."""
    if change.dialect != "sqlite" or not change.context.foreign_key_actions:
        return
    actions = defaultdict(list)
    for action in change.context.foreign_key_actions:
        if action.ondelete.upper() in _ROW_CHANGING_ONDELETE:
            actions[action.referred_table].append(action)
    groups: dict[int, list[LocatedOp]] = defaultdict(list)
    for item in change.located:
        if item.group is not None and change.in_batch(item):
            groups[id(item.group)].append(item)
    for items in groups.values():
        group = items[0].group
        assert group is not None
        table = table_key(group.table_name, group.schema)
        if table not in actions or not change.existing(table):
            continue
        if not _recreates_on_sqlite(group):
            continue
        for action in actions[table]:
            columns = ", ".join(action.referring_columns)
            effect = _ROW_CHANGING_ONDELETE[action.ondelete.upper()]
            yield Finding(
                rule="sqlite-batch-cascade",
                severity=Severity.WARN,
                message=(
                    f"Batch mode recreates {table} (copy, DROP, rename): with foreign keys "
                    f"enforced, the DROP fires ON DELETE {action.ondelete.upper()} of "
                    f"{action.referring_table}.{columns}, so those rows are {effect}."
                ),
                fix=(
                    "Run this migration with PRAGMA foreign_keys=OFF (set on the connection "
                    "before the transaction begins, e.g. in env.py) and back on after."
                ),
                table=table,
                column=None,
                op_index=items[0].path,
            )


def _index_noise(change: _Change) -> Iterator[Finding]:
    """An index dropped and created again unchanged: autogenerate noise, both ops can go."""
    drops: dict[tuple[str, str], LocatedOp] = {}
    for item in change.located:
        if isinstance(item.op, ops.DropIndexOp) and item.op.index_name is not None:
            table = table_key(item.op.table_name or "", item.op.schema)
            drops[(table, str(item.op.index_name))] = item
    if not drops:
        return
    for item in change.located:
        create = item.op
        if not isinstance(create, ops.CreateIndexOp) or create.index_name is None:
            continue
        table = table_key(create.table_name, create.schema)
        drop = drops.get((table, str(create.index_name)))
        sameness = _index_sameness(drop.op, create) if drop is not None else None
        if drop is None or sameness is None:
            continue
        if sameness == "same":
            message = (
                f"Index {create.index_name} on {table} is dropped and created again with the "
                "same columns: autogenerate noise."
            )
            fix = "Remove both operations (the fix does it)."
        else:
            message = (
                f"Index {create.index_name} on {table} is dropped and created again; its "
                "expression differs only in what the database's reflection leaves out (casts, "
                "COLLATE, quoting), so autogenerate makes this pair on every run: most likely "
                "noise."
            )
            fix = (
                "Remove both operations (the fix does it), unless you changed the index's "
                "collation or a cast on purpose."
            )
        yield Finding(
            rule="index-noise",
            severity=Severity.INFO,
            message=message,
            fix=fix,
            table=table,
            op_index=drop.path,
            related_op_indexes=(item.path,),
            rewrite_available=True,
        )


# --- helpers -------------------------------------------------------------------------------


def _shared_affixes(old_name: str, new_name: str) -> int:
    """How many leading and trailing characters two names share: a cheap tie-breaker."""
    prefix = _common_prefix_length(old_name, new_name)
    suffix = _common_prefix_length(old_name[::-1], new_name[::-1])
    return min(prefix + suffix, len(old_name), len(new_name))


def _common_prefix_length(first: str, second: str) -> int:
    for length, (one, other) in enumerate(zip(first, second, strict=False)):
        if one != other:
            return length
    return min(len(first), len(second))


def _columns_of(create: ops.CreateTableOp) -> list[sa.Column[Any]]:
    return [column for column in create.columns if isinstance(column, sa.Column)]


def _column_names(op: ops.MigrateOperation) -> list[str]:
    """The columns of an index or constraint op by name (expressions as SQL)."""
    columns = getattr(op, "columns", None) or getattr(op, "local_cols", None) or ()
    return [column.name if isinstance(column, sa.Column) else str(column) for column in columns]


def _constraint_columns(op: ops.MigrateOperation) -> str:
    return ", ".join(_column_names(op))


def _sql_text(op: ops.ExecuteSQLOp) -> str:
    """The SQL of an ``op.execute``: its string, or the text of its ``sa.text``."""
    return op.sqltext.text if isinstance(op.sqltext, TextClause) else str(op.sqltext)


def _server_default_sql(default: Any) -> str | None:
    """The SQL of a column's server default when it is an expression; None for a literal."""
    if not isinstance(default, sa.DefaultClause):
        return None
    argument = default.arg
    if isinstance(argument, str):
        return None
    if isinstance(argument, TextClause):
        return argument.text
    return str(argument)


def _native_enum(type_: Any) -> bool:
    return (
        isinstance(type_, sa.Enum)
        and type_.native_enum
        and type_.name is not None
        and getattr(type_, "create_type", True) is not False
    )


def _enum_created_before(type_name: str, path: OpPath, change: _Change) -> bool:
    """True when a table created earlier in this migration brings the ENUM type along."""
    for item in change.located:
        if item.path >= path:
            return False
        if isinstance(item.op, ops.CreateTableOp) and any(
            _native_enum(column.type) and column.type.name == type_name
            for column in _columns_of(item.op)
        ):
            return True
    return False


def _recreates_on_sqlite(group: ops.ModifyTableOps) -> bool:
    """Alembic's rule for when SQLite batch mode copies the table instead of altering it."""
    recreate = getattr(group, "recreate", "auto")
    if recreate != "auto":
        return recreate == "always"
    for op in group.ops:
        if isinstance(op, ops.AddColumnOp):
            default = op.column.server_default
            if _server_default_sql(default) is not None or (
                isinstance(default, sa.Computed) and default.persisted
            ):
                return True
        elif not isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)):
            return True
    return False


def _index_sameness(drop: ops.DropIndexOp, create: ops.CreateIndexOp) -> str | None:
    """How alike a dropped index and its re-creation are: "same", "reflected", or None (changed).

    Autogenerate keeps the reflected index on the drop op; only then is "unchanged" known.
    Reflected expressions lose casts' spelling, COLLATE and table qualifiers (PostgreSQL gives
    ``lower(name::text)`` for ``lower(users.name) COLLATE "C"``), so they are also compared
    with those left out: "reflected" means only such details differ.
    """
    before = drop._reverse
    if before is None or bool(before.unique) != bool(create.unique):
        return None
    if _index_options(before.kw) != _index_options(create.kw):
        return None
    columns_before = [str(column) for column in before.columns]
    columns_after = [str(column) for column in create.columns]
    if columns_before == columns_after:
        return "same"
    if [_bare_expression(text) for text in columns_before] == [
        _bare_expression(text) for text in columns_after
    ]:
        return "reflected"
    return None


def _index_options(options: dict[str, Any]) -> dict[str, str]:
    """An index's dialect options as text, the empty ones (reflection's defaults) left out."""
    return {name: str(value) for name, value in options.items() if value not in (None, [], (), {})}


def _bare_expression(text: str) -> str:
    """An index expression without casts, COLLATE, qualifiers, quotes, parentheses or spaces."""
    bare = _COLLATE_CLAUSE.sub("", text.lower())
    bare = _CAST_SUFFIX.sub("", bare).replace('"', "").replace("`", "")
    bare = _QUALIFIER.sub("", bare)
    return re.sub(r"[\s()]", "", bare)
