"""A scan split across a forked copy finds exactly what the in-process scan finds."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.core.scan import (
    LARGE_FILE_BYTES,
    PARALLEL_THRESHOLD,
    ScanResult,
    scan_revisions,
    scan_settings,
    start_scan,
)
from workbench.core.scan_cache import ScanCache
from workbench.runtime.forking import Aside, fork_supported

pytestmark = pytest.mark.skipif(not fork_supported(), reason="forking is used on Linux only")

GOOD = '''"""Step {index}

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

# Each breaks the file in a way Python's compile (or decoding) refuses; every one would make
# Alembic refuse the history.
BROKEN: dict[str, Callable[[str, str | None], bytes]] = {
    "missing colon": lambda rev, down: (
        f"revision = {rev!r}\ndown_revision = {down!r}\n\ndef upgrade()\n    pass\n"
    ).encode(),
    "return outside a function": lambda rev, down: (
        f"revision = {rev!r}\ndown_revision = {down!r}\nreturn 1\n"
    ).encode(),
    "late future import": lambda rev, down: (
        f"revision = {rev!r}\ndown_revision = {down!r}\nfrom __future__ import annotations\n"
    ).encode(),
    "not UTF-8": lambda rev, down: (
        f"revision = {rev!r}\ndown_revision = {down!r}\n# caf\xe9\n".encode("latin-1")
    ),
    "null byte": lambda rev, down: f"revision = {rev!r}\0\ndown_revision = {down!r}\n".encode(),
    "unknown id and a syntax error": lambda rev, down: (
        f"import ids\nrevision = ids.make({rev!r})\ndown_revision = {down!r}\nif True\n"
    ).encode(),
}


def write_history(folder: Path, count: int) -> set[str]:
    """A linear history of ``count`` files, every seventh broken; the broken files' names."""
    folder.mkdir()
    broken: set[str] = set()
    kinds = list(BROKEN.values())
    down: str | None = None
    for index in range(count):
        rev = f"{index:04d}aa"
        path = folder / f"{rev}_step.py"
        if index % 7 == 3:
            path.write_bytes(kinds[(index // 7) % len(kinds)](rev, down))
            broken.add(str(path))
        else:
            down_value = repr(down)
            text = GOOD.format(index=index, rev=rev, down=down or "", down_value=down_value)
            path.write_text(text)
        past = path.stat().st_mtime_ns - 60 * 1_000_000_000
        os.utime(path, ns=(past, past))
        down = rev
    return broken


def forked_aside(work: Callable[[], bytes], marker: Path) -> Aside[bytes]:
    """An Aside whose copy leaves its process id in ``marker`` before working."""

    def marked() -> bytes:
        marker.write_text(str(os.getpid()))
        return work()

    return Aside(marked, timeout=30)


def dying_aside(work: Callable[[], bytes], parent: int) -> Aside[bytes]:
    """An Aside whose forked copy dies without an answer, so the work is done here."""

    def dies_in_copy() -> bytes:
        if os.getpid() != parent:
            os._exit(1)
        return work()

    return Aside(dies_in_copy, timeout=30)


def described(result: ScanResult) -> tuple[list, list]:
    return result.revisions, result.diagnostics


def test_the_forked_half_gives_the_in_process_verdicts(tmp_path: Path) -> None:
    count = PARALLEL_THRESHOLD + 101
    versions = tmp_path / "versions"
    broken = write_history(versions, count)
    marker = tmp_path / "forked.pid"

    in_process = scan_revisions([versions])
    forked = scan_revisions([versions], beside=functools.partial(forked_aside, marker=marker))
    fallen_back = scan_revisions(
        [versions], beside=functools.partial(dying_aside, parent=os.getpid())
    )

    assert int(marker.read_text()) != os.getpid()
    assert described(forked) == described(fallen_back) == described(in_process)
    flagged = {d.path for d in in_process.diagnostics if d.kind in ("syntax_error", "unreadable")}
    assert flagged == broken
    # broken files lie in both halves of the load order, where the copy and this process start
    names = sorted(os.listdir(versions))
    assert {names.index(Path(path).name) * 2 // count for path in broken} == {0, 1}


class Done:
    """Work done at once where it is started: a copy that took every file before this process."""

    def __init__(self, work: Callable[[], bytes]) -> None:
        self._result = work()

    def result(self) -> bytes:
        return self._result

    def close(self) -> None:
        pass


class Later:
    """Work done only when its result is taken: this process takes every file first."""

    def __init__(self, work: Callable[[], bytes]) -> None:
        self._work = work

    def result(self) -> bytes:
        return self._work()

    def close(self) -> None:
        pass


@pytest.mark.parametrize("beside", [Done, Later], ids=["copy-took-all", "here-took-all"])
def test_wherever_the_two_meet_the_result_is_the_in_process_one(
    tmp_path: Path, beside: Callable[[Callable[[], bytes]], object]
) -> None:
    versions = tmp_path / "versions"
    write_history(versions, PARALLEL_THRESHOLD + 30)

    shared = scan_revisions([versions], beside=beside)

    assert described(shared) == described(scan_revisions([versions]))


def test_a_scan_started_early_gives_the_same_result(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_history(versions, PARALLEL_THRESHOLD + 30)
    pending = start_scan([versions], beside=functools.partial(Aside, timeout=30))
    other = start_scan([versions], beside=functools.partial(Aside, timeout=30))
    other.close()  # abandoned: its copy is stopped

    assert pending.settings == scan_settings([str(versions)])
    assert described(pending.result()) == described(scan_revisions([versions]))


def test_a_parallel_cold_scan_fills_the_cache_with_the_same_verdicts(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    write_history(versions, PARALLEL_THRESHOLD + 10)
    cache_file = tmp_path / "cache.marshal"
    beside = functools.partial(Aside, timeout=30)

    cold = scan_revisions([versions], cache=ScanCache.load(str(cache_file)), beside=beside)
    warm_cache = ScanCache.load(str(cache_file))
    warm = scan_revisions([versions], cache=warm_cache, beside=beside)

    assert all(warm_cache.get(str(path)) is not None for path in versions.iterdir())
    assert described(warm) == described(cold) == described(scan_revisions([versions]))


def test_a_large_file_is_compiled_beside_even_in_a_small_history(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a_first.py").write_text("revision = 'a'\ndown_revision = None\n")
    rows = "".join(f"    {{'id': {n}, 'name': 'row {n}'}},\n" for n in range(40_000))
    large = versions / "b_data.py"
    large.write_text(
        "revision = 'b'\ndown_revision = 'a'\n\nROWS = [\n" + rows + "]\n\ndef upgrade(:\n"
    )
    assert large.stat().st_size >= LARGE_FILE_BYTES
    marker = tmp_path / "forked.pid"

    forked = scan_revisions([versions], beside=functools.partial(forked_aside, marker=marker))

    # its syntax tree's memory went with the copy, and the verdict is the in-process one
    assert int(marker.read_text()) != os.getpid()
    assert described(forked) == described(scan_revisions([versions]))
    assert [d.path for d in forked.diagnostics if d.kind == "syntax_error"] == [str(large)]
