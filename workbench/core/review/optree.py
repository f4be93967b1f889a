"""Walking and editing Alembic op trees by path, without mutating them.

Autogenerate nests column and constraint ops in one ``ModifyTableOps`` per table (rendered as a
``batch_alter_table`` block in batch mode); a path of indexes names an op at any depth.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from alembic.operations import ops

from workbench.core.findings import OpPath

Container = TypeVar("Container", bound=ops.OpContainer)


class BatchAlterTableOps(ops.ModifyTableOps):
    """The ops of one ``with op.batch_alter_table(...)`` block of a recorded script.

    A subclass, so Alembic renders it like the per-table group it is, while the rules know
    that the author asked for batch mode (``recreate`` as given to the block).
    """

    def __init__(
        self,
        table_name: str,
        batch_ops: Sequence[ops.MigrateOperation],
        *,
        schema: str | None = None,
        recreate: str = "auto",
    ) -> None:
        super().__init__(table_name, batch_ops, schema=schema)
        self.recreate = recreate


@dataclass(frozen=True)
class LocatedOp:
    """An op with its path and the per-table group it sits in (None at the top level)."""

    path: OpPath
    op: ops.MigrateOperation
    group: ops.ModifyTableOps | None


def walk(
    container: ops.OpContainer,
    prefix: OpPath = (),
    group: ops.ModifyTableOps | None = None,
) -> Iterator[LocatedOp]:
    """Every leaf op of a tree in execution order, with its path."""
    for index, op in enumerate(container.ops):
        path = (*prefix, index)
        if isinstance(op, ops.OpContainer):
            inner_group = op if isinstance(op, ops.ModifyTableOps) else group
            yield from walk(op, path, inner_group)
        else:
            yield LocatedOp(path, op, group)


def op_at(container: ops.OpContainer, path: OpPath) -> ops.MigrateOperation:
    """The op at a path; IndexError or TypeError when the path leads nowhere."""
    op: ops.MigrateOperation = container
    for index in path:
        if not isinstance(op, ops.OpContainer):
            raise TypeError(f"no op container at {path}")
        op = op.ops[index]
    return op


def edited(
    container: Container,
    replacements: Mapping[OpPath, Sequence[ops.MigrateOperation]],
    prefix: OpPath = (),
) -> Container:
    """A copy of a tree with the op at each path replaced by a sequence of ops.

    An empty sequence removes the op; a group emptied by removals is removed too. Containers
    are new objects, unchanged leaf ops are shared (ops are treated as values).
    """
    new_ops: list[ops.MigrateOperation] = []
    for index, op in enumerate(container.ops):
        path = (*prefix, index)
        if path in replacements:
            new_ops.extend(replacements[path])
        elif isinstance(op, ops.OpContainer):
            child = edited(op, replacements, path)
            if child.ops or not op.ops:
                new_ops.append(child)
        else:
            new_ops.append(op)
    result = copy.copy(container)
    result.ops = new_ops
    return result


def table_key(name: str, schema: str | None) -> str:
    """How a table is named in findings and ``ReviewContext.existing_tables``."""
    return f"{schema}.{name}" if schema else name


def op_table(op: ops.MigrateOperation) -> str | None:
    """The table an op changes (the constrained table of a foreign key), if any."""
    if isinstance(op, ops.CreateForeignKeyOp):
        return table_key(op.source_table, op.kw.get("source_schema"))
    if isinstance(op, ops.BulkInsertOp):
        return table_key(op.table.name, getattr(op.table, "schema", None))
    name = getattr(op, "table_name", None)
    if name is None:
        return None
    return table_key(name, getattr(op, "schema", None))


def retargeted(op: ops.MigrateOperation, old_table: str, new_table: str) -> ops.MigrateOperation:
    """A copy of an op (or table group) naming ``new_table`` wherever it named ``old_table``."""
    result = copy.copy(op)
    for attribute in ("table_name", "source_table", "referent_table"):
        if getattr(result, attribute, None) == old_table:
            setattr(result, attribute, new_table)
    if isinstance(result, ops.OpContainer):
        result.ops = [retargeted(inner, old_table, new_table) for inner in result.ops]
    return result
