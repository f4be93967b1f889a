"""`flask db review REVISION --locks`: locks, rewrites and times measured on scratch databases."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from review_projects import start_project, write_revision
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.flask_in_process

POSTGRESQL_CASES = """
op.add_column("user", sa.Column("active", sa.Boolean(), server_default=sa.false()))
op.add_column("user", sa.Column("score", sa.Float(), server_default=sa.text("random()")))
op.create_index("ix_user_name", "user", ["name"])
with op.get_context().autocommit_block():
    op.create_index("ix_user_active", "user", ["active"], postgresql_concurrently=True)
op.alter_column(
    "user", "name", type_=sa.Integer(), existing_type=sa.String(64),
    postgresql_using="length(name)",
)
op.execute("CREATE INDEX ix_user_score ON \\"user\\" (score)")
op.add_column("user", sa.Column("note", sa.String(20)))
op.execute(sa.text('ALTER TABLE "user" ALTER COLUMN note TYPE varchar(80)'))
"""


def catalog(url: str) -> list[tuple]:
    """Every column and table file of a database: what a migration would change."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            postgresql = connection.dialect.name == "postgresql"
            schema = "current_schema()" if postgresql else "DATABASE()"
            columns = connection.exec_driver_sql(
                "SELECT table_name, column_name, data_type, column_default"
                f" FROM information_schema.columns WHERE table_schema = {schema}"
                " ORDER BY 1, 2"
            ).all()
            if postgresql:
                files = connection.exec_driver_sql(
                    "SELECT relname, relfilenode FROM pg_class c JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = current_schema() ORDER BY 1"
                ).all()
            else:
                files = connection.exec_driver_sql(
                    "SELECT TABLE_NAME, CREATE_TIME FROM information_schema.TABLES"
                    " WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1"
                ).all()
            return [tuple(row) for row in [*columns, *files]]
    finally:
        engine.dispose()


@pytest.mark.servers
@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_locks_and_rewrites_are_measured_per_statement(make_project):
    project = make_project()
    start_project(project)
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=POSTGRESQL_CASES, downgrade="pass")
    engine = sa.create_engine(project.url(), poolclass=NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO \"user\" (name) SELECT 'n' || n FROM generate_series(1, 300) n"
        )
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    before = catalog(project.url())

    result = project.db("review", "bbbb0002", "--locks", "--json", "--rows-from", project.url())

    document = json.loads(result.stdout)
    assert document["locks"][0]["rows"] == {"user": 300}
    assert "Filled scratch table user with 300 rows" in result.stderr
    measured = [
        (
            statement["op_index"],
            [(lock["table"], lock["mode"]) for lock in statement["locks"]],
            statement["rewritten"],
        )
        for statement in document["locks"][0]["statements"]
    ]
    exclusive, share = [("user", "ACCESS EXCLUSIVE")], [("user", "SHARE")]
    assert measured == [
        ([0], exclusive, []),  # a constant default: no rewrite (PostgreSQL 11+)
        ([1], exclusive, ["user"]),  # a volatile default rewrites the table
        ([2], share, []),  # an index without CONCURRENTLY blocks writes
        ([3], [("user", "SHARE UPDATE EXCLUSIVE")], []),  # CONCURRENTLY does not
        ([4], exclusive, ["user"]),  # a type change with USING rewrites
        ([5], share, []),  # raw SQL measured as the op call is
        ([6], exclusive, []),
        ([7], exclusive, []),  # a wider VARCHAR: no rewrite
    ]
    assert all(statement["seconds"] >= 0 for statement in document["locks"][0]["statements"])
    measured_rules = [
        (finding["rule"], finding["line"], finding["message"].split(" Measured on ")[-1])
        for finding in document["findings"]
        if finding["rule"] != "raw-sql"
    ]
    shown = "a scratch copy with user: 300 rows: "
    assert [(rule, text.split("; ")[:2]) for rule, _, text in measured_rules] == [
        ("volatile-default", [f"{shown}locks user (ACCESS EXCLUSIVE)", "rewrites user"]),
        ("index-not-concurrent", [f"{shown}locks user (SHARE)", "no rewrite"]),
        ("cross-type-change", [f"{shown}locks user (ACCESS EXCLUSIVE)", "rewrites user"]),
        ("index-not-concurrent", [f"{shown}locks user (SHARE)", "no rewrite"]),  # the raw SQL
        ("cross-type-change", [f"{shown}locks user (ACCESS EXCLUSIVE)", "no rewrite"]),
    ]
    guessed_rewrite = document["findings"][-1]
    assert "changes to varchar(80) in raw SQL" in guessed_rewrite["message"]
    assert guessed_rewrite["severity"] == "info"  # the measurement saw no rewrite: it wins
    assert catalog(project.url()) == before


INDEXED_NAME = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), index=True)
    score = db.Column(db.Integer, server_default="0", nullable=False)
"""


@pytest.mark.servers
@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_pending_change_is_measured_before_it_is_written(make_project):
    project = make_project()
    start_project(project)
    project.write_models(INDEXED_NAME)
    before = (catalog(project.url()), project.snapshot())

    result = project.db("review", "--locks", "--json")

    document = json.loads(result.stdout)
    measured = {
        finding["rule"]: finding["message"].split(" Measured on a scratch copy: ")[-1]
        for finding in document["findings"]
    }
    assert measured["index-not-concurrent"].startswith("locks user (SHARE); no rewrite;")
    statements = document["locks"][0]["statements"]
    assert [statement["rewritten"] for statement in statements] == [[], []]
    assert "ADD COLUMN score INTEGER DEFAULT '0' NOT NULL" in statements[0]["sql"]
    assert (catalog(project.url()), project.snapshot()) == before


MARIADB_CASES = """
op.add_column("user", sa.Column("active", sa.Boolean(), server_default=sa.false()))
op.alter_column(
    "user", "name", type_=sa.Integer(), existing_type=sa.String(64), existing_nullable=True
)
"""


@pytest.mark.servers
@pytest.mark.parametrize("backend", ["mysql"])
def test_mariadb_alters_report_the_first_algorithm_the_server_accepts(make_project):
    project = make_project()
    start_project(project)
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=MARIADB_CASES, downgrade="pass")
    before = catalog(project.url())

    result = project.db("review", "bbbb0002", "--locks", expect=1)

    lines = result.stdout.splitlines()
    heading = lines.index(
        "Measured bbbb0002, on a scratch mariadb database at its parent (empty tables):"
        " 2 statement(s)."
    )
    assert lines[heading + 1 :: 2] == [
        "  ALTER TABLE user ADD COLUMN active BOOL DEFAULT false",
        "  ALTER TABLE user MODIFY name INTEGER NULL",
    ]
    assert lines[heading + 2].startswith("      ALGORITHM=INSTANT, LOCK=NONE on user; no rewrite;")
    assert lines[heading + 4].startswith(
        "      ALGORITHM=COPY, LOCK=SHARED on user; rewrites user;"
    )
    assert catalog(project.url()) == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_says_batch_mode_copies_the_table(make_project):
    project = make_project()
    start_project(project)
    upgrade = """
    with op.batch_alter_table("user") as batch_op:
        batch_op.alter_column("name", type_=sa.Text(), existing_type=sa.String(64))
    """
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=upgrade, downgrade="pass")

    result = project.db("review", "bbbb0002", "--locks")

    assert (
        "  INSERT INTO _alembic_tmp_user (id, name) SELECT user.id, user.name FROM user\n"
        "      rewrites user; batch mode copies the table into a new one (SQLite locks the whole "
        "database);"
    ) in result.stdout
    added = project.db("review", "--locks", "--added", expect=2)
    assert "--locks measures one revision: give REVISION, or none" in added.stderr
