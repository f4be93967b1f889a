"""Preview time against `flask db migrate` on the same model change (issue 5's figure).

Run: ``python tests/benchmarks/bench_preview.py [--tables 60] [--runs 5]``. One project is
written three times over its own SQLite database, all at the same revision: ``review`` (our app:
`flask db review` and the preview child), ``migrate`` (our app: `flask db migrate`, which also
reviews what it wrote) and ``flask_migrate`` (Flask-Migrate's `Migrate`, its templates and its
`flask db`, run from an environment without workbench: ``flask_migrate_env``).
The models then change the same way in all three (a column renamed in a third of the tables, a
nullable column added in another third, one table added). Every command runs once untimed first,
with bytecode written, so everything is timed warm; each migrate's new file is removed (untimed)
before the next run. Target: preview <= 1.1 x `flask db migrate` (median of ``--runs``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask_migrate_env import make_flask_migrate_python

from workbench.runtime.client import Launch, start
from workbench.runtime.requests import PreviewRequest
from workbench.services.running import preview_result

TARGET = 1.1

APP = """
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from {module} import Migrate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///{database}"
db = SQLAlchemy(app)
Migrate(app, db)

import models  # noqa: E402,F401
"""


def models_source(tables: int, changed: bool) -> str:
    """models.py with ``tables`` tables; ``changed`` renames, adds a column and adds a table."""
    lines = ["from app import db", ""]
    for index in range(tables):
        lines += [
            "",
            f"class Table{index}(db.Model):",
            f"    __tablename__ = 'table_{index}'",
            "    id = db.Column(db.Integer, primary_key=True)",
            "    title = db.Column(db.String(200), nullable=False)",
            "    body = db.Column(db.Text)",
            "    created = db.Column(db.DateTime)",
        ]
        renamed = changed and index % 3 == 0
        lines.append(f"    {'label' if renamed else 'name'} = db.Column(db.String(64))")
        if changed and index % 3 == 1:
            lines.append("    note = db.Column(db.String(120))")
    if changed:
        lines += ["", "class Added(db.Model):", "    id = db.Column(db.Integer, primary_key=True)"]
    return "\n".join(lines) + "\n"


def flask(project: Path, *args: str, python: str = sys.executable) -> float:
    """Seconds one `flask db ...` process takes, start to exit; fails loudly on an error.

    ``python`` is the interpreter: Flask-Migrate's project runs from its own environment.
    """
    started = time.perf_counter()
    completed = subprocess.run(
        [python, "-m", "flask", "db", *args],
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1) or "Error" in completed.stderr:
        raise SystemExit(f"flask db {' '.join(args)} failed: {completed.stderr.strip()[-500:]}")
    return seconds


def environment() -> dict[str, str]:
    """Our environment with FLASK_APP=app and no other FLASK_* variable."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env["FLASK_APP"] = "app"
    return env


def make_project(
    root: Path, name: str, module: str, tables: int, python: str = sys.executable
) -> Path:
    """A project at its first revision (all tables created), models then changed."""
    project = root / name
    project.mkdir()
    (project / "app.py").write_text(APP.format(module=module, database=project / "app.sqlite"))
    (project / "models.py").write_text(models_source(tables, changed=False))
    flask(project, "init", python=python)
    flask(project, "migrate", "-m", "initial", "--rev-id", "aaaa0001", python=python)
    flask(project, "upgrade", python=python)
    (project / "models.py").write_text(models_source(tables, changed=True))
    return project


def migrate_once(project: Path, python: str = sys.executable) -> float:
    """Time one `flask db migrate`, then remove the revision it wrote (untimed)."""
    versions = project / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    seconds = flask(project, "migrate", "-m", "change", python=python)
    for path in set(versions.glob("*.py")) - before:
        path.unlink()
    return seconds


def timed(function: Callable[[], object]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def interleaved_medians(runs: int, measures: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The median timing of each measure, run in turns after one untimed warm-up round.

    Taking turns spreads whatever else the machine is doing over every measure alike.
    """
    for measure in measures.values():
        measure()
    timings: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            timings[name].append(measure())
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    """Build the projects, time each way of previewing and of migrating, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        review = make_project(root, "review", "workbench", arguments.tables)
        ours = make_project(root, "migrate", "workbench", arguments.tables)
        fm_python = make_flask_migrate_python(root)
        theirs = make_project(root, "flask_migrate", "flask_migrate", arguments.tables, fm_python)
        launch = Launch(review, "app", environment())
        figures = interleaved_medians(
            arguments.runs,
            {
                "flask_migrate": lambda: migrate_once(theirs, fm_python),
                "migrate": lambda: migrate_once(ours),
                "review": lambda: flask(review, "review"),
                "review_sql": lambda: flask(review, "review", "--sql"),
                "child": lambda: timed(lambda: preview_result(start(PreviewRequest(), launch))),
            },
        )
        written = [path.name for path in (review / "migrations" / "versions").glob("*.py")]
        if written != ["aaaa0001_initial.py"]:
            raise SystemExit(f"the preview wrote into the project: {written}")
    changed = 2 * arguments.tables // 3 + 1
    print(f"\n{arguments.tables} tables, {changed} of them changed or added;")
    print(f"whole process, median of {arguments.runs} interleaved runs after a warm-up, seconds")
    report("Flask-Migrate `flask db migrate`", figures["flask_migrate"], None)
    report("workbench `flask db migrate` (+ review)", figures["migrate"], None)
    for name, key in [
        ("`flask db review`", "review"),
        ("`flask db review --sql`", "review_sql"),
        ("preview child (start to result)", "child"),
    ]:
        report(f"{name} / Flask-Migrate", figures[key], figures[key] / figures["flask_migrate"])
        report(f"{name} / our migrate", figures[key], figures[key] / figures["migrate"])


def report(name: str, seconds: float, ratio: float | None) -> None:
    """One figure, with its ratio and verdict against the target when it has one."""
    line = f"  {name:<48} {seconds:7.3f} s"
    if ratio is not None:
        verdict = "ok" if ratio <= TARGET else "MISSED"
        line += f"   ratio {ratio:.3f} (target <= {TARGET}) {verdict}"
    print(line)


if __name__ == "__main__":
    main()
