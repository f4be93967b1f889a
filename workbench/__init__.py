"""Migration Workbench: Flask-Migrate's API and ``flask db`` commands, plus a terminal workbench.

Switching from Flask-Migrate is one import: ``from workbench import Migrate``.
"""

from workbench.commands import (
    MigrationStep,
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
from workbench.errors import WorkbenchError
from workbench.extension import Config, Migrate, MigrateConfig

__version__ = "0.1.0"

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
