"""Revision files are written atomically and never over a file that changed on disk meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.core.files import FileChangedError, open_file, save_if_unchanged


def test_saving_an_unchanged_file_replaces_it_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "a1_first.py"
    path.write_text("revision = 'a1'\n")
    os.chmod(path, 0o640)
    opened = open_file(str(path))

    saved = save_if_unchanged(opened, "revision = 'a1'\n# reviewed\n")

    assert path.read_text() == "revision = 'a1'\n# reviewed\n"
    assert saved.text == path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a1_first.py"]


def test_a_file_changed_on_disk_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "a1_first.py"
    path.write_text("revision = 'a1'\n")
    opened = open_file(str(path))
    path.write_text("revision = 'a1'\n# someone else's edit\n")

    with pytest.raises(FileChangedError):
        save_if_unchanged(opened, "revision = 'a1'\n# mine\n")

    assert path.read_text() == "revision = 'a1'\n# someone else's edit\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a1_first.py"]


def test_a_deleted_file_is_not_recreated(tmp_path: Path) -> None:
    path = tmp_path / "a1_first.py"
    path.write_text("revision = 'a1'\n")
    opened = open_file(str(path))
    path.unlink()

    with pytest.raises(FileChangedError):
        save_if_unchanged(opened, "revision = 'a1'\n")
    assert not path.exists()
