"""Mechanical fixes: a probable rename becomes a rename, an unchanged index pair goes away.

Each fix returns new op trees and leaves the given ones as they were, so the preview can
offer it, show the result and still undo it. Paths in a finding refer to the tree it was
found in: apply one fix, then review the new tree before applying another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops

from workbench.core.findings import Finding, OpPath
from workbench.core.review import column_types
from workbench.core.review.optree import edited, op_at, retargeted, table_key, walk

Rewrite = Callable[
    [ops.UpgradeOps, ops.DowngradeOps, Finding], tuple[ops.UpgradeOps, ops.DowngradeOps]
]


class StaleFindingError(ValueError):
    """The finding does not point at the ops it was made for (the tree changed since)."""


def apply_rewrite(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps, finding: Finding
) -> tuple[ops.UpgradeOps, ops.DowngradeOps]:
    """New upgrade and downgrade trees with the finding's mechanical fix applied.

    The downgrade is fixed too when it holds the mirror image of the pattern (autogenerate's
    does); otherwise it is returned unchanged. A recorded downgrade can be passed as
    ``DowngradeOps(ops=recorded.ops)``.
    """
    rewrite = _REWRITES.get(finding.rule)
    if rewrite is None or not finding.rewrite_available:
        raise ValueError(f"{finding.rule} has no mechanical fix")
    return rewrite(upgrade_ops, downgrade_ops, finding)


def _rename_column(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps, finding: Finding
) -> tuple[ops.UpgradeOps, ops.DowngradeOps]:
    drop = _expect(upgrade_ops, finding.op_index, ops.DropColumnOp, finding)
    add = _expect(upgrade_ops, finding.related_op_indexes[0], ops.AddColumnOp, finding)
    if drop.column_name != finding.column or add.column.name != finding.new_name:
        raise StaleFindingError(f"the ops at {finding.op_index} are not {finding.target}")
    table = table_key(drop.table_name, drop.schema)
    old_column = _column_before(drop, downgrade_ops)
    upgrade_alter = _rename_op(drop, old_column, add.column)
    new_upgrade = _replace_pair(
        upgrade_ops, finding.op_index, finding.related_op_indexes[0], upgrade_alter
    )

    mirror_add = mirror_drop = None
    for item in walk(downgrade_ops):
        op = item.op
        if table_key(getattr(op, "table_name", ""), getattr(op, "schema", None)) != table:
            continue
        if isinstance(op, ops.AddColumnOp) and op.column.name == drop.column_name:
            mirror_add = item.path, op
        elif isinstance(op, ops.DropColumnOp) and op.column_name == add.column.name:
            mirror_drop = item.path, op
    if mirror_add is None or mirror_drop is None:
        return new_upgrade, downgrade_ops
    downgrade_alter = _rename_op(mirror_drop[1], add.column, mirror_add[1].column)
    new_downgrade = _replace_pair(downgrade_ops, mirror_drop[0], mirror_add[0], downgrade_alter)
    return new_upgrade, new_downgrade


def _rename_table(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps, finding: Finding
) -> tuple[ops.UpgradeOps, ops.DowngradeOps]:
    drop = _expect(upgrade_ops, finding.op_index, ops.DropTableOp, finding)
    create = _expect(upgrade_ops, finding.related_op_indexes[0], ops.CreateTableOp, finding)
    if len(finding.op_index) != 1 or len(finding.related_op_indexes[0]) != 1:
        raise StaleFindingError("table drops and creates sit at the top of the tree")
    new_upgrade = _table_renamed(
        upgrade_ops, finding.op_index, finding.related_op_indexes[0], drop, create
    )
    mirror_drop = mirror_create = None
    for index, op in enumerate(downgrade_ops.ops):
        if isinstance(op, ops.DropTableOp) and _same_table(op, create):
            mirror_drop = (index,), op
        elif isinstance(op, ops.CreateTableOp) and _same_table(op, drop):
            mirror_create = (index,), op
    if mirror_drop is None or mirror_create is None:
        return new_upgrade, downgrade_ops
    new_downgrade = _table_renamed(
        downgrade_ops, mirror_drop[0], mirror_create[0], mirror_drop[1], mirror_create[1]
    )
    return new_upgrade, new_downgrade


def _remove_index_noise(
    upgrade_ops: ops.UpgradeOps, downgrade_ops: ops.DowngradeOps, finding: Finding
) -> tuple[ops.UpgradeOps, ops.DowngradeOps]:
    drop = _expect(upgrade_ops, finding.op_index, ops.DropIndexOp, finding)
    create_path = finding.related_op_indexes[0]
    create = _expect(upgrade_ops, create_path, ops.CreateIndexOp, finding)
    if str(drop.index_name) != str(create.index_name):
        raise StaleFindingError(f"the ops at {finding.op_index} are not one index")
    new_upgrade = edited(upgrade_ops, {finding.op_index: [], create_path: []})
    mirror: dict[type, OpPath] = {}
    for item in walk(downgrade_ops):
        if isinstance(item.op, (ops.DropIndexOp, ops.CreateIndexOp)) and str(
            item.op.index_name
        ) == str(drop.index_name):
            mirror.setdefault(type(item.op), item.path)
    if len(mirror) != 2:
        return new_upgrade, downgrade_ops
    return new_upgrade, edited(downgrade_ops, {path: [] for path in mirror.values()})


def _render_rename_table(autogen_context: AutogenContext, op: ops.RenameTableOp) -> str:
    """``op.rename_table(...)``: autogenerate never makes one, so Alembic has no renderer."""
    prefix = autogen_context.opts.get("alembic_module_prefix", "op.")
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"{prefix}rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


with contextlib.suppress(ValueError):  # a newer Alembic renders it itself
    renderers.dispatch_for(ops.RenameTableOp)(_render_rename_table)


_REWRITES: dict[str, Rewrite] = {
    "probable-column-rename": _rename_column,
    "probable-table-rename": _rename_table,
    "index-noise": _remove_index_noise,
}


def _expect(container: ops.OpContainer, path: OpPath, kind: type, finding: Finding) -> Any:
    try:
        op = op_at(container, path)
    except (IndexError, TypeError) as error:
        raise StaleFindingError(f"no op at {path} for {finding.rule}") from error
    if not isinstance(op, kind):
        raise StaleFindingError(f"the op at {path} is not a {kind.__name__}")
    return op


def _column_before(
    drop: ops.DropColumnOp, downgrade_ops: ops.DowngradeOps
) -> sa.Column[Any] | None:
    """The dropped column as it was, from the drop op itself or from the downgrade's add."""
    column = drop.to_column()
    if column_types.resolved(column.type) is not None:
        return column
    table = table_key(drop.table_name, drop.schema)
    for item in walk(downgrade_ops):
        op = item.op
        if (
            isinstance(op, ops.AddColumnOp)
            and table_key(op.table_name, op.schema) == table
            and op.column.name == drop.column_name
        ):
            return op.column
    return None


def _rename_op(
    drop: ops.DropColumnOp, before: sa.Column[Any] | None, after: sa.Column[Any]
) -> ops.AlterColumnOp:
    """``alter_column`` renaming the dropped column to the added one.

    It states the column as it was (MySQL restates the whole definition on a rename) and
    carries a type or nullability change; a changed server default is left to autogenerate.
    """
    old_type = column_types.resolved(before.type) if before is not None else None
    existing = before if before is not None else after
    changes: dict[str, Any] = {}
    if old_type is not None and not column_types.same_type(old_type, after.type):
        changes["modify_type"] = after.type
    if existing.nullable != after.nullable:
        changes["modify_nullable"] = after.nullable
    default = existing.server_default
    return ops.AlterColumnOp(
        drop.table_name,
        drop.column_name,
        schema=drop.schema,
        modify_name=after.name,
        existing_type=old_type if old_type is not None else after.type,
        existing_nullable=existing.nullable,
        existing_server_default=default.arg if isinstance(default, sa.DefaultClause) else False,
        existing_comment=existing.comment,
        **changes,
    )


def _replace_pair(
    container: ops.OpContainer,
    first: OpPath,
    second: OpPath,
    replacement: ops.MigrateOperation,
) -> Any:
    """The tree with the earlier of two ops replaced and the later one removed."""
    earlier, later = sorted((first, second))
    return edited(container, {earlier: [replacement], later: []})


def _table_renamed(
    container: ops.OpContainer,
    drop_path: OpPath,
    create_path: OpPath,
    drop: ops.DropTableOp,
    create: ops.CreateTableOp,
) -> Any:
    """The tree with a drop + create pair turned into ``rename_table``.

    The rename takes the earlier op's place; ops after it that still name the dropped table
    (dropping its old indexes) are pointed at the new name.
    """
    earlier, later = sorted((drop_path, create_path))
    rename = ops.RenameTableOp(drop.table_name, create.table_name, schema=drop.schema)
    replacements: dict[OpPath, list[ops.MigrateOperation]] = {earlier: [rename], later: []}
    for index in range(earlier[0] + 1, len(container.ops)):
        op = container.ops[index]
        if (index,) != later and _names_table(op, drop.table_name):
            replacements[(index,)] = [retargeted(op, drop.table_name, create.table_name)]
    return edited(container, replacements)


def _names_table(op: ops.MigrateOperation, table_name: str) -> bool:
    if any(
        getattr(op, attribute, None) == table_name
        for attribute in ("table_name", "source_table", "referent_table")
    ):
        return True
    return isinstance(op, ops.OpContainer) and any(
        _names_table(inner, table_name) for inner in op.ops
    )


def _same_table(
    op: ops.DropTableOp | ops.CreateTableOp, other: ops.DropTableOp | ops.CreateTableOp
) -> bool:
    return table_key(op.table_name, op.schema) == table_key(other.table_name, other.schema)
