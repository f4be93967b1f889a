"""The SQL of batch revisions on SQLite: run on a scratch database, never the user's.

Offline (``--sql``) mode cannot render a batch on SQLite; the ``sql`` operation, the review's
SQL and the upgrade confirmation's SQL show what the upgrade runs, captured on a scratch copy
standing at the revision's parent. Server databases keep the offline rendering.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from runner_projects import (
    SQLITE_ONLY,
    child_environment,
    describe_events,
    init_migrations,
    of_kind,
    run,
    write_revision,
)

from workbench.services.scratch_sql import inline_parameters

SERVERS = pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", marks=pytest.mark.servers),
        pytest.param("mysql", marks=pytest.mark.servers),
    ],
)

PRODUCTS = """\
op.create_table(
    "products",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("price", sa.Numeric(10, 2), nullable=False),
)
op.execute("INSERT INTO products (id, name, price) VALUES (1, 'tea', 2.5)")
"""
RENAME = """\
with op.batch_alter_table("products") as batch_op:
    batch_op.alter_column(
        "price",
        new_column_name="list_price",
        existing_type=sa.Numeric(10, 2),
        existing_nullable=False,
    )
"""
RENAME_BACK = """\
with op.batch_alter_table("products") as batch_op:
    batch_op.alter_column(
        "list_price",
        new_column_name="price",
        existing_type=sa.Numeric(10, 2),
        existing_nullable=False,
    )
"""
NOTE = """\
op.add_column("products", sa.Column("note", sa.Text(), nullable=True))
"""


def batch_project(make_project):
    """A project made by the template: a table, a batch rename of a column, then a column."""
    project = make_project()
    init_migrations(project)
    write_revision(project, "aaaa0001", upgrade=PRODUCTS, downgrade='op.drop_table("products")')
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=RENAME, downgrade=RENAME_BACK)
    write_revision(
        project,
        "cccc0003",
        "bbbb0002",
        upgrade=NOTE,
        downgrade='op.drop_column("products", "note")',
    )
    return project


def sql_of(project, revision: str) -> str:
    """The text of the ``sql`` operation's SQL for a range; the operation must finish."""
    events = run(project, "sql", revision=revision)
    assert events[-1].event == "finished", describe_events(events)
    (sql,) = [event.text for event in of_kind(events, "output") if event.stream == "sql"]
    return sql


def fingerprint(project) -> str:
    """The bytes of the project's SQLite database (it must not change)."""
    path = Path(project.database_url.removeprefix("sqlite:///"))
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


@SQLITE_ONLY
def test_the_sql_of_a_batch_revision_is_what_the_upgrade_runs_on_a_scratch_copy(make_project):
    project = batch_project(make_project)
    project.db("upgrade", "aaaa0001", in_process=True)
    before = fingerprint(project)

    sql = sql_of(project, "aaaa0001:bbbb0002")

    assert "live database connection" not in sql
    assert "CREATE TABLE _alembic_tmp_products" in sql
    assert "list_price NUMERIC(10, 2) NOT NULL" in sql
    assert "SELECT products.id, products.name, products.price" in sql
    assert "DROP TABLE products;" in sql
    assert "ALTER TABLE _alembic_tmp_products RENAME TO products;" in sql
    assert (
        "UPDATE alembic_version SET version_num='bbbb0002' "
        "WHERE alembic_version.version_num = 'aaaa0001';" in sql
    )
    assert "PRAGMA" not in sql
    assert "CREATE TABLE products" not in sql, "the parent's own SQL is not shown"
    assert fingerprint(project) == before
    assert project.state().versions == frozenset({"aaaa0001"})


@SQLITE_ONLY
def test_every_revision_of_a_batch_history_renders_in_either_order(make_project):
    project = batch_project(make_project)

    later = sql_of(project, "bbbb0002:cccc0003")
    batch = sql_of(project, "aaaa0001:bbbb0002")
    whole = sql_of(project, "base:cccc0003")

    assert "ALTER TABLE products ADD COLUMN note TEXT" in later
    assert "CREATE TABLE _alembic_tmp_products" in batch
    for part in ("CREATE TABLE products", "_alembic_tmp_products", "ADD COLUMN note"):
        assert part in whole
    assert "INSERT INTO products (id, name, price) VALUES (1, 'tea', 2.5)" in whole
    assert project.state().tables == frozenset()


@SQLITE_ONLY
def test_review_sql_of_a_batch_revision_shows_both_directions(make_project):
    project = batch_project(make_project)

    shown = project.db("review", "bbbb0002", "--sql", in_process=True).stdout

    assert "cannot render" not in shown
    upgrade, downgrade = shown.split("-- downgrade of database default")
    assert "CREATE TABLE _alembic_tmp_products" in upgrade
    assert "list_price NUMERIC(10, 2) NOT NULL" in upgrade
    assert "products.list_price" in downgrade
    assert "price NUMERIC(10, 2) NOT NULL" in downgrade
    assert project.state().tables == frozenset()


@SERVERS
def test_server_databases_keep_the_offline_rendering(make_project):
    project = batch_project(make_project)

    sql = sql_of(project, "aaaa0001:bbbb0002")

    assert "_alembic_tmp" not in sql
    assert "ALTER TABLE products" in sql and "list_price" in sql
    assert "UPDATE alembic_version SET version_num='bbbb0002'" in sql
    assert project.state().tables == frozenset()


def test_parameters_are_inlined_as_literals_outside_quoted_text():
    statement = "INSERT INTO t (a, b, c, d) VALUES (?, ?, '?', ?)"
    assert inline_parameters(statement, ("it's", None, b"\x01")) == (
        "INSERT INTO t (a, b, c, d) VALUES ('it''s', NULL, '?', X'01')"
    )
    assert inline_parameters("SELECT 1", ()) == "SELECT 1"


def test_the_demo_rename_of_products_price_renders_on_a_scratch_copy(tmp_path):
    from workbench.demo.build import create_demo
    from workbench.runtime.client import Launch, start
    from workbench.runtime.requests import SqlRequest

    folder = create_demo(tmp_path / "demo")
    shop = folder / "shop.db"
    before = hashlib.sha256(shop.read_bytes()).hexdigest()

    running = start(
        SqlRequest(revision="dc7fe01173b3:47650590baee"),
        Launch(folder, "app", child_environment()),
    )
    events = list(running.events())

    assert events[-1].event == "finished", describe_events(events)
    (sql,) = [event.text for event in of_kind(events, "output") if event.stream == "sql"]
    default = sql.split("-- Database: default")[1]
    assert "CREATE TABLE _alembic_tmp_products" in default
    assert "list_price NUMERIC(10, 2) NOT NULL" in default
    assert "products.price" in default
    assert "UPDATE alembic_version SET version_num='47650590baee'" in default
    assert hashlib.sha256(shop.read_bytes()).hexdigest() == before


@SQLITE_ONLY
def test_upgrade_and_downgrade_with_sql_print_what_a_batch_revision_runs(make_project):
    project = batch_project(make_project)
    project.db("upgrade", "cccc0003", in_process=True)
    before = fingerprint(project)

    down = project.db("downgrade", "--sql", "cccc0003:aaaa0001", in_process=True).stdout
    up = project.db("upgrade", "--sql", "aaaa0001:bbbb0002", in_process=True).stdout

    assert "ALTER TABLE products DROP COLUMN note" in down
    assert "CREATE TABLE _alembic_tmp_products" in down
    assert "price NUMERIC(10, 2) NOT NULL" in down
    assert "SELECT products.id, products.name, products.list_price" in down
    assert (
        "UPDATE alembic_version SET version_num='aaaa0001' "
        "WHERE alembic_version.version_num = 'bbbb0002';" in down
    )
    assert "CREATE TABLE _alembic_tmp_products" in up
    assert "list_price NUMERIC(10, 2) NOT NULL" in up
    assert fingerprint(project) == before
