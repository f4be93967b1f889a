"""Recording the ops of a hand-written revision without a database, so the rules can judge it.

The revision's ``upgrade()`` (or ``downgrade()``) runs with Alembic's ``op`` bound to an
``Operations`` that keeps every op instead of running it: offline, on the dialect given.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import alembic.op
from alembic.migration import MigrationContext
from alembic.operations import BatchOperations, Operations, ops
from alembic.operations.batch import BatchOperationsImpl

from workbench.core.review.optree import BatchAlterTableOps


def record_operations(run: Callable[[], None], dialect: str) -> ops.UpgradeOps:
    """The ops ``run`` issues through ``alembic.op``, in order, without executing any.

    ``batch_alter_table`` blocks become ``BatchAlterTableOps`` groups and ``op.execute``
    becomes an ``ExecuteSQLOp``. A script that needs a live connection (``op.get_bind()``
    queries) raises here, as it would in ``alembic upgrade --sql``.
    """
    context = MigrationContext.configure(
        dialect_name=dialect, opts={"as_sql": True, "output_buffer": io.StringIO()}
    )
    operations = _RecordingOperations(context)
    with _op_bound_to(operations):
        run()
    return ops.UpgradeOps(ops=operations.recorded)


class _RecordingOperations(Operations):
    """Operations that keep each op instead of invoking it."""

    def __init__(self, migration_context: MigrationContext) -> None:
        super().__init__(migration_context)
        self.recorded: list[ops.MigrateOperation] = []

    def invoke(self, operation: ops.MigrateOperation) -> Any:
        """Keep the op; a created table is returned as Alembic would, for ``bulk_insert``."""
        self.recorded.append(operation)
        if isinstance(operation, ops.CreateTableOp):
            return operation.to_table(self.migration_context)
        return None

    @contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: Literal["auto", "always", "never"] = "auto",
        **options: Any,
    ) -> Iterator[BatchOperations]:
        """Record the block's ops as one group; nothing is reflected or copied."""
        group = BatchAlterTableOps(table_name, [], schema=schema, recreate=recreate)
        self.recorded.append(group)
        impl = BatchOperationsImpl(
            self,
            table_name,
            schema,
            recreate,
            options.get("copy_from"),
            options.get("table_args", ()),
            options.get("table_kwargs", {}),
            options.get("reflect_args", ()),
            options.get("reflect_kwargs", {}),
            options.get("naming_convention"),
            options.get("partial_reordering"),
        )
        yield _RecordingBatchOperations(self.migration_context, impl, group)


class _RecordingBatchOperations(BatchOperations):
    """The ``batch_op`` of a recorded block: its ops go into the block's group."""

    def __init__(
        self,
        migration_context: MigrationContext,
        impl: BatchOperationsImpl,
        group: BatchAlterTableOps,
    ) -> None:
        super().__init__(migration_context, impl=impl)
        self.group = group

    def invoke(self, operation: ops.MigrateOperation) -> Any:
        """Keep the op in the block's group."""
        self.group.ops.append(operation)
        return None


@contextmanager
def _op_bound_to(operations: Operations) -> Iterator[None]:
    """Point ``alembic.op`` at ``operations`` for the block, as ``Operations.context`` does.

    ``Operations.context`` always builds a plain ``Operations``, so the proxy it sets
    (``alembic.op._proxy``) is set here directly and restored after.
    """
    module = vars(alembic.op)
    missing = object()
    previous = module.get("_proxy", missing)
    module["_proxy"] = operations
    try:
        yield
    finally:
        if previous is missing:
            del module["_proxy"]
        else:
            module["_proxy"] = previous
