"""An on-disk cache of scanned revision headers that never serves a changed file's old header.

Reading 5,000 files is most of the graph's cost, compiling them (to know that Python can load
each) several times more; a file whose size, modification time and inode are unchanged has the
same header and the same verdict. Files modified in the last two seconds are not cached, so a
coarse file-system clock cannot hide a same-size edit (git's "racily clean" rule).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import time
from collections.abc import Iterable, Mapping

from workbench.core.collector import collector_paused
from workbench.core.files import FileIdentity
from workbench.core.scanned import Diagnostic, ScannedRevision

FORMAT_VERSION = 3
RACY_WINDOW_NS = 2_000_000_000


def default_cache_path(version_locations: Iterable[str]) -> str | None:
    """The cache file for a set of version folders under the user's cache directory.

    ``WORKBENCH_SCAN_CACHE=0`` turns the cache off.
    """
    if os.environ.get("WORKBENCH_SCAN_CACHE", "1") == "0":
        return None
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256("\0".join(sorted(version_locations)).encode()).hexdigest()[:24]
    return os.path.join(root, "migration-workbench", f"scan-{digest}.marshal")


class ScanCache:
    """Headers by file path, each valid only for the file identity it was read from.

    ``identities`` are files' identities read just before (a stat walk of the folders): a
    file found there is not looked at again.
    """

    def __init__(
        self,
        path: str,
        entries: dict[str, tuple[FileIdentity, bool, tuple]],
        identities: Mapping[str, FileIdentity] | None = None,
    ) -> None:
        self.path = path
        self._stored = entries
        self._identities = identities or {}
        self._kept: dict[str, tuple[FileIdentity, bool, tuple]] = {}
        self._waiting: dict[str, FileIdentity] = {}
        self._changed = False

    @classmethod
    def load(cls, path: str, identities: Mapping[str, FileIdentity] | None = None) -> ScanCache:
        """The cache saved at path, or an empty one if it is missing, unreadable or outdated."""
        try:
            with open(path, "rb") as file, collector_paused():
                version, entries = marshal.loads(file.read())
            if version != FORMAT_VERSION or not isinstance(entries, dict):
                entries = {}
        except (OSError, EOFError, ValueError, TypeError):
            entries = {}
        return cls(path, entries, identities)

    def get(self, path: str) -> ScannedRevision | Diagnostic | None:
        """The cached header of an unchanged file; None means: scan it, then ``put`` it."""
        return self.get_many([path])[0]

    def get_many(self, paths: Iterable[str]) -> list[ScannedRevision | Diagnostic | None]:
        """``get`` for each file, in one loop: a warm scan of thousands of files is mostly this."""
        stored, kept, waiting, known = self._stored, self._kept, self._waiting, self._identities
        settled_before = time.time_ns() - RACY_WINDOW_NS
        found: list[ScannedRevision | Diagnostic | None] = []
        for path in paths:
            identity = known.get(path)
            if identity is None:
                try:
                    status = os.stat(path)
                except OSError:
                    found.append(None)
                    continue
                identity = (status.st_mtime_ns, status.st_size, status.st_ino)
            entry = stored.get(path)
            if entry is not None and entry[0] == identity:
                kept[path] = entry
                found.append((ScannedRevision if entry[1] else Diagnostic)._make(entry[2]))
                continue
            if identity[0] < settled_before:  # its modification time
                waiting[path] = identity
            found.append(None)
        return found

    def put(self, path: str, scanned: ScannedRevision | Diagnostic) -> None:
        """Remember a freshly scanned header, unless its file was modified too recently."""
        identity = self._waiting.pop(path, None)
        if identity is None:
            return
        is_revision = isinstance(scanned, ScannedRevision)
        self._kept[path] = (identity, is_revision, tuple(scanned))
        self._changed = True

    def save(self) -> None:
        """Write the entries used or added in this scan, atomically; a failure is ignored."""
        if not self._changed and len(self._kept) == len(self._stored):
            return
        import tempfile

        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".scan-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as file:
                marshal.dump((FORMAT_VERSION, self._kept), file)
            os.replace(temporary, self.path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(temporary)
