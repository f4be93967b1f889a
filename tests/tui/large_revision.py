"""A history with one very large revision: a data migration inserting 100,000 literal rows.

Used by the workbench's responsiveness test and by ``tests/benchmarks/bench_large_revision.py``.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

from tui_revisions import REVISION_TEMPLATE

ROWS = 100_000
LARGE = "b2000000"
"""The id of the large revision; ``a1000000`` before it creates the table, ``c3000000`` follows."""


def _revision(revision: str, down: str | None, message: str, upgrade: str, downgrade: str) -> str:
    return REVISION_TEMPLATE.format(
        message=message,
        revision=revision,
        revises=down or "",
        create_date="2024-03-01 10:00:00.000000",
        down_revision=down,
        branch_labels=None,
        upgrade=textwrap.indent(upgrade, "    "),
        downgrade=textwrap.indent(downgrade, "    "),
    )


def write_large_history(versions: Path, rows: int = ROWS) -> Path:
    """Write three revisions, the middle one ``op.bulk_insert`` of ``rows`` rows; its path."""
    versions.mkdir(parents=True, exist_ok=True)
    people = (
        "op.create_table('people', sa.Column('id', sa.Integer(), primary_key=True),"
        " sa.Column('name', sa.String(64)))"
    )
    (versions / "a1000000_create_people.py").write_text(
        _revision("a1000000", None, "create people", people, "op.drop_table('people')")
    )
    table = (
        "people = sa.table('people', sa.column('id', sa.Integer()), sa.column('name', sa.String()))"
    )
    values = "\n".join(
        f'    {{"id": {row}, "name": "person number {row:06d}"}},' for row in range(1, rows + 1)
    )
    upgrade = f"{table}\nop.bulk_insert(people, [\n{values}\n])"
    large = versions / f"{LARGE}_load_people.py"
    large.write_text(
        _revision(LARGE, "a1000000", "load people", upgrade, "op.execute('DELETE FROM people')")
    )
    pets = "op.create_table('pets', sa.Column('id', sa.Integer(), primary_key=True))"
    (versions / "c3000000_create_pets.py").write_text(
        _revision("c3000000", LARGE, "create pets", pets, "op.drop_table('pets')")
    )
    return large


class StallWatch:
    """Measures the longest time the event loop went without running a 10 ms timer."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.01)
            last = now

    def __enter__(self) -> StallWatch:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
