"""The mechanical fixes keep the data: rewritten op trees render with Alembic and run for real.

Each scenario autogenerates a drop + add (or drop + create) against a database holding rows,
applies the fix, renders it with Alembic's renderer, runs it through ``Operations`` on the
same database and reads the rows back under the new name, then runs the downgrade back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy.pool import NullPool

from workbench.core.review import (
    Finding,
    ReviewContext,
    Severity,
    StaleFindingError,
    apply_rewrite,
    review_operations,
)

USERS = [{"id": 1, "name": "Ada Lovelace"}, {"id": 2, "name": "Alan Turing"}]
POSTS = [{"id": 1, "title": "On engines", "body": "..."}, {"id": 2, "title": "On numbers"}]


def autogenerate(
    engine: sa.Engine, target: sa.MetaData, render_as_batch: bool = False
) -> tuple[ops.UpgradeOps, ops.DowngradeOps, ReviewContext]:
    """Autogenerate the change from the database to ``target``, and the review context."""
    with engine.connect() as connection:
        script = produce_migrations(MigrationContext.configure(connection), target)
        context = ReviewContext.from_connection(connection, render_as_batch=render_as_batch)
    assert script.upgrade_ops is not None and script.downgrade_ops is not None
    return script.upgrade_ops, script.downgrade_ops, context


def run_operations(engine: sa.Engine, container: ops.OpContainer, batch: bool) -> None:
    """Run an op tree as a migration would, table groups in batch mode when asked."""
    with engine.begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        for op in container.ops:
            if not isinstance(op, ops.ModifyTableOps):
                operations.invoke(op)
            elif batch:
                with operations.batch_alter_table(op.table_name, schema=op.schema) as batch_op:
                    for inner in op.ops:
                        batch_op.invoke(inner)
            else:
                for inner in op.ops:
                    operations.invoke(inner)


def assert_renders(container: ops.OpContainer, render_as_batch: bool) -> str:
    """Alembic renders the tree into code that compiles; the code is returned."""
    code = render_python_code(container, render_as_batch=render_as_batch)
    compile("def upgrade():\n" + code, "<rendered>", "exec")
    return code


def rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query, as tuples."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def the_finding(findings: list[Finding], rule: str) -> Finding:
    """The one finding of a rule."""
    matching = [finding for finding in findings if finding.rule == rule]
    assert len(matching) == 1, [finding.rule for finding in findings]
    return matching[0]


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database of the test's backend."""
    engine = sa.create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def users(metadata: sa.MetaData, name_column: str) -> sa.Table:
    """The users table with its name column called ``name_column``."""
    return sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(name_column, sa.String(50), nullable=False),
    )


@pytest.mark.parametrize("render_as_batch", [False, True], ids=["plain", "batch"])
def test_the_column_rename_fix_keeps_every_row(engine: sa.Engine, render_as_batch: bool) -> None:
    before, after = sa.MetaData(), sa.MetaData()
    with engine.begin() as connection:
        users(before, "name").create(connection)
        connection.execute(before.tables["users"].insert(), USERS)
    users(after, "full_name")
    upgrade, downgrade, context = autogenerate(engine, after, render_as_batch)
    finding = the_finding(review_operations(upgrade, context), "probable-column-rename")
    original_code = render_python_code(upgrade)

    new_upgrade, new_downgrade = apply_rewrite(upgrade, downgrade, finding)

    upgrade_code = assert_renders(new_upgrade, render_as_batch)
    downgrade_code = assert_renders(new_downgrade, render_as_batch)
    assert "new_column_name='full_name'" in upgrade_code
    assert "new_column_name='name'" in downgrade_code
    assert "drop_column" not in upgrade_code + downgrade_code
    assert render_python_code(upgrade) == original_code
    assert review_operations(new_upgrade, context) == []

    run_operations(engine, new_upgrade, batch=render_as_batch)
    assert rows(engine, "SELECT id, full_name FROM users ORDER BY id") == [
        (row["id"], row["name"]) for row in USERS
    ]
    assert autogenerate(engine, after)[0].is_empty()

    run_operations(engine, new_downgrade, batch=render_as_batch)
    assert rows(engine, "SELECT id, name FROM users ORDER BY id") == [
        (row["id"], row["name"]) for row in USERS
    ]


def posts(metadata: sa.MetaData, name: str) -> sa.Table:
    """A posts table called ``name`` with an index on its title."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(100), index=True),
        sa.Column("body", sa.Text),
    )


def test_the_table_rename_fix_keeps_every_row(engine: sa.Engine) -> None:
    before, after = sa.MetaData(), sa.MetaData()
    with engine.begin() as connection:
        posts(before, "old_posts").create(connection)
        connection.execute(
            before.tables["old_posts"].insert(), [{"body": None, **post} for post in POSTS]
        )
    posts(after, "posts")
    upgrade, downgrade, context = autogenerate(engine, after)
    finding = the_finding(review_operations(upgrade, context), "probable-table-rename")

    new_upgrade, new_downgrade = apply_rewrite(upgrade, downgrade, finding)

    upgrade_code = assert_renders(new_upgrade, render_as_batch=False)
    assert "op.rename_table('old_posts', 'posts')" in upgrade_code
    assert "drop_table" not in upgrade_code and "create_table" not in upgrade_code
    assert "op.rename_table('posts', 'old_posts')" in assert_renders(new_downgrade, False)
    run_operations(engine, new_upgrade, batch=False)
    assert rows(engine, "SELECT id, title FROM posts ORDER BY id") == [
        (post["id"], post["title"]) for post in POSTS
    ]
    assert autogenerate(engine, after)[0].is_empty()

    run_operations(engine, new_downgrade, batch=False)
    assert rows(engine, "SELECT id, title FROM old_posts ORDER BY id") == [
        (post["id"], post["title"]) for post in POSTS
    ]


def test_a_rename_with_a_wider_type_carries_the_type_change() -> None:
    old_column = sa.Column("name", sa.String(50), nullable=True)
    drop = ops.DropColumnOp.from_column_and_tablename(None, "users", old_column)
    add = ops.AddColumnOp("users", sa.Column("full_name", sa.String(80), nullable=False))
    upgrade = ops.UpgradeOps(ops=[ops.ModifyTableOps("users", [add, drop])])
    context = ReviewContext(dialect="postgresql", existing_tables=frozenset({"users"}))
    finding = the_finding(review_operations(upgrade, context), "probable-column-rename")

    new_upgrade, new_downgrade = apply_rewrite(upgrade, ops.DowngradeOps(ops=[]), finding)

    [group] = new_upgrade.ops
    assert isinstance(group, ops.ModifyTableOps)
    [alter] = group.ops
    assert isinstance(alter, ops.AlterColumnOp)
    assert (alter.column_name, alter.modify_name) == ("name", "full_name")
    assert alter.existing_type.length == 50 and alter.modify_type.length == 80
    assert (alter.existing_nullable, alter.modify_nullable) == (True, False)
    assert new_downgrade.ops == []


def test_the_index_noise_fix_removes_both_ops_up_and_down() -> None:
    table = sa.Table("users", sa.MetaData(), sa.Column("name", sa.String(50)))
    index = sa.Index("ix_users_name", table.c.name)
    keep = ops.AddColumnOp("users", sa.Column("bio", sa.Text()))
    upgrade = ops.UpgradeOps(
        ops=[
            ops.ModifyTableOps(
                "users",
                [keep, ops.DropIndexOp.from_index(index), ops.CreateIndexOp.from_index(index)],
            )
        ]
    )
    downgrade = upgrade.reverse()
    context = ReviewContext(dialect="sqlite", render_as_batch=True)
    finding = the_finding(review_operations(upgrade, context), "index-noise")

    new_upgrade, new_downgrade = apply_rewrite(upgrade, downgrade, finding)

    assert [type(op) for op in new_upgrade.ops[0].ops] == [ops.AddColumnOp]
    assert [type(op) for op in new_downgrade.ops[0].ops] == [ops.DropColumnOp]
    assert len(upgrade.ops[0].ops) == 3 and len(downgrade.ops[0].ops) == 3


def test_a_finding_that_no_longer_matches_the_tree_is_refused() -> None:
    drop = ops.DropColumnOp("users", "name")
    add = ops.AddColumnOp("users", sa.Column("full_name", sa.String(50)))
    upgrade = ops.UpgradeOps(ops=[drop, add])
    context = ReviewContext(dialect="postgresql")
    finding = the_finding(review_operations(upgrade, context), "probable-column-rename")
    swapped = ops.UpgradeOps(ops=[add, drop])
    drop_warning = Finding("drop-column", Severity.WARN, "m", "f", "users", "name", (0,))

    with pytest.raises(StaleFindingError):
        apply_rewrite(swapped, ops.DowngradeOps(ops=[]), finding)
    with pytest.raises(ValueError, match="no mechanical fix"):
        apply_rewrite(upgrade, ops.DowngradeOps(ops=[]), drop_warning)
