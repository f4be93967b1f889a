"""Revision files are written atomically and never over a file that changed on disk meanwhile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.core.files import FileChangedError, create_file, open_file, save_if_unchanged


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


def test_create_file_writes_a_new_file_and_never_replaces_one(tmp_path):
    path = tmp_path / "abc123_add_users.py"

    created = create_file(str(path), "revision = 'abc123'\n")

    assert path.read_text() == "revision = 'abc123'\n"
    assert created.text == "revision = 'abc123'\n"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_current_umask()
    with pytest.raises(FileChangedError, match="already exists"):
        create_file(str(path), "revision = 'other'\n")
    assert path.read_text() == "revision = 'abc123'\n"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["abc123_add_users.py"]


def _current_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
