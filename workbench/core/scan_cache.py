"""An on-disk cache of scanned revision headers that never serves a changed file's old header.

Reading 5,000 files is most of the graph's cost, compiling them (to know that Python can load
each) several times more; a file whose size, modification time and inode are unchanged has the
same header and the same verdict. Files modified in the last two seconds are not cached, so a
coarse file-system clock cannot hide a same-size edit (git's "racily clean" rule).

Beside the headers, the cache keeps what was worked out from one whole listing of the folders
(the graph, laid out): served only for exactly the same files, with the same identities, by the
same code. A warm ``graph`` then stats the files and reads one record.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import time
from collections.abc import Callable, Iterable, Mapping

from workbench.core.collector import collector_paused
from workbench.core.files import FileIdentity
from workbench.core.scanned import Diagnostic, ScannedRevision

FORMAT_VERSION = 3
RACY_WINDOW_NS = 2_000_000_000

Listing = tuple[tuple[object, ...], ...]
"""A scan's files in load order: (path, identity) for each, or a diagnostic's fields."""


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
        entries: dict[str, tuple[FileIdentity, bool, tuple]] | None = None,
        identities: Mapping[str, FileIdentity] | None = None,
        derived_by: object = None,
    ) -> None:
        self.path = path
        self.derived_by = derived_by
        """What works out the records ``keep`` stores (the code's own files): None keeps none."""
        self._stored = entries
        self._identities = identities or {}
        self._kept: dict[str, tuple[FileIdentity, bool, tuple]] = {}
        self._waiting: dict[str, FileIdentity] = {}
        self._changed = False

    @classmethod
    def load(
        cls,
        path: str,
        identities: Mapping[str, FileIdentity] | None = None,
        derived_by: object = None,
    ) -> ScanCache:
        """The cache saved at path, read on first use; empty if missing, unreadable or outdated."""
        return cls(path, None, identities, derived_by)

    @property
    def whole_path(self) -> str:
        """The file of the record kept for a whole listing, beside the headers' file."""
        return f"{os.path.splitext(self.path)[0]}-whole.marshal"

    def identities_of(self, paths: Iterable[str]) -> list[FileIdentity | None]:
        """Each file's identity: as given at load, else as a stat sees it now (None: gone)."""
        known = self._identities
        found: list[FileIdentity | None] = []
        for path in paths:
            identity = known.get(path)
            if identity is None:
                try:
                    status = os.stat(path)
                except OSError:
                    found.append(None)
                    continue
                identity = (status.st_mtime_ns, status.st_size, status.st_ino)
            found.append(identity)
        return found

    def recall(self, listing: Listing) -> object:
        """What ``keep`` stored for exactly this listing by the same code; None otherwise."""
        if self.derived_by is None:
            return None
        try:
            with open(self.whole_path, "rb") as file, collector_paused():
                version, derived_by, kept_listing, record = marshal.loads(file.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if version != FORMAT_VERSION or derived_by != self.derived_by or kept_listing != listing:
            return None
        return record

    def keep(self, listing: Listing, record: Callable[[], object]) -> None:
        """Store what ``record()`` works out from this listing, unless a file in it may change.

        A listing with a file gone, or modified within the racy window, is never stored, and
        its record never worked out.
        """
        if self.derived_by is None:
            return
        settled_before = time.time_ns() - RACY_WINDOW_NS
        for item in listing:
            if len(item) == 2:  # a file: (path, identity)
                identity = item[1]
                if identity is None or identity[0] >= settled_before:  # type: ignore[index]
                    return
        self._write(self.whole_path, (FORMAT_VERSION, self.derived_by, listing, record()))

    def _entries(self) -> dict[str, tuple[FileIdentity, bool, tuple]]:
        """The stored headers, read from the file on first use."""
        if self._stored is None:
            try:
                with open(self.path, "rb") as file, collector_paused():
                    version, entries = marshal.loads(file.read())
                if version != FORMAT_VERSION or not isinstance(entries, dict):
                    entries = {}
            except (OSError, EOFError, ValueError, TypeError):
                entries = {}
            self._stored = entries
        return self._stored

    def get(self, path: str) -> ScannedRevision | Diagnostic | None:
        """The cached header of an unchanged file; None means: scan it, then ``put`` it."""
        return self.get_many([path])[0]

    def get_many(
        self,
        paths: Iterable[str],
        identities: Iterable[FileIdentity | None] | None = None,
    ) -> list[ScannedRevision | Diagnostic | None]:
        """``get`` for each file, in one loop: a warm scan of thousands of files is mostly this.

        ``identities`` are the files' identities from ``identities_of``, when already read.
        """
        paths = list(paths)
        if identities is None:
            identities = self.identities_of(paths)
        stored, kept, waiting = self._entries(), self._kept, self._waiting
        settled_before = time.time_ns() - RACY_WINDOW_NS
        found: list[ScannedRevision | Diagnostic | None] = []
        for path, identity in zip(paths, identities, strict=True):
            if identity is None:
                found.append(None)
                continue
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
        if self._stored is None or (not self._changed and len(self._kept) == len(self._stored)):
            return
        self._write(self.path, (FORMAT_VERSION, self._kept))

    def _write(self, path: str, content: object) -> None:
        """Write marshal data to a cache file atomically; a failure is ignored (it is a cache)."""
        import tempfile

        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".scan-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as file:
                marshal.dump(content, file)
            os.replace(temporary, path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(temporary)
