"""Hand-written revision files are recorded offline and judged by the same rules.

Each test writes a real revision file to tmp_path, imports it with importlib and records its
``upgrade()`` / ``downgrade()`` without a database.
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from types import ModuleType

import alembic.op
import pytest
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from workbench.core.review import (
    BatchAlterTableOps,
    ForeignKeyAction,
    ReviewContext,
    Severity,
    apply_rewrite,
    locate_lines,
    record_operations,
    review_operations,
)

HEADER = '''\
"""{message}

Revision ID: {revision}
Revises:
Create Date: 2024-05-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = None
branch_labels = None
depends_on = None

'''

RENAME_BY_HAND = """
def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_name", sa.String(length=50), nullable=True))
        batch_op.drop_column("name")
        batch_op.alter_column("email", existing_type=sa.String(80), nullable=False)

    op.execute("UPDATE users SET full_name = 'unknown' WHERE full_name IS NULL")
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)
    tags = op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(20)),
    )
    op.bulk_insert(tags, [{"id": 1, "label": "first"}])


def downgrade():
    op.drop_table("tags")
    op.drop_index(op.f("ix_users_email"), table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(80), nullable=True)
        batch_op.add_column(sa.Column("name", sa.VARCHAR(length=50), nullable=True))
        batch_op.drop_column("full_name")
"""

EXISTING = frozenset({"users"})


def load_revision(folder: Path, body: str, revision: str = "1a2b3c4d5e6f") -> ModuleType:
    """Write a revision file and import it as Alembic would."""
    path = folder / f"{revision}_change.py"
    path.write_text(HEADER.format(message="change", revision=revision) + textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location(f"revision_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_revision_is_recorded_op_by_op_with_its_batch_block(tmp_path: Path) -> None:
    module = load_revision(tmp_path, RENAME_BY_HAND)

    recorded = record_operations(module.upgrade, "sqlite")

    assert [type(op) for op in recorded.ops] == [
        BatchAlterTableOps,
        ops.ExecuteSQLOp,
        ops.CreateIndexOp,
        ops.CreateTableOp,
        ops.BulkInsertOp,
    ]
    batch = recorded.ops[0]
    assert isinstance(batch, BatchAlterTableOps)
    assert batch.table_name == "users"
    assert [type(op) for op in batch.ops] == [
        ops.AddColumnOp,
        ops.DropColumnOp,
        ops.AlterColumnOp,
    ]
    assert all(op.table_name == "users" for op in batch.ops)
    assert "_proxy" not in vars(alembic.op)


def test_a_recorded_revision_is_reviewed_with_its_downgrade_for_the_dropped_types(
    tmp_path: Path,
) -> None:
    module = load_revision(tmp_path, RENAME_BY_HAND)
    upgrade = record_operations(module.upgrade, "sqlite")
    downgrade = record_operations(module.downgrade, "sqlite")
    context = ReviewContext(dialect="sqlite", existing_tables=EXISTING)

    findings = review_operations(upgrade, context, downgrade)

    assert [(finding.rule, finding.severity, finding.op_index) for finding in findings] == [
        ("probable-column-rename", Severity.BLOCK, (0, 1)),
        ("set-not-null", Severity.WARN, (0, 2)),
        ("unique-on-existing-table", Severity.WARN, (2,)),
    ]
    assert "VARCHAR(50)" in findings[0].message


def test_the_rename_fix_applies_to_a_recorded_revision(tmp_path: Path) -> None:
    module = load_revision(tmp_path, RENAME_BY_HAND)
    upgrade = record_operations(module.upgrade, "sqlite")
    downgrade = ops.DowngradeOps(ops=record_operations(module.downgrade, "sqlite").ops)
    context = ReviewContext(dialect="sqlite", existing_tables=EXISTING)
    rename = review_operations(upgrade, context, downgrade)[0]

    new_upgrade, new_downgrade = apply_rewrite(upgrade, downgrade, rename)

    # Alembic has no renderer for bulk_insert: render the batch block the fix changed.
    upgrade_code = render_python_code(
        ops.UpgradeOps(ops=[new_upgrade.ops[0]]), render_as_batch=True
    )
    downgrade_code = render_python_code(new_downgrade, render_as_batch=True)
    assert "batch_op.alter_column('name'" in upgrade_code
    assert "new_column_name='full_name'" in upgrade_code
    assert "existing_type=sa.VARCHAR(length=50)" in upgrade_code
    assert "batch_op.alter_column('full_name'" in downgrade_code
    assert "drop_column" not in upgrade_code
    assert isinstance(new_upgrade.ops[0], BatchAlterTableOps)


def test_findings_of_a_recorded_revision_point_at_their_lines(tmp_path: Path) -> None:
    module = load_revision(tmp_path, RENAME_BY_HAND)
    upgrade = record_operations(module.upgrade, "sqlite")
    context = ReviewContext(dialect="sqlite", existing_tables=EXISTING)
    findings = review_operations(upgrade, context, record_operations(module.downgrade, "sqlite"))
    script = Path(module.__file__ or "").read_text()
    lines = script.splitlines()

    located = locate_lines(findings, upgrade, script)

    assert {finding.rule: lines[line - 1].strip() for finding, line in located.items()} == {
        "probable-column-rename": 'batch_op.drop_column("name")',
        "set-not-null": (
            'batch_op.alter_column("email", existing_type=sa.String(80), nullable=False)'
        ),
        "unique-on-existing-table": (
            'op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)'
        ),
    }


def test_an_alter_outside_a_batch_block_is_blocked_on_sqlite_only(tmp_path: Path) -> None:
    module = load_revision(
        tmp_path,
        """
        def upgrade():
            op.alter_column("users", "email", existing_type=sa.String(80), nullable=False)
        """,
    )
    context = ReviewContext(dialect="sqlite", existing_tables=EXISTING)

    on_sqlite = review_operations(record_operations(module.upgrade, "sqlite"), context)
    on_postgresql = review_operations(
        record_operations(module.upgrade, "postgresql"),
        ReviewContext(dialect="postgresql", existing_tables=EXISTING),
    )

    assert [finding.rule for finding in on_sqlite] == [
        "set-not-null",
        "sqlite-alter-outside-batch",
    ]
    assert [finding.rule for finding in on_postgresql] == ["set-not-null"]


def test_a_batch_block_asking_for_recreation_is_known_to_recreate(tmp_path: Path) -> None:
    module = load_revision(
        tmp_path,
        """
        def upgrade():
            with op.batch_alter_table("users", recreate="always") as batch_op:
                batch_op.add_column(sa.Column("bio", sa.Text()))
        """,
    )
    recorded = record_operations(module.upgrade, "sqlite")
    cascade = ReviewContext(
        dialect="sqlite",
        existing_tables=frozenset({"users", "posts"}),
        foreign_key_actions=(ForeignKeyAction("users", "posts", ("user_id",), "SET NULL"),),
    )

    [finding] = review_operations(recorded, cascade)

    assert finding.rule == "sqlite-batch-cascade"
    assert "set to NULL" in finding.message


def test_a_revision_that_needs_a_live_connection_fails_to_record(tmp_path: Path) -> None:
    module = load_revision(
        tmp_path,
        """
        def upgrade():
            count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()
            op.add_column("users", sa.Column("n", sa.Integer(), server_default=str(count)))
        """,
    )

    with pytest.raises(AttributeError):
        record_operations(module.upgrade, "postgresql")
    assert "_proxy" not in vars(alembic.op)
