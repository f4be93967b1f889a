"""Writing small revision histories straight into a project's versions folder.

Faster than one ``flask db revision`` per file, and the files look like Alembic's: the same
header, ``upgrade()``/``downgrade()`` bodies with real operations that run on every backend.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

REVISION_TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {revises}
Create Date: {create_date}

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = {branch_labels!r}
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


@dataclass(frozen=True)
class Rev:
    """One revision to write: it creates a table on upgrade and drops it on downgrade."""

    revision: str
    down_revision: str | tuple[str, ...] | None
    message: str
    table: str | None = None
    branch_labels: tuple[str, ...] | None = None
    day: int = 1
    fails: bool = False

    def source(self) -> str:
        """The revision file's text."""
        if self.table is None:
            upgrade = downgrade = "pass"
        else:
            upgrade = (
                f"op.create_table({self.table!r}, sa.Column('id', sa.Integer(), primary_key=True))"
            )
            downgrade = f"op.drop_table({self.table!r})"
        if self.fails:
            upgrade += "\nraise RuntimeError('this revision fails on purpose')"
        down = self.down_revision
        revises = ", ".join(down) if isinstance(down, tuple) else (down or "")
        return REVISION_TEMPLATE.format(
            message=self.message,
            revision=self.revision,
            revises=revises,
            create_date=f"2024-03-{self.day:02d} 10:00:00.000000",
            down_revision=down,
            branch_labels=self.branch_labels,
            upgrade=textwrap.indent(upgrade, "    "),
            downgrade=textwrap.indent(downgrade, "    "),
        )


def write_revisions(versions: Path, revisions: list[Rev]) -> dict[str, Path]:
    """Write each revision as ``<id>_<slug>.py``; returns the path of each revision."""
    versions.mkdir(parents=True, exist_ok=True)
    paths = {}
    for rev in revisions:
        slug = rev.message.lower().replace(" ", "_")[:30]
        path = versions / f"{rev.revision}_{slug}.py"
        path.write_text(rev.source())
        paths[rev.revision] = path
    return paths


TWO_HEADS = [
    Rev("a1000000", None, "create users", table="users", day=1),
    Rev("b2000000", "a1000000", "create accounts", table="accounts", day=2),
    Rev("c3000000", "b2000000", "create posts", table="posts", day=3),
    Rev("d4000000", "b2000000", "create tags", table="tags", branch_labels=("tagging",), day=4),
]
"""A line of two revisions, then two branches: heads c3000000 and d4000000."""


def long_history(count: int) -> list[Rev]:
    """``count`` revisions in one line, oldest first, ids ``r00000``... (no tables)."""
    revisions = []
    for index in range(count):
        down = f"r{index - 1:05d}" if index else None
        revisions.append(Rev(f"r{index:05d}", down, f"step {index}", day=1 + index % 28))
    return revisions
