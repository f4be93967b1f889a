"""What a scan of revision files finds: each file's header, or a problem with the file.

Plain records with no behaviour, shared by the scanner, its on-disk cache and the graph. They
are named tuples: a warm scan makes thousands of them, three times quicker than frozen
dataclasses, and the class costs a tenth as much to define when a command starts.
"""

from __future__ import annotations

from typing import NamedTuple


class Diagnostic(NamedTuple):
    """A problem found in the revision files, kept as data so that it is shown, not raised."""

    kind: str
    revision: str | None
    path: str | None
    message: str


class ScannedRevision(NamedTuple):
    """The header of one revision file, as Alembic would read it from the imported module.

    Values that are expressions (``branch_labels = (cli.EXPAND_BRANCH,)``) cannot be known
    without running the file, so their field stays empty and ``expressions`` keeps their text.
    ``revises`` is the docstring's ``Revises:`` line read as revision ids. ``syntax_error``
    says why the file does not compile (Python, and so Alembic, cannot load it).
    """

    revision: str
    down_revision: tuple[str, ...]
    path: str = ""
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str = ""
    docstring: str = ""
    revises: tuple[str, ...] | None = None
    create_date: str | None = None
    expressions: tuple[tuple[str, str], ...] = ()
    syntax_error: str | None = None
