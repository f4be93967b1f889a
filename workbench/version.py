"""The workbench's version, importable from anywhere without loading the package's face."""

from __future__ import annotations

__version__ = "0.1.0"
