"""`flask db squash` of a long history, proof included, against one upgrade through it.

Run: ``python tests/benchmarks/bench_squash.py [--count 500] [--runs 3]``. A Flask project on
SQLite holds ``--count`` generated linear revisions: about one in five creates a table (with a
server default, a unique constraint and, after the first, a foreign key), the others add a
column or an index to a table that exists then. Two whole ``flask`` processes are timed, each
on a copy of the project with an empty database: ``flask db upgrade`` (one database through
every revision) and ``flask db squash <last revision> --yes`` (plan, upgrade of a scratch
database through every revision, baseline rendered by autogenerate, second scratch database
through the baseline, comparison, downgrade check, files written). Medians of ``--runs``.
Target: squash <= 2.5 x upgrade, in wall time; CPU time is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.5

APP = """\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from workbench import Migrate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///{database}"
db = SQLAlchemy(app)
Migrate(app, db)
"""

REVISION = '''\
"""step {number}

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''


def write_history(versions: Path, count: int, seed: int = 7) -> str:
    """Write ``count`` linear revisions; return the last one's id."""
    rng = random.Random(seed)
    tables: list[str] = []
    columns: dict[str, int] = {}
    down_revision = None
    revision = ""
    for number in range(1, count + 1):
        revision = f"r{number:05d}"
        if not tables or rng.random() < 0.2:
            table = f"table_{len(tables) + 1}"
            foreign = (
                f"sa.Column('parent_id', sa.Integer(), sa.ForeignKey('{tables[-1]}.id',"
                f" name='fk_{table}_parent')), "
                if tables
                else ""
            )
            upgrade = (
                f"op.create_table('{table}', sa.Column('id', sa.Integer(), primary_key=True), "
                f"{foreign}sa.Column('name', sa.String(40), nullable=False,"
                f" server_default='x'), sa.UniqueConstraint('name', name='uq_{table}_name'))"
            )
            downgrade = f"op.drop_table('{table}')"
            tables.append(table)
            columns[table] = 0
        else:
            table = rng.choice(tables)
            columns[table] += 1
            column = f"c{columns[table]}"
            if rng.random() < 0.3:
                upgrade = (
                    f"op.add_column('{table}', sa.Column('{column}', sa.Integer()))\n"
                    f"    op.create_index('ix_{table}_{column}', '{table}', ['{column}'])"
                )
            else:
                upgrade = f"op.add_column('{table}', sa.Column('{column}', sa.String(20)))"
            downgrade = f"op.drop_column('{table}', '{column}')"
        path = versions / f"{revision}_step.py"
        path.write_text(
            REVISION.format(
                number=number,
                revision=revision,
                down_revision=down_revision,
                upgrade=upgrade,
                downgrade=downgrade,
            )
        )
        down_revision = revision
    return revision


def flask(project: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``flask`` process in the project; fails loudly on an error.

    CPU time (user + system) is the steadier figure on a machine other work shares.
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    environment.update(FLASK_APP="app", PYTHONDONTWRITEBYTECODE="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def make_project(root: Path, count: int) -> tuple[Path, str]:
    """A Flask project with an empty SQLite database and ``count`` revisions."""
    project = root / "template"
    project.mkdir()
    (project / "app.py").write_text(APP.format(database=project / "app.sqlite"))
    flask(project, "db", "init")
    last = write_history(project / "migrations" / "versions", count)
    return project, last


def copy_of(project: Path, root: Path, name: str) -> Path:
    """A copy of the project whose app uses its own database file."""
    target = root / name
    shutil.copytree(project, target)
    (target / "app.py").write_text(APP.format(database=target / "app.sqlite"))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-squash-") as folder:
        root = Path(folder)
        project, last = make_project(root, args.count)
        upgrades, squashes = [], []
        for run in range(args.runs):
            upgrades.append(flask(copy_of(project, root, f"upgrade{run}"), "db", "upgrade"))
            squashed = copy_of(project, root, f"squash{run}")
            squashes.append(flask(squashed, "db", "squash", last, "--yes"))
            left = list((squashed / "migrations" / "versions").glob("*.py"))
            assert len(left) == 1, f"{len(left)} revision files left after the squash"
        print(f"revisions: {args.count}; medians of {args.runs} whole-process runs")
        for index, figure in ((0, "wall"), (1, "CPU")):
            upgrade = statistics.median(run[index] for run in upgrades)
            squash = statistics.median(run[index] for run in squashes)
            ratio = squash / upgrade
            verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
            print(
                f"{figure}: flask db upgrade (base to head) {upgrade:.2f} s; "
                f"flask db squash {last} --yes (proof included) {squash:.2f} s; "
                f"ratio {ratio:.2f} x (target <= {TARGET_RATIO} x): {verdict}"
            )


if __name__ == "__main__":
    main()
