"""The graph the scan cache keeps is served only for the same files, read by the same code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from revision_files import revision_source

from workbench.core.graph import build_graph
from workbench.core.layout import kept_record, layout_graph
from workbench.core.scan import scan_revisions, start_scan
from workbench.core.scan_cache import ScanCache
from workbench.project import MigrationProject


def write_revision(
    folder: Path, rev: str, down: str | tuple[str, ...] | None, message: str, age_s: int = 60
) -> Path:
    """A revision file whose modification time lies age_s seconds in the past."""
    path = folder / f"{rev}_.py"
    path.write_text(revision_source(rev, down, message=message))
    past = path.stat().st_mtime_ns - age_s * 1_000_000_000
    os.utime(path, ns=(past, past))
    return path


def branchy_history(versions: Path) -> None:
    """A base, two branches and their merge."""
    versions.mkdir(parents=True, exist_ok=True)
    write_revision(versions, "aaa1", None, "base")
    write_revision(versions, "bbb2", "aaa1", "left")
    write_revision(versions, "ccc3", "aaa1", "right")
    write_revision(versions, "ddd4", ("bbb2", "ccc3"), "merge")


def project_of(*version_locations: Path) -> MigrationProject:
    """A project following the given version folders, with no database."""
    return MigrationProject(
        directory=str(version_locations[0].parent),
        version_locations=tuple(str(location) for location in version_locations),
        recursive_version_locations=False,
        sourceless=False,
        multidb=False,
        targets=(),
    )


def fresh_graph(*version_locations: Path):
    """The graph built from the files themselves, no cache involved."""
    scanned = scan_revisions(version_locations)
    graph = build_graph(scanned.revisions, scanned.diagnostics)
    return graph.to_plain(), layout_graph(graph)


def loaded(project: MigrationProject):
    """What the product loads: the graph and its rows."""
    graph = project.load_graph()
    return graph.to_plain(), list(graph.laid_out or layout_graph(graph))


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workbench's caches in a folder of the test's own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("WORKBENCH_SCAN_CACHE", raising=False)
    return cache


def kept_files(cache: Path) -> list[str]:
    """The names of the whole-listing records in the cache folder."""
    return sorted(path.name for path in cache.rglob("*-whole.marshal"))


def test_the_kept_graph_is_the_graph_the_files_give(tmp_path: Path, own_cache: Path) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    project = project_of(versions)

    first = loaded(project)
    assert kept_files(own_cache)
    second = loaded(project)
    assert first == second == fresh_graph(versions)
    assert [row.revision for row in second[1]] == ["ddd4", "bbb2", "ccc3", "aaa1"]


def test_an_unchanged_folder_is_answered_by_the_record_without_reading_a_file(
    tmp_path: Path,
) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    cache_file = str(tmp_path / "scan.marshal")
    code = ("graph code", 1)

    def scan(derived_by: object = code):
        return start_scan([versions], cache=ScanCache.load(cache_file, derived_by=derived_by))

    first = scan()
    assert first.recalled is None
    scanned = first.result()
    first.keep(lambda: kept_record(build_graph(scanned.revisions, scanned.diagnostics)))

    assert scan().recalled is not None
    assert scan(derived_by=("graph code", 2)).recalled is None  # other code: never served
    assert scan(derived_by=None).recalled is None
    with pytest.raises(RuntimeError):
        scan().result()


def test_an_edit_of_the_same_size_is_seen_at_once(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    project = project_of(versions)
    loaded(project)
    loaded(project)

    write_revision(versions, "ccc3", "aaa1", "RIGHT", age_s=30)

    graph = project.load_graph()
    assert graph.revisions["ccc3"].message == "RIGHT"
    assert loaded(project) == fresh_graph(versions)


def test_added_and_removed_files_change_the_graph(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    project = project_of(versions)
    loaded(project)

    write_revision(versions, "eee5", "ddd4", "on top")
    assert project.load_graph().heads == ("eee5",)
    (versions / "eee5_.py").unlink()
    assert project.load_graph().heads == ("ddd4",)
    assert loaded(project) == fresh_graph(versions)


def test_files_modified_within_the_racy_window_are_never_kept(
    tmp_path: Path, own_cache: Path
) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    write_revision(versions, "eee5", "ddd4", "just written", age_s=0)
    project = project_of(versions)

    loaded(project)
    loaded(project)

    assert kept_files(own_cache) == []


def test_a_version_folder_that_appears_removes_its_diagnostic(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    extra = tmp_path / "extra"
    project = project_of(versions, extra)
    assert [d.kind for d in project.load_graph().diagnostics] == ["missing_folder"]
    assert [d.kind for d in project.load_graph().diagnostics] == ["missing_folder"]

    extra.mkdir()

    assert project.load_graph().diagnostics == ()
    write_revision(extra, "fff6", "ddd4", "in the second folder")
    assert project.load_graph().heads == ("fff6",)


def test_a_corrupt_record_is_ignored(tmp_path: Path, own_cache: Path) -> None:
    versions = tmp_path / "versions"
    branchy_history(versions)
    project = project_of(versions)
    loaded(project)
    (record,) = own_cache.rglob("*-whole.marshal")

    record.write_bytes(b"\x00not marshal data")

    assert loaded(project) == fresh_graph(versions)
