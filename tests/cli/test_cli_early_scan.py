"""`graph` and `status` start scanning before the app loads, and take that scan only if it fits.

The early scan reads the folder given with ``-d``, else ``migrations``; the app's ``Migrate``
may name another folder, which is then scanned instead. Many files make the scan share its
work with a forked copy, so a broken file anywhere is found either way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.core.scan import PARALLEL_THRESHOLD

pytestmark = [pytest.mark.flask_in_process, pytest.mark.parametrize("backend", ["sqlite"])]

REVISION = '''"""step {index}

Revision ID: {rev}
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down_value}
branch_labels = None
depends_on = None


def upgrade():
    op.execute("select {index}")


def downgrade():
    pass
'''


def write_history(versions: Path, count: int, prefix: str, broken: int | None = None) -> str:
    """A linear history of ``count`` revisions ``<prefix>0000``...; the head's id."""
    for stale in versions.glob("*.py"):
        stale.unlink()
    down: str | None = None
    for index in range(count):
        rev = f"{prefix}{index:04d}"
        text = REVISION.format(index=index, rev=rev, down=down or "", down_value=repr(down))
        if index == broken:
            text += "\ndef after(:\n    pass\n"
        (versions / f"{rev}_step.py").write_text(text)
        down = rev
    return down or ""


@pytest.fixture
def early_scans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each early scan as (folder, whether its result was taken), as the commands run."""
    import workbench.project

    started: list[tuple[str, bool]] = []
    start = workbench.project.start_folder_scan

    def recorded(script_location: str):
        pending = start(script_location)
        index = len(started)
        started.append((script_location, False))
        if pending is not None:
            result = pending.result

            def taken():
                started[index] = (script_location, True)
                return result()

            pending.result = taken
        return pending

    monkeypatch.setattr(workbench.project, "start_folder_scan", recorded)
    return started


def graph_document(project, *args: str, expect: int = 0) -> dict:
    return json.loads(project.db(*args, "graph", "--format", "json", expect=expect).stdout)


def test_the_apps_own_folder_wins_over_the_early_guess(make_project, early_scans):
    project = make_project(migrate_kwargs={"directory": "other"})
    project.db("init")
    own = project.path / "other"
    head = write_history(own / "versions", PARALLEL_THRESHOLD + 20, "own")
    # a `migrations` folder the app does not use, broken: taking its scan would show it
    shutil.copytree(own, project.path / "migrations")
    write_history(project.path / "migrations" / "versions", 30, "gues", broken=7)

    document = graph_document(project)
    assert document["heads"] == [head] and document["diagnostics"] == []
    assert len(document["revisions"]) == PARALLEL_THRESHOLD + 20
    project.db("status", expect=1)  # not stamped, but not broken
    assert "broken" not in project.db("status", expect=1).stderr

    guessed = graph_document(project, "-d", "migrations", expect=1)
    assert [d["kind"] for d in guessed["diagnostics"]] == ["syntax_error"]
    assert early_scans == [("migrations", False)] * 3 + [("migrations", True)]


def test_a_broken_file_anywhere_is_found_by_the_early_scan(make_project, early_scans):
    project = make_project()
    project.db("init")
    versions = project.path / "migrations" / "versions"
    count = PARALLEL_THRESHOLD * 2
    for broken in (0, count // 2, count - 1):
        write_history(versions, count, f"b{broken:03d}", broken=broken)
        failed = project.db("graph", expect=1)
        assert "broken" in failed.stderr and f"b{broken:03d}{broken:04d}" in failed.stderr
        document = graph_document(project, expect=1)
        assert [d["revision"] for d in document["diagnostics"]] == [f"b{broken:03d}{broken:04d}"]
        assert len(document["revisions"]) == count
        for args in (("-d", "migrations", "status"), ("status", "--directory=migrations")):
            assert "broken" in project.db(*args, expect=1).stderr
    assert early_scans == [("migrations", True)] * 12
