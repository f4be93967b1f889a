"""The demo project as its users meet it: real ``flask db`` runs on a folder made by the demo."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import scan_revisions
from workbench.demo.command import flask_command

pytestmark = pytest.mark.flask_in_process

FlaskRun = Callable[..., subprocess.CompletedProcess[str]]

TEMPLATE = Path(__file__).parents[2] / "workbench" / "templates" / "flask-multidb"


def run_demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench demo *args`` in a folder."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", "demo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def version_rows(database: Path) -> set[str]:
    """The rows of a SQLite database's alembic_version table."""
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}


def table_names(database: Path) -> set[str]:
    """The tables of a SQLite database."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def scanned_graph(folder: Path) -> RevisionGraph:
    """The revision graph of a project, as the workbench's scanner sees it."""
    scan = scan_revisions([folder / "migrations" / "versions"])
    return build_graph(scan.revisions, scan.diagnostics)


def heads_by_branch(run_flask: FlaskRun, folder: Path) -> dict[str, str]:
    """The heads from ``flask db heads``: ``billing`` and ``main`` (the one with no label)."""
    result = run_flask(folder, "db", "heads")
    assert result.returncode == 0, result.stderr
    heads = {}
    for line in result.stdout.splitlines():
        revision = line.split()[0]
        heads["billing" if "(billing)" in line else "main"] = revision
    return heads


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo project shared by the tests that only read it, and the demo command's run."""
    parent = tmp_path_factory.mktemp("demo")
    result = run_demo("shop", "--no-open", cwd=parent)
    assert result.returncode == 0, result.stderr
    return parent / "shop", result


@pytest.fixture
def demo_folder(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    """The shared demo project's folder (not to be changed)."""
    return demo[0]


@pytest.fixture
def demo_copy(demo_folder: Path, tmp_path: Path) -> Path:
    """A private copy of the demo project, for tests that change files or databases."""
    return Path(shutil.copytree(demo_folder, tmp_path / "shop"))


def test_demo_creates_a_multidb_flask_project(demo):
    folder, result = demo
    assert result.stdout.splitlines() == [
        f"Created the demo project in {folder}",
        f"Open it with: cd {folder} && {flask_command()} db tui",
    ]
    assert result.stderr == ""
    assert {path.name for path in folder.iterdir()} == {
        "README.md",
        "app.py",
        "models.py",
        "migrations",
        "shop.db",
        "analytics.db",
    }
    migrations = folder / "migrations"
    for name in ("env.py", "script.py.mako", "README"):
        assert (migrations / name).read_bytes() == (TEMPLATE / name).read_bytes()
    assert not list(folder.parent.glob(".shop-*")), "the building folder was left behind"


def test_revision_files_are_multidb_scripts_with_distinct_dates(demo_folder):
    files = sorted((demo_folder / "migrations" / "versions").glob("*.py"))
    assert 35 <= len(files) <= 45
    dates = set()
    for path in files:
        source = path.read_text()
        compile(source, str(path), "exec")
        for function in ("upgrade_", "downgrade_", "upgrade_analytics", "downgrade_analytics"):
            assert f"\ndef {function}():\n" in source, path.name
        revision = re.search(r"^revision = '([0-9a-f]{12})'$", source, re.M)
        assert revision is not None and path.name.startswith(revision.group(1) + "_")
        date = re.search(r"^Create Date: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})$", source, re.M)
        assert date is not None, path.name
        dates.add(date.group(1))
    assert len(dates) == len(files)
    months = {date[:7] for date in dates}
    assert len(months) >= 4


@pytest.mark.flask_subprocess
def test_flask_db_heads_shows_two_heads_one_on_the_billing_branch(run_flask, demo_folder):
    heads = heads_by_branch(run_flask, demo_folder)
    assert set(heads) == {"billing", "main"}


def test_history_has_a_merge_point_and_branches_shows_the_branch_points(run_flask, demo_folder):
    history = run_flask(demo_folder, "db", "history")
    assert history.returncode == 0, history.stderr
    merges = [line for line in history.stdout.splitlines() if "(mergepoint)" in line]
    assert len(merges) == 1
    assert re.match(r"[0-9a-f]{12}, [0-9a-f]{12} -> [0-9a-f]{12} \(mergepoint\), merge ", merges[0])

    branches = run_flask(demo_folder, "db", "branches")
    assert branches.returncode == 0, branches.stderr
    points = [line for line in branches.stdout.splitlines() if "(branchpoint)" in line]
    assert len(points) == 2
    assert "-> " in branches.stdout and "(billing)" in branches.stdout


def test_scanner_and_graph_see_the_heads_flask_shows(run_flask, demo_folder):
    graph = scanned_graph(demo_folder)
    assert graph.diagnostics == ()
    assert set(graph.heads) == set(heads_by_branch(run_flask, demo_folder).values())
    assert len(graph.merge_points) == 1
    assert len(graph.branch_points) == 2
    assert graph.label_owners.keys() == {"billing"}


def test_the_databases_stand_at_different_revisions(run_flask, demo_folder):
    heads = heads_by_branch(run_flask, demo_folder)
    shop, analytics = demo_folder / "shop.db", demo_folder / "analytics.db"
    (default_revision,) = version_rows(shop)
    assert version_rows(analytics) == {heads["billing"]}

    graph = scanned_graph(demo_folder)
    assert len(graph.pending([default_revision], heads["main"])) == 3
    assert graph.pending([default_revision], "billing@head"), "default is not on billing"

    # Tables match each database's revision: billing tables only where billing was applied.
    assert {"users", "orders", "products", "reviews", "shipments"} <= table_names(shop)
    assert not {"invoices", "payments", "support_tickets"} & table_names(shop)
    assert {"audit_events", "page_views", "invoice_events"} <= table_names(analytics)
    assert not {"users", "daily_sales"} & table_names(analytics)

    current = run_flask(demo_folder, "db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.split() == [default_revision, heads["billing"], "(head)"]


def test_check_fails_on_the_demo_as_made(run_flask, demo_folder):
    result = run_flask(demo_folder, "db", "check")
    assert result.returncode == 1, result.stderr


def test_upgrade_heads_brings_both_databases_to_the_heads(run_flask, demo_copy):
    heads = set(heads_by_branch(run_flask, demo_copy).values())
    result = run_flask(demo_copy, "db", "upgrade", "heads")
    assert result.returncode == 0, result.stderr
    assert version_rows(demo_copy / "shop.db") == heads
    assert version_rows(demo_copy / "analytics.db") == heads
    assert {"invoices", "support_tickets"} <= table_names(demo_copy / "shop.db")
    assert "daily_sales" in table_names(demo_copy / "analytics.db")


def test_the_pending_model_change_is_the_only_difference(run_flask, demo_copy):
    heads = heads_by_branch(run_flask, demo_copy)
    assert run_flask(demo_copy, "db", "upgrade", "heads").returncode == 0

    check = run_flask(demo_copy, "db", "check")
    assert check.returncode == 1
    assert "New upgrade operations detected" in check.stderr
    assert "last_login_at" in check.stderr
    assert "phone_number" in check.stderr

    review = run_flask(demo_copy, "db", "review", "--json", "--head", heads["main"])
    assert review.returncode == 1, review.stderr
    findings = json.loads(review.stdout)["findings"]
    assert [(f["rule"], f["severity"]) for f in findings if f["severity"] == "block"] == [
        ("probable-column-rename", "block")
    ]

    versions = demo_copy / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    migrate = run_flask(
        demo_copy, "db", "migrate", "-m", "add last login to users", "--head", heads["main"]
    )
    assert migrate.returncode == 0, migrate.stderr
    (new_file,) = set(versions.glob("*.py")) - before
    script = new_file.read_text()
    default_part = script[script.index("def upgrade_():") : script.index("def downgrade_():")]
    assert "batch_op.add_column(sa.Column('last_login_at', sa.DateTime()" in default_part
    analytics_part = script[script.index("def upgrade_analytics():") :]
    assert "add_column" not in analytics_part and "create_table" not in analytics_part

    assert run_flask(demo_copy, "db", "upgrade", "heads").returncode == 0
    assert run_flask(demo_copy, "db", "check").returncode == 0


def test_every_revision_downgrades_again(run_flask, demo_copy):
    assert run_flask(demo_copy, "db", "upgrade", "heads").returncode == 0
    result = run_flask(demo_copy, "db", "downgrade", "base")
    assert result.returncode == 0, result.stderr
    for database in ("shop.db", "analytics.db"):
        assert table_names(demo_copy / database) == {"alembic_version"}
        assert version_rows(demo_copy / database) == set()


def test_the_demo_is_the_same_every_time(demo_folder, tmp_path):
    assert run_demo("again", "--no-open", cwd=tmp_path).returncode == 0

    def files(folder: Path) -> dict[str, bytes]:
        return {
            path.name: path.read_bytes()
            for path in (folder / "migrations" / "versions").glob("*.py")
        }

    assert files(tmp_path / "again") == files(demo_folder)
    assert (tmp_path / "again" / "models.py").read_bytes() == (
        demo_folder / "models.py"
    ).read_bytes()


def test_creating_the_demo_takes_under_three_seconds(tmp_path):
    """Measured in CPU seconds of the demo process: wall time also counts the other tests' load."""
    resource = pytest.importorskip("resource")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_demo("timed", "--no-open", cwd=tmp_path)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stderr
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert seconds < 3, f"creating the demo took {seconds:.2f} CPU seconds"
