"""Reading a revision file and writing it back atomically, only if nobody changed it meanwhile.

The built-in editor holds a file for minutes; another editor, a ``git pull`` or a formatter
may rewrite it in that time, and saving must never throw their work away silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from typing import NamedTuple


class FileChangedError(Exception):
    """The file on disk is no longer the one that was opened; nothing was written."""


class OpenedFile(NamedTuple):
    """A file's text as it was read, with what identifies that version on disk."""

    path: str
    text: str
    mtime_ns: int
    size: int


def open_file(path: str) -> OpenedFile:
    """Read a text file and remember which version of it was read."""
    with open(path, encoding="utf-8", newline="") as file:
        text = file.read()
    info = os.stat(path)
    return OpenedFile(path=path, text=text, mtime_ns=info.st_mtime_ns, size=info.st_size)


def save_if_unchanged(opened: OpenedFile, text: str) -> OpenedFile:
    """Write ``text`` atomically over the file, unless the file changed since it was opened.

    The check compares the content, not only the modification time: a tool that rewrites a
    file with the same bytes is no conflict, and a change within the clock's resolution is.
    """
    try:
        current = open_file(opened.path)
    except FileNotFoundError as exc:
        raise FileChangedError(f"{opened.path} was deleted since it was opened") from exc
    if current.text != opened.text:
        raise FileChangedError(
            f"{opened.path} changed on disk since it was opened; your text was not written"
        )
    import tempfile  # here, not at the top: `graph` and `status` read files and never write

    folder = os.path.dirname(os.path.abspath(opened.path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".workbench-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temporary, os.stat(opened.path).st_mode & 0o7777)
        os.replace(temporary, opened.path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return open_file(opened.path)


def create_file(path: str, text: str) -> OpenedFile:
    """Write a new file atomically; refuse, writing nothing, when the path already exists.

    The text goes to a temporary file in the same folder (created with the umask's usual
    permissions), which is then hard-linked to its name: the link fails if anything appeared
    there meanwhile, so no file is ever replaced and no half-written file is ever seen.
    """
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".workbench-{uuid.uuid4().hex}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        try:
            os.link(temporary, path)
        except FileExistsError as exc:
            raise FileChangedError(f"{path} already exists; nothing was written") from exc
    finally:
        os.unlink(temporary)
    return open_file(path)


FileIdentity = tuple[int, int, int]
"""A file's (modification time in ns, size, inode): another identity means another content."""


def revision_file_identities(folders: Iterable[str], recursive: bool) -> dict[str, FileIdentity]:
    """The identity of every ``.py`` file in the version folders, by path.

    One ``scandir`` per folder: a few milliseconds for thousands of files, cheap enough to poll
    for what was added, removed or changed.
    """
    found: dict[str, FileIdentity] = {}
    pending = list(folders)
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    if recursive and entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    found[entry.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                continue
    return found
