"""Offline previews run env.py in a scratch working folder, so no file it writes lands in the
project.

Alembic's multidb template writes each engine's offline SQL to ``<name>.sql`` in the working
folder instead of printing it. A preview (the workbench's, not ``--sql`` asked for on the
command line) must not write into the project, so env.py runs in a scratch folder and the
files it wrote there are read back and shown, each under its name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WrittenSql:
    """A file env.py wrote its offline SQL to, read back from the scratch folder."""

    name: str
    text: str


@dataclass(frozen=True)
class _Preview:
    """The scratch folder of a preview, and the files its runs of env.py wrote there."""

    folder: Path
    written: list[WrittenSql]


_PREVIEW: ContextVar[_Preview | None] = ContextVar("offline_preview", default=None)


@contextlib.contextmanager
def offline_preview() -> Iterator[list[WrittenSql]]:
    """Within, env.py's offline runs happen in a scratch folder; the list gets the files that
    each successful run wrote, in the order of their names."""
    with tempfile.TemporaryDirectory(prefix="workbench-offline-") as folder:
        preview = _Preview(Path(folder), [])
        token = _PREVIEW.set(preview)
        try:
            yield preview.written
        finally:
            _PREVIEW.reset(token)


@contextlib.contextmanager
def env_py_working_folder(config: Any, script: Any) -> Iterator[None]:
    """Run env.py in the preview's scratch folder when a preview is on, else where it is.

    What was relative to the project folder stays so: the config files, the script folder
    and the relative entries of ``sys.path`` (``prepend_sys_path = .``) are made absolute for
    the run. The files a run wrote are kept when it succeeds and dropped when it fails.
    """
    preview = _PREVIEW.get()
    if preview is None:
        yield
        return
    folder = preview.folder
    home = os.getcwd()
    script.dir = os.path.join(home, script.dir)
    config_files = {
        name: getattr(config, name, None) for name in ("config_file_name", "toml_file_name")
    }
    for name, path in config_files.items():
        if isinstance(path, str | os.PathLike):
            setattr(config, name, os.path.join(home, path))
    saved_path = list(sys.path)
    sys.path[:] = [
        os.path.join(home, entry) if isinstance(entry, str) else entry for entry in sys.path
    ]
    os.chdir(folder)
    try:
        yield
        preview.written.extend(_files_in(folder))
    finally:
        os.chdir(home)
        sys.path[:] = saved_path
        for name, path in config_files.items():
            if path is not None:
                setattr(config, name, path)
        _empty(folder)


def written_sql_text(written: list[WrittenSql]) -> str:
    """The SQL of the files env.py wrote, each under a comment naming its file."""
    return "".join(
        f"-- env.py writes this to {each.name} (not written by this preview)\n{each.text}\n"
        for each in written
    )


def _files_in(folder: Path) -> list[WrittenSql]:
    """The files under ``folder``, by name relative to it."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return [
        WrittenSql(str(path.relative_to(folder)), path.read_text(errors="replace"))
        for path in files
    ]


def _empty(folder: Path) -> None:
    """Remove everything a run left in the scratch folder."""
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
