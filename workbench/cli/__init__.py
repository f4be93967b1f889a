"""The command line, faces only: groups wire click to the services, one module per family.

``options`` holds what every family shares; ``verbs`` (Flask-Migrate's), ``inspection``
(graph, status, the workbench), ``branches`` (merge plan, linearize, doctor) and ``review``
(review, verify) define commands without knowing their group; ``flask_group`` composes them
into ``flask db``. ``db_plugin`` is the Flask plugin entry point.
"""

from __future__ import annotations

from workbench.cli.flask_group import db, db_plugin

__all__ = ["db", "db_plugin"]
