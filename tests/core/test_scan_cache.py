"""The scan cache serves unchanged files only, and never a header older than its file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from workbench.core.files import revision_file_identities
from workbench.core.scan import scan_revisions
from workbench.core.scan_cache import RACY_WINDOW_NS, ScanCache
from workbench.core.scanned import ScannedRevision

REVISION = '''"""{message}

Revision ID: {rev}
Revises: {down}
"""
revision = {rev!r}
down_revision = {down_value}
branch_labels = None
depends_on = None


def upgrade():
    pass
'''


def write_revision(folder: Path, rev: str, down: str | None, message: str, age_s: int) -> Path:
    """A revision file whose modification time lies age_s seconds in the past."""
    path = folder / f"{rev}_.py"
    path.write_text(
        REVISION.format(message=message, rev=rev, down=down or "", down_value=repr(down))
    )
    past = path.stat().st_mtime_ns - age_s * 1_000_000_000
    os.utime(path, ns=(past, past))
    return path


def cached_scan(folder: Path, cache_file: Path):
    """Scan through a cache loaded from cache_file, saving it afterwards."""
    return scan_revisions([folder], cache=ScanCache.load(str(cache_file)))


def test_unchanged_files_come_from_the_cache_and_match_a_fresh_scan(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    write_revision(versions, "aaa1", None, "first", age_s=60)
    write_revision(versions, "bbb2", "aaa1", "second", age_s=60)
    cache_file = tmp_path / "cache.marshal"

    first = cached_scan(versions, cache_file)
    assert cache_file.exists()
    cache = ScanCache.load(str(cache_file))
    assert cache.get(str(versions / "aaa1_.py")) is not None
    second = scan_revisions([versions], cache=cache)
    assert second.revisions == first.revisions == scan_revisions([versions]).revisions


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    path = write_revision(versions, "aaa1", None, "first", age_s=60)
    cache_file = tmp_path / "cache.marshal"
    cached_scan(versions, cache_file)

    write_revision(versions, "aaa1", None, "renamed message", age_s=30)
    rescanned = cached_scan(versions, cache_file)
    assert [r.message for r in rescanned.revisions] == ["renamed message"]
    assert path.read_text().startswith('"""renamed message')


def test_identities_from_a_walk_of_the_folder_serve_for_the_stat(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    path = write_revision(versions, "aaa1", None, "first", age_s=60)
    cache_file = tmp_path / "cache.marshal"

    def walked_scan():
        identities = revision_file_identities([str(versions)], recursive=False)
        return scan_revisions([versions], cache=ScanCache.load(str(cache_file), identities))

    assert [r.message for r in walked_scan().revisions] == ["first"]
    assert ScanCache.load(str(cache_file)).get(str(path)) is not None  # kept as a stat sees it
    write_revision(versions, "aaa1", None, "edited", age_s=30)
    assert [r.message for r in walked_scan().revisions] == ["edited"]


def test_a_same_size_edit_within_the_clock_tick_is_never_served_stale(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    path = versions / "aaa1_.py"
    path.write_text(REVISION.format(message="one", rev="aaa1", down="", down_value="None"))
    stamp = path.stat().st_mtime_ns
    cache_file = tmp_path / "cache.marshal"
    cached_scan(versions, cache_file)

    path.write_text(REVISION.format(message="two", rev="aaa1", down="", down_value="None"))
    os.utime(path, ns=(stamp, stamp))
    assert [r.message for r in cached_scan(versions, cache_file).revisions] == ["two"]
    assert RACY_WINDOW_NS >= 1_000_000_000


def test_deleted_files_disappear_and_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    write_revision(versions, "aaa1", None, "first", age_s=60)
    gone = write_revision(versions, "bbb2", "aaa1", "second", age_s=60)
    cache_file = tmp_path / "cache.marshal"
    cached_scan(versions, cache_file)

    gone.unlink()
    assert [r.revision for r in cached_scan(versions, cache_file).revisions] == ["aaa1"]
    cache_file.write_bytes(b"\x00not marshal data")
    assert [r.revision for r in cached_scan(versions, cache_file).revisions] == ["aaa1"]


def test_diagnostics_are_cached_like_revisions(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    broken = versions / "broken_.py"
    broken.write_bytes(b"revision = 'x\xff\xfe'\n")
    past = broken.stat().st_mtime_ns - 60 * 1_000_000_000
    os.utime(broken, ns=(past, past))
    cache_file = tmp_path / "cache.marshal"

    first = cached_scan(versions, cache_file)
    second = cached_scan(versions, cache_file)
    assert (
        [d.kind for d in first.diagnostics]
        == [d.kind for d in second.diagnostics]
        == ["unreadable"]
    )


def test_the_compile_verdict_is_cached_with_the_header_and_follows_edits(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    path = write_revision(versions, "aaa1", None, "first", age_s=60)
    good = path.read_text()
    path.write_text(good.replace("    pass\n", "    pass(\n"))
    past = path.stat().st_mtime_ns - 60 * 1_000_000_000
    os.utime(path, ns=(past, past))
    cache_file = tmp_path / "cache.marshal"

    first = cached_scan(versions, cache_file)
    cached = ScanCache.load(str(cache_file)).get(str(path))

    assert [d.kind for d in first.diagnostics] == ["syntax_error"]
    assert cached is not None and cached.syntax_error == first.revisions[0].syntax_error
    assert [d.kind for d in cached_scan(versions, cache_file).diagnostics] == ["syntax_error"]
    path.write_text(good)
    os.utime(path, ns=(past, past))
    assert cached_scan(versions, cache_file).diagnostics == []


def test_a_header_only_scan_never_fills_the_cache(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    write_revision(versions, "aaa1", None, "first", age_s=60)
    cache_file = tmp_path / "cache.marshal"

    scan_revisions([versions], cache=ScanCache.load(str(cache_file)), compile_check=False)

    assert ScanCache.load(str(cache_file)).get(str(versions / "aaa1_.py")) is None


def test_a_scanned_revision_survives_pickling_field_for_field() -> None:
    scanned = ScannedRevision(
        "a1",
        ("b2", "c3"),
        path="/v/a1.py",
        branch_labels=("lab",),
        depends_on=("d4",),
        message="m",
        docstring="m\n\nRevision ID: a1",
        revises=("b2",),
        create_date="2024-01-01",
        expressions=(("depends_on", "X"),),
        syntax_error="line 3: bad",
    )

    copy = pickle.loads(pickle.dumps(scanned, pickle.HIGHEST_PROTOCOL))

    assert type(copy) is ScannedRevision
    assert copy._asdict() == scanned._asdict()
