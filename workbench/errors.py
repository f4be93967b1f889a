"""The one exception the workbench raises, and the wording of its one-line messages."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A failure explained in one line; raised instead of exiting so callers decide what to show."""


ALEMBIC_HINTS = {
    "Target database is not up to date.": (
        "Target database is not up to date: autogenerate compares the models with a database "
        "at the head, so upgrade it first (the upgrade command, or U in the workbench)"
    ),
}
"""Alembic messages that leave the user guessing, with what to do about them."""


def describe_failure(exc: BaseException, migrations_dir: str | None = None) -> str:
    """One line saying what failed and, for errors raised in a project file, where."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, WorkbenchError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the migration exited with status {exc.code}"
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else f"line {exc.lineno}"
        return f"cannot load {where}: {exc.msg}"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        detail = _first_line(str(exc.orig)) or type(exc.orig).__name__
        statement = _first_line(exc.statement or "")
        if statement:
            return f"database error: {detail} (while running: {statement})"
        return f"database error: {detail}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {_first_line(str(exc))}"
    message = _first_line(str(exc)) or type(exc).__name__
    if type(exc).__module__.startswith("alembic"):
        return ALEMBIC_HINTS.get(message, message)
    location = _project_location(exc, migrations_dir)
    suffix = f" (at {location})" if location else ""
    return f"{type(exc).__name__}: {message}{suffix}"


def _first_line(text: str) -> str:
    """The first non-empty line of text, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _project_location(exc: BaseException, migrations_dir: str | None) -> str | None:
    """The innermost traceback frame inside the migrations folder, as ``path:line``."""
    if migrations_dir is None or exc.__traceback__ is None:
        return None
    import traceback
    from pathlib import Path

    root = Path(migrations_dir).resolve()
    location = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.is_absolute() and root in path.resolve().parents:
            location = f"{path}:{frame.lineno}"
    return location
