"""Alembic's Config, taught where our templates live; imported only when a command needs it.

Importing ``alembic.config`` loads Alembic's runtime (a sixth of a second), which the graph
and status commands never need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


class Config(AlembicConfig):
    """Alembic's Config that finds our templates, or a user's template folder when given one."""

    def __init__(self, *args: Any, template_directory: str | None = None, **kwargs: Any) -> None:
        self.template_directory = template_directory
        super().__init__(*args, **kwargs)

    def get_template_directory(self) -> str:
        """The folder holding the templates ``flask db init`` can use."""
        return self.template_directory or str(TEMPLATES_DIR)
