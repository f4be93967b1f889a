"""Time the lock report of a 10-statement revision against verify's up-step for it.

Run: ``python tests/benchmarks/bench_locks.py [--url URL] [--runs 5]`` (the URL of a PostgreSQL
or MariaDB server; default ``WORKBENCH_TEST_POSTGRES_URL``). Target: the lock report (``flask
db review REVISION --locks``) costs at most 1.5 x what verify spends on that revision (issue 19).
A Flask project on a fresh database of the server has two revisions: a table, then 10
statements on it. Both sides run in this process on empty scratch databases made as verify
makes them: the whole job (create, upgrade to the parent, the revision, drop), and the
revision's step alone (measured, against the plain up-step).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

TARGET_RATIO = 1.5
PARENT = """
revision = "aaaa0001"
down_revision = None
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64)),
        sa.Column("price", sa.Integer()),
    )
"""
TEN_STATEMENTS = """
revision = "bbbb0002"
down_revision = "aaaa0001"
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("item", sa.Column("active", sa.Boolean(), server_default=sa.false()))
    op.add_column("item", sa.Column("note", sa.Text()))
    op.add_column("item", sa.Column("rank", sa.Integer(), server_default="0"))
    op.create_index("ix_item_name", "item", ["name"])
    op.create_index("ix_item_price", "item", ["price"])
    op.alter_column("item", "price", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.alter_column("item", "name", type_=sa.String(128), existing_type=sa.String(64))
    op.execute("UPDATE item SET rank = 1 WHERE rank IS NULL")
    op.create_index("ix_item_rank", "item", ["rank"])
    op.drop_column("item", "note")


def downgrade():
    pass
"""


def make_project(folder: Path, url: sa.URL) -> Any:
    """A Flask app with Migrate on ``url``, its migrations folder holding the two revisions."""
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from workbench import Migrate

    app = Flask("bench_locks")
    app.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    database = SQLAlchemy(app)
    Migrate(app, database, directory=str(folder / "migrations"))
    with app.app_context():
        from workbench.project.flask import FlaskProject
        from workbench.services.commands import init

        with contextlib.redirect_stdout(io.StringIO()):  # init's "Please edit ..." line
            init(FlaskProject.current())
    versions = folder / "migrations" / "versions"
    (versions / "aaaa0001_parent.py").write_text(textwrap.dedent(PARENT))
    (versions / "bbbb0002_ten.py").write_text(textwrap.dedent(TEN_STATEMENTS))
    return app


def verify_like(project: Any, revision: str, timed_steps: list[float]) -> None:
    """What verify does for one revision: scratch databases, the parent, the up-step, drop."""
    from alembic.script import ScriptDirectory

    from workbench.core.verify import ScratchDatabases
    from workbench.project import is_multidb
    from workbench.services.review import no_bytecode
    from workbench.services.verify import _move

    config = project.alembic_config()
    script = ScriptDirectory.from_config(config)
    found = script.get_revision(revision)
    with (
        no_bytecode(),
        tempfile.TemporaryDirectory(prefix="bench-locks-") as folder,
        ScratchDatabases(folder) as scratch,
        project.on_scratch(scratch, is_multidb(script.dir)) as use_fresh_databases,
    ):
        use_fresh_databases()
        _move(project, config, script, "upgrade", found.down_revision)
        start = time.perf_counter()
        _move(project, config, script, "upgrade", revision)
        timed_steps.append(time.perf_counter() - start)


def lock_report(project: Any, revision: str, timed_steps: list[float]) -> None:
    """The lock report, its measured step timed apart (the last upgrade it runs)."""
    from workbench.services import measure

    original = measure._move

    def timed_move(*args: Any) -> None:
        start = time.perf_counter()
        original(*args)
        elapsed = time.perf_counter() - start
        if args[-1] == revision:
            timed_steps.append(elapsed)

    measure._move = timed_move
    try:
        reports = measure.measure_locks(project, revision)
    finally:
        measure._move = original
    assert len(reports[0].statements) == 10, [s.sql for s in reports[0].statements]


def timed(work: Callable[[], None]) -> float:
    """The wall time of one run."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("WORKBENCH_TEST_POSTGRES_URL"))
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    if not arguments.url:
        parser.error("give --url or set WORKBENCH_TEST_POSTGRES_URL")
    server = sa.make_url(arguments.url)
    name = f"wb_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-locks-") as folder:
            app = make_project(Path(folder), server.set(database=name))
            with app.app_context():
                from workbench.project.flask import FlaskProject

                project = FlaskProject.current()
                verify_steps: list[float] = []
                measured_steps: list[float] = []
                verify_runs: list[float] = []
                report_runs: list[float] = []
                with contextlib.redirect_stderr(io.StringIO()):  # Alembic's INFO lines
                    lock_report(project, "bbbb0002", [])  # warm: imports, first connections
                    for _ in range(arguments.runs):  # interleaved: the machine's drift is shared
                        verify_runs.append(
                            timed(lambda: verify_like(project, "bbbb0002", verify_steps))
                        )
                        report_runs.append(
                            timed(lambda: lock_report(project, "bbbb0002", measured_steps))
                        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
    rows = [
        ("whole job", statistics.median(verify_runs), statistics.median(report_runs)),
        ("revision step", statistics.median(verify_steps), statistics.median(measured_steps)),
    ]
    print(f"{server.get_backend_name()}, 10 statements, empty tables, median of {arguments.runs}:")
    worst = 0.0
    for label, verify_seconds, report_seconds in rows:
        ratio = report_seconds / verify_seconds
        worst = max(worst, ratio)
        print(
            f"  {label:14} verify {verify_seconds * 1000:7.1f} ms   lock report "
            f"{report_seconds * 1000:7.1f} ms   {ratio:.2f} x"
        )
    verdict = "meets" if rows[0][2] / rows[0][1] <= TARGET_RATIO else "misses"
    print(f"The whole lock report {verdict} the target of {TARGET_RATIO} x verify's work.")
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    sys.exit(main())
