"""Whole-process timings of `flask db graph` and `flask db status` against Flask-Migrate.

Run: ``python tests/benchmarks/bench_cli.py [--count 5000]`` (``--unseen-runs N`` takes the median
of N cold runs, ``--no-scaling`` leaves out the 20 databases). One generated history, wrapped in
a Flask project twice (one app imports ``workbench.Migrate``, the other ``flask_migrate.Migrate``,
both on the same migrations folder and SQLite database stamped at head). Flask-Migrate's commands
run from an environment without workbench (``flask_migrate_env``). Targets from issue 3, measured
as the issue does, one run of each command on a history it has not seen (the revision files not
compiled, as this machine runs Python, ``PYTHONDONTWRITEBYTECODE=1``; an empty scan cache):
``graph`` <= 0.25 x Flask-Migrate's ``heads``; ``status`` <= 0.1 x Flask-Migrate's ``current``.
Then every command warm, for reference: bytecode written (``PYTHONPYCACHEPREFIX`` in the scratch
folder) and the scan cache filled, medians, with the floor every `flask db` command pays
(importing the app, and within it Flask and Flask-SQLAlchemy). Last, the status of 20 databases
<= 2 x the status of one (`flask db status`, whole process; SQLite files plus PostgreSQL
databases when ``WORKBENCH_TEST_POSTGRES_URL`` is set), and the version reads alone, in process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from flask_migrate_env import make_flask_migrate_python
from revision_generator import GENERATOR
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workbench.core.databases import DatabaseTarget, read_versions

APP = """
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from {module} import Migrate

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///{database}"
db = SQLAlchemy(app)
Migrate(app, db)
"""


def flask(
    project: Path,
    app: str,
    *args: str,
    python: str = sys.executable,
    cold_revisions: bool = False,
    cache_home: Path | None = None,
) -> float:
    """Seconds one `flask db ...` process takes, start to exit; fails loudly on an error.

    ``python`` is the interpreter: Flask-Migrate's own commands run from its environment
    (``flask_migrate_env``), as ours answer `flask db` wherever workbench is installed.

    ``cold_revisions`` runs it as this machine runs Python by default: bytecode neither written
    nor read from the scratch cache (``PYTHONDONTWRITEBYTECODE=1``), so the revision files are
    compiled on every run while the installed libraries keep their own bytecode.
    ``cache_home`` gives the workbench another scan cache folder (an empty one: a cold scan).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    env["FLASK_APP"] = app
    if cold_revisions:
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    started = time.perf_counter()
    completed = subprocess.run(
        [python, "-m", "flask", "db", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if completed.returncode not in (0,):
        raise SystemExit(f"flask db {' '.join(args)} failed: {completed.stderr.strip()[-500:]}")
    return seconds


def app_import(project: Path) -> float:
    """Seconds a process takes to import the app alone: the floor of any `flask db` command."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import wb_app"], cwd=project, check=True)
    return time.perf_counter() - started


def libraries_import() -> float:
    """Seconds a process takes to import Flask and Flask-SQLAlchemy: what any app imports."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import flask, flask_sqlalchemy"], check=True)
    return time.perf_counter() - started


def median_of(runs: int, measure: callable) -> float:
    """The median of several timings."""
    return statistics.median(measure() for _ in range(runs))


def make_project(root: Path, count: int, generator: Path) -> Path:
    """A Flask project whose migrations folder holds a generated history of ``count`` revisions."""
    generated = root / "generated"
    subprocess.run(
        [sys.executable, str(generator), "--count", str(count), "--out", str(generated), "--quiet"],
        check=True,
        capture_output=True,
    )
    project = root / "project"
    project.mkdir()
    database = project / "app.sqlite"
    (project / "wb_app.py").write_text(APP.format(module="workbench", database=database))
    (project / "fm_app.py").write_text(APP.format(module="flask_migrate", database=database))
    flask(project, "wb_app", "init")
    shutil.rmtree(project / "migrations" / "versions")
    shutil.copytree(generated / "migrations" / "versions", project / "migrations" / "versions")
    flask(project, "wb_app", "stamp", "heads")
    return project


def unseen_runs(project: Path, root: Path, fm_python: str, runs: int) -> dict[str, float]:
    """Medians of each command on a history not seen before: uncompiled files, no scan cache."""
    timings: dict[str, list[float]] = {"fm_heads": [], "fm_current": [], "graph": [], "status": []}
    for run in range(runs):
        for command in ("heads", "current"):
            timings[f"fm_{command}"].append(
                flask(project, "fm_app", command, python=fm_python, cold_revisions=True)
            )
        for command in ("graph", "status"):
            cache_home = root / f"unseen-{command}-{run}"
            timings[command].append(flask(project, "wb_app", command, cache_home=cache_home))
    return {name: statistics.median(values) for name, values in timings.items()}


def stamped_targets(root: Path, head: str) -> tuple[list[DatabaseTarget], list[str]]:
    """19 more databases stamped at head: SQLite files, and PostgreSQL ones when a URL is set."""
    server_url = os.environ.get("WORKBENCH_TEST_POSTGRES_URL")
    names = [f"wb_bench_{uuid.uuid4().hex[:8]}" for _ in range(10)] if server_url else []
    urls = [f"sqlite:///{root / f'extra{index}.sqlite'}" for index in range(19 - len(names))]
    if server_url:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f"create database {name}"))
        admin.dispose()
        urls += [make_url(server_url).set(database=name) for name in names]
    for url in urls:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("create table alembic_version (version_num varchar(32))"))
            connection.execute(text(f"insert into alembic_version values ('{head}')"))
        engine.dispose()
    return [DatabaseTarget(f"extra{index}", url) for index, url in enumerate(urls)], names


def drop_databases(names: list[str]) -> None:
    """Drop the scratch PostgreSQL databases."""
    if not names:
        return
    admin = create_engine(os.environ["WORKBENCH_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f"drop database if exists {name} with (force)"))
    admin.dispose()


def status_scaling(project: Path, root: Path, runs: int) -> dict[str, float]:
    """Seconds for the status of 1 and of 20 databases: whole process and reads in process."""
    head = json.loads((root / "generated" / "graph_summary.json").read_text())["head"]
    extra, created = stamped_targets(root, head)
    try:
        config = {target.name: str(target.url) for target in extra}
        app_text = (project / "wb_app.py").read_text()
        (project / "wb_app20.py").write_text(
            app_text + f"\napp.config['WORKBENCH_DATABASES'] = {json.dumps(config)}\n"
        )
        primary = DatabaseTarget("default", f"sqlite:///{project / 'app.sqlite'}")
        every = [primary, *(DatabaseTarget(t.name, make_url(t.url)) for t in extra)]
        read_versions(every)
        return {
            "process_1": median_of(runs, lambda: flask(project, "wb_app", "status")),
            "process_20": median_of(runs, lambda: flask(project, "wb_app20", "status")),
            "read_1": median_of(9, lambda: _timed_read(every[-1:])),
            "read_20": median_of(9, lambda: _timed_read(every)),
            "servers": len(created),
        }
    finally:
        drop_databases(created)


def _timed_read(targets: list[DatabaseTarget]) -> float:
    """Seconds to read the given databases' version tables at once."""
    started = time.perf_counter()
    readings = read_versions(targets)
    seconds = time.perf_counter() - started
    failed = [reading.error for reading in readings if reading.error]
    if failed:
        raise SystemExit(f"status read failed: {failed[0]}")
    return seconds


def main() -> None:
    """Build the project, time each command, print figures and ratios against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    parser.add_argument("--runs", type=int, default=3, help="runs of our commands (median)")
    parser.add_argument(
        "--unseen-runs",
        type=int,
        default=1,
        help="runs on a history not seen before, each with an empty scan cache (median)",
    )
    parser.add_argument(
        "--no-scaling",
        action="store_true",
        help="time graph and status only, not the status of 20 databases",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        print(f"generating {arguments.count} revisions ...", flush=True)
        project = make_project(root, arguments.count, arguments.generator)
        fm_python = make_flask_migrate_python(root)
        unseen = unseen_runs(project, root, fm_python, arguments.unseen_runs)
        for command in ("heads", "current"):
            flask(project, "fm_app", command, python=fm_python)
        flask(project, "wb_app", "graph")
        fm_heads = flask(project, "fm_app", "heads", python=fm_python)
        fm_current = flask(project, "fm_app", "current", python=fm_python)
        libraries = median_of(arguments.runs, libraries_import)
        graph = median_of(arguments.runs, lambda: flask(project, "wb_app", "graph"))
        floor = median_of(arguments.runs, lambda: app_import(project))
        status = median_of(arguments.runs, lambda: flask(project, "wb_app", "status"))
        scaling = None if arguments.no_scaling else status_scaling(project, root, arguments.runs)
    print(f"\n{arguments.count} revisions, whole process, seconds")
    print(
        "as issue 3 measures: one run of each on a history it has not seen"
        + (f" (median of {arguments.unseen_runs})" if arguments.unseen_runs > 1 else "")
    )
    print("(revision files not compiled, as this machine runs Python; no scan cache)")
    report("Flask-Migrate `flask db heads`", unseen["fm_heads"], None, None)
    report("Flask-Migrate `flask db current` (at head)", unseen["fm_current"], None, None)
    report(
        "workbench `flask db graph`", unseen["graph"], unseen["graph"] / unseen["fm_heads"], 0.25
    )
    ratio = unseen["status"] / unseen["fm_current"]
    report("workbench `flask db status`", unseen["status"], ratio, 0.10)
    print(f"every command warm (bytecode compiled, scan cache filled), median of {arguments.runs}")
    report("Flask-Migrate `flask db heads`", fm_heads, None, None)
    report("Flask-Migrate `flask db current` (at head)", fm_current, None, None)
    report("workbench `flask db graph`", graph, graph / fm_heads, None)
    report("  app import floor (`python -c import wb_app`)", floor, floor / fm_heads, None)
    report("  of which Flask + Flask-SQLAlchemy", libraries, libraries / fm_heads, None)
    report("workbench `flask db status`", status, status / fm_current, None)
    if scaling is not None:
        report_scaling(scaling)


def report_scaling(scaling: dict[str, float]) -> None:
    """The status of 20 databases against the status of one."""
    servers = scaling["servers"]
    kinds = f"{19 - servers} SQLite + {servers} PostgreSQL" if servers else "19 SQLite"
    print(f"\nstatus of 20 databases (1 + {kinds}) against 1")
    ratio = scaling["process_20"] / scaling["process_1"]
    report("`flask db status`, 1 database", scaling["process_1"], None, None)
    report("`flask db status`, 20 databases", scaling["process_20"], ratio, 2.0)
    ratio = scaling["read_20"] / scaling["read_1"]
    print("  (info: the reads alone, in process; 20 connections cost 20 connects)")
    report("version reads in process, 1 database", scaling["read_1"], None, None)
    report("version reads in process, 20 databases", scaling["read_20"], ratio, None)


def report(name: str, seconds: float, ratio: float | None, target: float | None) -> None:
    """One figure, with its ratio and verdict when it has a target."""
    line = f"  {name:<46} {seconds:7.3f} s"
    if ratio is not None and target is not None:
        verdict = "ok" if ratio <= target else "MISSED"
        line += f"   ratio {ratio:.3f} (target <= {target}) {verdict}"
    elif ratio is not None:
        line += f"   ratio {ratio:.3f}"
    print(line)


if __name__ == "__main__":
    main()
