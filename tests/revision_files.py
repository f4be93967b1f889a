"""The source of a hand-written single-database revision file, for tests that write histories."""

from __future__ import annotations

import textwrap

REVISION = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def revision_source(
    revision: str,
    down_revision: str | tuple[str, ...] | None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    message: str | None = None,
) -> str:
    """A revision file's text; the bodies are dedented and indented into their functions."""
    body = {
        name: textwrap.indent(textwrap.dedent(text).strip() or "pass", "    ")
        for name, text in (("upgrade", upgrade), ("downgrade", downgrade))
    }
    return REVISION.format(
        message=message or revision,
        revision=revision,
        down_revision=down_revision,
        upgrade=body["upgrade"],
        downgrade=body["downgrade"],
    )
