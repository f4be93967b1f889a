"""The command line, faces only: groups wire click to the services, one module per family.

``options`` holds what every family shares; ``verbs`` (Flask-Migrate's), ``inspection``
(graph, status, the workbench), ``branches`` (merge plan, linearize, doctor) and ``review``
(review, verify) define commands without knowing their group; ``flask_group`` composes them
into ``flask db`` and ``alembic_group`` into the ``workbench`` command. ``db_plugin`` is the
Flask plugin entry point.

The groups are imported on first use, so that ``workbench``, which works on plain Alembic
projects, never imports Flask.
"""

from __future__ import annotations

from typing import Any

__all__ = ["db", "db_plugin"]


def __getattr__(name: str) -> Any:
    """``db`` and ``db_plugin``: the ``flask db`` group, imported when asked for."""
    if name in __all__:
        from workbench.cli import flask_group

        return getattr(flask_group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
