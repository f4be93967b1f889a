"""`flask db verify` and the verify child operation: scratch databases only, failures named."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from review_projects import (
    SQLITE_AND_POSTGRES,
    SQLITE_ONLY,
    launch,
    start_project,
    write_revision,
)
from sample_models import MULTIDB_MODELS
from sqlalchemy.pool import NullPool

from workbench.core.verify import SCRATCH_PREFIX
from workbench.runtime.client import start
from workbench.runtime.requests import VerifyRequest
from workbench.services.running import verify_result

pytestmark = pytest.mark.flask_in_process

BROKEN_DOWNGRADE = 'op.drop_table("no_such_table")'


def scratch_databases_left(project) -> set[str]:
    """Server databases named like verify's scratch ones (none on SQLite)."""
    url = sa.make_url(project.database_url)
    if url.get_backend_name() == "sqlite":
        return set()
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            names = connection.exec_driver_sql("SELECT datname FROM pg_database").scalars()
            return {name for name in names if name.startswith(SCRATCH_PREFIX)}
    finally:
        engine.dispose()


def assert_no_new_scratch_database_stays(project, before: set[str]) -> None:
    """Fail if a scratch database made since ``before`` is still there 20 s on.

    Other test workers run ``verify`` on the same server at the same time: their scratch
    databases come and go, a leaked one stays.
    """
    deadline = time.monotonic() + 20
    while scratch_databases_left(project) - before:
        assert time.monotonic() < deadline, scratch_databases_left(project) - before
        time.sleep(0.2)


@SQLITE_AND_POSTGRES
def test_verify_passes_a_clean_history_then_names_a_broken_downgrade(make_project, backend):
    project = make_project()
    start_project(project)
    write_revision(project, "bbbb0002", "aaaa0001", upgrade="pass", downgrade="pass")
    project.db("upgrade")
    leftovers = scratch_databases_left(project)
    before = project.snapshot()

    clean = project.db("verify")

    assert clean.stdout.splitlines()[:4] == [
        "PASS single-head: one head: bbbb0002",
        "PASS upgrade: base to head: 2 revision(s) applied",
        "PASS models-match: autogenerate finds no difference",
        "PASS up-down-up: 2 revision(s) upgraded, downgraded and upgraded again",
    ]
    assert f"default ({backend})" in clean.stdout.splitlines()[-1]

    write_revision(project, "cccc0003", "bbbb0002", upgrade="pass", downgrade=BROKEN_DOWNGRADE)
    before = project.snapshot()
    broken = project.db("verify", "--json", expect=1)

    report = json.loads(broken.stdout)
    assert report["passed"] is False
    checks = {check["name"]: check for check in report["checks"]}
    assert [checks[name]["status"] for name in ("single-head", "upgrade", "models-match")] == [
        "passed",
        "passed",
        "passed",
    ]
    failed = checks["up-down-up"]
    assert (failed["status"], failed["revision"]) == ("failed", "cccc0003")
    assert [(r["revision"], r["passed"], r["step"]) for r in failed["revisions"]] == [
        ("aaaa0001", True, None),
        ("bbbb0002", True, None),
        ("cccc0003", False, "downgrade"),
    ]
    assert failed["message"] == "downgrade of cccc0003 failed"
    assert "DROP TABLE no_such_table" in failed["revisions"][-1]["message"]
    assert project.snapshot() == before
    assert_no_new_scratch_database_stays(project, leftovers)


@SQLITE_ONLY
def test_verify_child_reports_each_check_and_a_failing_upgrade(make_project):
    project = make_project()
    start_project(project)
    write_revision(project, "bbbb0002", "aaaa0001", upgrade=BROKEN_DOWNGRADE, downgrade="pass")
    write_revision(project, "cccc0003", "aaaa0001", upgrade="pass", downgrade="pass")
    before = project.snapshot()
    heard = []

    # as the workbench runs it: a verify child started, its checks heard as they end
    report = verify_result(start(VerifyRequest(), launch(project)), on_check=heard.append)

    assert [check.name for check in heard] == [check.name for check in report.checks]
    statuses = {check.name: check.status for check in report.checks}
    assert statuses == {
        "single-head": "failed",
        "upgrade": "failed",
        "models-match": "skipped",
        "up-down-up": "skipped",
    }
    upgrade = report.checks[1]
    assert upgrade.revision == "bbbb0002"
    assert upgrade.message.startswith("upgrade to bbbb0002 failed: ")
    assert "no_such_table" in upgrade.message
    assert "2 heads" in report.checks[0].message
    assert not report.passed
    assert project.snapshot() == before


@SQLITE_ONLY
def test_verify_gives_every_bind_its_own_scratch_database(make_project):
    project = make_project(binds=["users"], models=MULTIDB_MODELS)
    project.db("init", "--multidb")
    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    project.db("upgrade")
    before = project.snapshot()

    report = json.loads(project.db("verify", "--json").stdout)

    assert report["passed"] is True
    scratch = {database["name"]: database["url"] for database in report["databases"]}
    assert set(scratch) == {"default", "users"}
    assert scratch["default"] != scratch["users"]
    assert project.url() not in scratch.values()
    assert project.snapshot() == before


@SQLITE_ONLY
def test_verify_runs_where_greenlet_is_not_installed(make_project, tmp_path):
    project = make_project()
    start_project(project)
    no_greenlet = tmp_path / "no_greenlet"
    no_greenlet.mkdir()
    (no_greenlet / "greenlet.py").write_text('raise ImportError("No module named greenlet")\n')

    result = project.db("verify", env={"PYTHONPATH": str(no_greenlet)})

    assert result.stdout.splitlines()[0] == "PASS single-head: one head: aaaa0001"
