"""Reading the SQL of ``op.execute`` with a real parser, as the ops the rules already judge.

PostgreSQL's SQL is parsed by PostgreSQL's own parser (pglast), MySQL/MariaDB's and SQLite's
by sqlglot; both come with the ``sql`` extra. Each statement the rules know becomes the Alembic
op it stands for (``CREATE INDEX`` a ``CreateIndexOp``, ``ALTER TABLE ... ADD COLUMN`` an
``AddColumnOp``...), so raw SQL gets the very rules op calls get; what has no op (an
``UPDATE`` without ``WHERE``, ``SET lock_timeout``) is noted beside them. Ops made here carry
``RAW_SQL`` in their ``kw``, so a rule can tell what the SQL does not say (a column's old type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

RAW_SQL = "workbench_raw_sql"
"""The ``kw`` key of an op read from raw SQL: its value is the statement."""
SQL_EXTRA = "pip install 'flask-migrate-workbench[sql]'"
PARSERS = {"postgresql": "pglast", "mysql": "sqlglot", "mariadb": "sqlglot", "sqlite": "sqlglot"}
"""The parser each dialect's SQL is read with."""


class RawType(sa.types.UserDefinedType[Any]):
    """A column type as raw SQL spells it: shown as written, never compared."""

    cache_ok = True

    def __init__(self, text: str) -> None:
        self.text = text

    def get_col_spec(self, **kw: Any) -> str:
        """The type as written."""
        return self.text


@dataclass(frozen=True)
class UnboundedChange:
    """An ``UPDATE`` or ``DELETE`` without ``WHERE``: every row of the table changes."""

    verb: str
    table: str


@dataclass(frozen=True)
class ParsedSQL:
    """What one ``op.execute`` string does, as far as the rules are concerned.

    ``error`` says why it did not parse; ``missing_parser`` names the package to install
    when the dialect's parser is not there; both None when it was read.
    """

    ops: tuple[ops.MigrateOperation, ...] = ()
    unbounded: tuple[UnboundedChange, ...] = ()
    sets_lock_timeout: bool = False
    error: str | None = None
    missing_parser: str | None = None


def parse_sql(sql: str, dialect: str) -> ParsedSQL | None:
    """Read raw SQL for a dialect; None when no parser reads that dialect."""
    parser = PARSERS.get(dialect.lower())
    if parser is None:
        return None
    try:
        if parser == "pglast":
            import pglast  # noqa: F401
        else:
            import sqlglot  # noqa: F401
    except ImportError:
        return ParsedSQL(missing_parser=parser)
    if parser == "pglast":
        return _PostgreSQL().parse(sql)
    return _Sqlglot("sqlite" if dialect == "sqlite" else "mysql").parse(sql)


def _column(name: str, type_text: str, *, not_null: bool, default: str | None) -> sa.Column[Any]:
    """A column as an ``ADD COLUMN`` defines it."""
    return sa.Column(
        name,
        RawType(type_text),
        nullable=not not_null,
        server_default=sa.text(default) if default is not None else None,
    )


def _split_table(name: str) -> tuple[str | None, str]:
    """``schema.table`` as (schema, table)."""
    schema, _, table = name.rpartition(".")
    return schema or None, table


class _PostgreSQL:
    """PostgreSQL statements read with pglast (PostgreSQL's own parser)."""

    def parse(self, sql: str) -> ParsedSQL:
        """The ops, unbounded changes and settings of some statements, or why they do not parse."""
        import pglast

        try:
            statements = pglast.parse_sql(sql)
        except pglast.parser.ParseError as exc:
            return ParsedSQL(error=str(exc))
        found: list[ops.MigrateOperation] = []
        unbounded: list[UnboundedChange] = []
        sets_lock_timeout = False
        for raw in statements:
            statement = raw.stmt
            text = self._text(sql, raw)
            kind = type(statement).__name__
            if kind == "IndexStmt":
                found.append(self._index(statement, text))
            elif kind == "AlterTableStmt":
                found.extend(self._alter(statement, text))
            elif kind in ("UpdateStmt", "DeleteStmt") and statement.whereClause is None:
                verb = "UPDATE" if kind == "UpdateStmt" else "DELETE"
                unbounded.append(UnboundedChange(verb, self._table(statement.relation)))
            elif kind == "VariableSetStmt" and statement.name == "lock_timeout":
                sets_lock_timeout = True
        return ParsedSQL(tuple(found), tuple(unbounded), sets_lock_timeout)

    @staticmethod
    def _text(sql: str, raw: Any) -> str:
        """One statement's own text."""
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(sql)
        return " ".join(sql[start:end].split())

    @staticmethod
    def _table(relation: Any) -> str:
        return (
            f"{relation.schemaname}.{relation.relname}" if relation.schemaname else relation.relname
        )

    @staticmethod
    def _deparse(node: Any) -> str:
        from pglast.stream import RawStream

        return str(RawStream()(node))

    def _index(self, statement: Any, text: str) -> ops.CreateIndexOp:
        columns = [
            element.name if element.name is not None else self._deparse(element.expr)
            for element in statement.indexParams
        ]
        kw: dict[str, Any] = {RAW_SQL: text}
        if statement.concurrent:
            kw["postgresql_concurrently"] = True
        return ops.CreateIndexOp(
            statement.idxname,
            statement.relation.relname,
            columns,
            schema=statement.relation.schemaname,
            unique=bool(statement.unique),
            **kw,
        )

    def _alter(self, statement: Any, text: str) -> list[ops.MigrateOperation]:
        from pglast.enums import AlterTableType, ConstrType

        table, schema = statement.relation.relname, statement.relation.schemaname
        found: list[ops.MigrateOperation] = []
        for command in statement.cmds or ():
            subtype, definition = command.subtype, command.def_
            if subtype == AlterTableType.AT_AddColumn:
                constraints = definition.constraints or ()
                kinds = {constraint.contype for constraint in constraints}
                default = next(
                    (
                        self._deparse(constraint.raw_expr)
                        for constraint in constraints
                        if constraint.contype == ConstrType.CONSTR_DEFAULT
                    ),
                    None,
                )
                not_null = bool(
                    definition.is_not_null
                    or kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}
                )
                column = _column(
                    definition.colname,
                    self._deparse(definition.typeName),
                    not_null=not_null,
                    default=default,
                )
                found.append(ops.AddColumnOp(table, column, schema=schema, **{RAW_SQL: text}))
            elif subtype == AlterTableType.AT_SetNotNull:
                found.append(
                    ops.AlterColumnOp(
                        table, command.name, schema=schema, modify_nullable=False, **{RAW_SQL: text}
                    )
                )
            elif subtype == AlterTableType.AT_AlterColumnType:
                kw: dict[str, Any] = {RAW_SQL: text}
                if definition.raw_default is not None:
                    kw["postgresql_using"] = self._deparse(definition.raw_default)
                found.append(
                    ops.AlterColumnOp(
                        table,
                        command.name,
                        schema=schema,
                        modify_type=RawType(self._deparse(definition.typeName)),
                        **kw,
                    )
                )
            elif subtype == AlterTableType.AT_AddConstraint:
                constraint = self._constraint(definition, table, schema, text)
                if constraint is not None:
                    found.append(constraint)
        return found

    def _constraint(
        self, definition: Any, table: str, schema: str | None, text: str
    ) -> ops.MigrateOperation | None:
        from pglast.enums import ConstrType

        kw: dict[str, Any] = {RAW_SQL: text}
        if definition.skip_validation:
            kw["postgresql_not_valid"] = True
        if definition.contype == ConstrType.CONSTR_UNIQUE and definition.keys:
            columns = [key.sval for key in definition.keys]
            return ops.CreateUniqueConstraintOp(
                definition.conname, table, columns, schema=schema, **kw
            )
        if definition.contype == ConstrType.CONSTR_FOREIGN:
            return ops.CreateForeignKeyOp(
                definition.conname,
                table,
                definition.pktable.relname,
                [attribute.sval for attribute in definition.fk_attrs or ()],
                [attribute.sval for attribute in definition.pk_attrs or ()],
                source_schema=schema,
                **kw,
            )
        if definition.contype == ConstrType.CONSTR_CHECK:
            return ops.CreateCheckConstraintOp(
                definition.conname,
                table,
                sa.text(self._deparse(definition.raw_expr)),
                schema=schema,
                **kw,
            )
        return None


class _Sqlglot:
    """MySQL/MariaDB or SQLite statements read with sqlglot."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def parse(self, sql: str) -> ParsedSQL:
        """The ops, unbounded changes and settings of some statements, or why they do not parse.

        sqlglot reads a bare expression (``THIS IS NOT SQL`` is ``NOT (THIS IS SQL)``) as a
        statement: one that is no statement counts as not parsed.
        """
        import sqlglot
        from sqlglot import exp

        try:
            statements = [item for item in sqlglot.parse(sql, read=self.dialect) if item]
        except sqlglot.errors.SqlglotError as exc:
            return ParsedSQL(error=str(exc).splitlines()[0])
        found: list[ops.MigrateOperation] = []
        unbounded: list[UnboundedChange] = []
        for statement in statements:
            if isinstance(statement, exp.Condition):
                return ParsedSQL(error=f"not a statement: {statement.sql(dialect=self.dialect)}")
            text = statement.sql(dialect=self.dialect)
            if isinstance(statement, exp.Create) and statement.args.get("kind") == "INDEX":
                found.append(self._index(statement, text))
            elif isinstance(statement, exp.Alter):
                found.extend(self._alter(statement, text))
            elif isinstance(statement, (exp.Update, exp.Delete)) and not statement.args.get(
                "where"
            ):
                verb = "UPDATE" if isinstance(statement, exp.Update) else "DELETE"
                unbounded.append(UnboundedChange(verb, self._table(statement.this)))
        return ParsedSQL(tuple(found), tuple(unbounded))

    @staticmethod
    def _table(table: Any) -> str:
        return ".".join(part.name for part in table.parts) if table is not None else "?"

    def _index(self, statement: Any, text: str) -> ops.CreateIndexOp:
        index = statement.this
        schema, table = _split_table(self._table(index.args.get("table")))
        params = index.args.get("params")
        columns = [
            column.this.sql(dialect=self.dialect) if hasattr(column, "this") else column.sql()
            for column in (params.args.get("columns") or () if params is not None else ())
        ]
        return ops.CreateIndexOp(
            index.name,
            table,
            columns,
            schema=schema,
            unique=bool(statement.args.get("unique")),
            **{RAW_SQL: text},
        )

    def _alter(self, statement: Any, text: str) -> list[ops.MigrateOperation]:
        from sqlglot import exp

        schema, table = _split_table(self._table(statement.this))
        found: list[ops.MigrateOperation] = []
        for action in statement.args.get("actions") or ():
            modified = getattr(exp, "ModifyColumn", ())
            if isinstance(action, modified) and isinstance(action.this, exp.ColumnDef):
                action = action.this
                kind = action.args.get("kind")
                if kind is not None:
                    found.append(
                        ops.AlterColumnOp(
                            table,
                            action.name,
                            schema=schema,
                            modify_type=RawType(kind.sql(dialect=self.dialect)),
                            **{RAW_SQL: text},
                        )
                    )
            elif isinstance(action, exp.ColumnDef):
                found.append(self._add_column(action, table, schema, text))
        return found

    def _add_column(
        self, definition: Any, table: str, schema: str | None, text: str
    ) -> ops.AddColumnOp:
        from sqlglot import exp

        not_null, default = False, None
        for constraint in definition.args.get("constraints") or ():
            kind = constraint.args.get("kind")
            if isinstance(kind, (exp.NotNullColumnConstraint, exp.PrimaryKeyColumnConstraint)):
                not_null = not_null or not kind.args.get("allow_null")
            elif isinstance(kind, exp.DefaultColumnConstraint):
                default = kind.this.sql(dialect=self.dialect)
        kind = definition.args.get("kind")
        column = _column(
            definition.name,
            kind.sql(dialect=self.dialect) if kind is not None else "",
            not_null=not_null,
            default=default,
        )
        return ops.AddColumnOp(table, column, schema=schema, **{RAW_SQL: text})
