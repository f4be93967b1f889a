"""`flask db review REVISION --locks`: locks, rewrites and times measured on scratch databases."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from review_projects import start_project, write_revision
from sqlalchemy.pool import NullPool

pytestmark = [pytest.mark.flask_in_process, pytest.mark.servers]

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
"""


def catalog(url: str) -> list[tuple]:
    """Every column and table file of a database: what a migration would change."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            columns = connection.exec_driver_sql(
                "SELECT table_name, column_name, data_type, column_default"
                " FROM information_schema.columns WHERE table_schema = current_schema()"
                " ORDER BY 1, 2"
            ).all()
            if connection.dialect.name == "postgresql":
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


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_locks_and_rewrites_are_measured_per_statement(make_project):
    project = make_project()
    start_project(project)
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=POSTGRESQL_CASES, downgrade="pass")
    before = catalog(project.url())

    result = project.db("review", "bbbb0002", "--locks", "--json", expect=None)
    print(result.stdout, result.stderr)

    report = json.loads(result.stdout)
    statements = report["locks"][0]["statements"]
    print(json.dumps(statements, indent=1))
    assert catalog(project.url()) == before
