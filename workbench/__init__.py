"""Migration Workbench: Flask-Migrate's API and ``flask db`` commands, plus a terminal workbench.

Switching from Flask-Migrate is one import: ``from workbench import Migrate``. The command
functions load Alembic on first use, so importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.version import __version__

if TYPE_CHECKING:
    from workbench.extension import (
        Migrate,
        MigrateConfig,
        branches,
        check,
        current,
        downgrade,
        edit,
        heads,
        history,
        init,
        list_templates,
        merge,
        migrate,
        revision,
        show,
        stamp,
        upgrade,
    )

__all__ = [
    "Config",
    "Migrate",
    "MigrateConfig",
    "MigrationStep",
    "WorkbenchError",
    "__version__",
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "migrate",
    "revision",
    "show",
    "stamp",
    "upgrade",
]


_LAZY = frozenset(__all__) - {"Config", "MigrationStep", "WorkbenchError", "__version__"}
"""What ``workbench.extension`` holds: imported when first asked for, so that the ``workbench``
command, which needs none of it, does not import it."""


def __getattr__(name: str) -> Any:
    """Load the extension, ``MigrationStep`` and Alembic's Config when first asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module("workbench.extension"), name)
    if name == "MigrationStep":
        return importlib.import_module("workbench.services.commands").MigrationStep
    if name == "Config":
        return importlib.import_module("workbench.project.config").Config
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
