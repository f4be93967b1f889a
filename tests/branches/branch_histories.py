"""Revision files, histories and database readings for the branch scenarios."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from workbench.core.databases import DatabaseStatus, DatabaseTarget, VersionReading, classify
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import scan_revisions

REVISION_TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {revises}
Create Date: 2026-11-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = {depends_on!r}


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def write_revision(
    folder: Path,
    revision: str,
    down: str | Sequence[str] | None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    message: str | None = None,
    depends_on: str | None = None,
) -> Path:
    """Write a revision file as Flask-Migrate's template does; bodies are indented for you."""
    folder.mkdir(parents=True, exist_ok=True)
    down_revision = tuple(down) if isinstance(down, (list, tuple)) else down
    revises = ", ".join(down_revision) if isinstance(down_revision, tuple) else down_revision
    path = folder / f"{revision}_{(message or revision).replace(' ', '_')}.py"
    path.write_text(
        REVISION_TEMPLATE.format(
            message=message or revision,
            revision=revision,
            revises=revises or "",
            down_revision=down_revision,
            depends_on=depends_on,
            upgrade=textwrap.indent(textwrap.dedent(upgrade).strip(), "    "),
            downgrade=textwrap.indent(textwrap.dedent(downgrade).strip(), "    "),
        )
    )
    return path


def load_graph(folder: Path) -> RevisionGraph:
    """Scan a version folder and build its graph, as the workbench does."""
    scanned = scan_revisions([folder])
    return build_graph(scanned.revisions, scanned.diagnostics)


def database(
    graph: RevisionGraph,
    name: str,
    current: Sequence[str] = (),
    error: str | None = None,
    read_only: bool = False,
    other_tables: int = 0,
) -> DatabaseStatus:
    """A database's status as the workbench classifies a reading of its version table."""
    target = DatabaseTarget(name, f"sqlite:///{name}.sqlite", read_only=read_only)
    reading = VersionReading(
        target,
        revisions=tuple(sorted(current)),
        version_table_exists=bool(current),
        other_tables=other_tables,
        error=error,
    )
    return classify(reading, graph)
