"""Reads revision headers (ids, parents, labels, dependencies, message) without importing files.

Alembic imports every revision file to learn five values; real files often fail to import
outside their app and importing thousands of them takes seconds, so this reads the text.
"""

from __future__ import annotations

import ast
import contextlib
import dis
import functools
import importlib.util
import io
import keyword
import marshal
import mmap
import os
import re
import sys
import tokenize
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple, Protocol

from workbench.core.collector import collector_paused
from workbench.core.scanned import Diagnostic, ScannedRevision

if TYPE_CHECKING:
    from workbench.core.files import FileIdentity
    from workbench.core.scan_cache import Listing, ScanCache

HEADER_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")

# Alembic's filters (alembic/script/base.py): which file names in a version folder are
# revision files, and the legacy rule naming a revision after its hex file name.
_SOURCE_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_SOURCELESS_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")
_LEGACY_NAME = re.compile(r"([a-f0-9]+)\.py$")

_STRING = r"""(?:'[^'\\\n]*'|"[^"\\\n]*")"""
_STRINGS = rf"(?:\s*{_STRING}\s*,)*\s*(?:{_STRING}\s*)?"
_VALUE = rf"(?:None|{_STRING}|\({_STRINGS}\)|\[{_STRINGS}\])"
_END = r"[ \t]*(?:\#[^\n]*)?\n"
# an import line may not bind a header name (that would change the header's value), nor
# import ``*`` (which could bind any)
_IMPORTED = r"""(?:(?!revision|branch_labels|depends_on|__doc__)[^\n()\\;\#'"*])"""
# one alternative per header name, each with its own group: a repeated group keeps its last
# capture, which is Python's rule too (the last assignment wins)
_ASSIGNMENTS = "|".join(
    rf"{name}[ \t]*(?::[^=\n]*)?=[ \t]*(?P<{name}>{_VALUE}){_END}" for name in HEADER_FIELDS
)


# The fast path: the usual file shape, a docstring, imports and plain literal assignments.
# Anything else (expressions, escapes, code before the header) goes to the ast path.
@functools.cache
def _header_pattern() -> re.Pattern[str]:
    """The compiled fast-path grammar (compiled on first use: a warm scan reads no file)."""
    return re.compile(
        rf"""
        (?:[ \t]*(?:\#[^\n]*)?\n)*
        (?:(?:\"\"\"(?P<doc2>[^"\\]*(?:"(?!"")[^"\\]*)*)\"\"\"
            |'''(?P<doc1>[^'\\]*(?:'(?!'')[^'\\]*)*)'''){_END})?
        (?:
            {_END}
          | (?:from[ \t]+[\w.]+[ \t]+)?import[ \t]{_IMPORTED}*(?:\#[^\n]*)?\n
          | from[ \t]+[\w.]+[ \t]+import[ \t]*\((?:{_IMPORTED}|\n)*\){_END}
          | {_ASSIGNMENTS}
        )*
        """,
        re.X,
    )


_QUOTED = re.compile(_STRING)
# After the header, any mention of a header name (a later assignment, a loop or ``global``
# binding it) or of a way to rebind names unseen (``globals()``, ``exec``, ``sys.modules``,
# ``import *``) sends the file to the ast path, which decides whether the values are known.
_LATE_MENTION = re.compile(
    r"\b(?:revision|down_revision|branch_labels|depends_on|__doc__"
    r"|globals|vars|locals|exec|eval|setattr|delattr|__import__|__dict__|modules)\b"
    r"|\bimport[ \t]*\*"
)
_REVISES = re.compile(r"^Revises:(.*)$", re.M)
_CREATE_DATE = re.compile(r"^Create Date:(.*)$", re.M)
_CHUNK = 1 << 16
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.M)
# What ``_source_error`` may skip compiling: the opening lines of a file made only of
# statements that compile anywhere on their own, in a grammar narrower than Python's (ASCII
# names that are not keywords nor ``__debug__``, plain strings without escapes, no line joined
# by a backslash). Each line ends where a statement ends, outside any bracket or string.


def _alternatives(words: Iterable[str]) -> str:
    """A regex matching any of the words, as a tree of their shared beginnings (faster)."""
    rests: dict[str, list[str]] = {}
    for word in words:
        rests.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, ends in sorted(rests.items()):
        longer = [end for end in ends if end]
        if not longer:
            branches.append(re.escape(first))
        else:
            optional = "?" if len(longer) < len(ends) else ""
            branches.append(f"{re.escape(first)}(?:{_alternatives(longer)}){optional}")
    return "|".join(branches)


_NAME = (
    rf"(?!(?:{_alternatives([*keyword.kwlist, '__debug__'])})(?![A-Za-z0-9_]))"
    r"[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_])"
)


def _joined(item: str, separator: str, trailing: bool = False) -> str:
    """One or more ``item`` joined by ``separator`` (a trailing one only if ``trailing``).

    The item is written once: after a separator that another item must follow, the next
    character must be able to start one (``item`` starts with a name or ``None``).
    """
    if trailing:
        return rf"(?:{item}(?:[ \t]*{separator}[ \t]*|(?![ \t]*{separator})))+"
    return rf"(?:{item}(?:[ \t]*{separator}[ \t]*(?=[A-Za-z_])|(?![ \t]*{separator})))+"


_DOTTED = rf"(?:{_NAME}(?:\.(?=[A-Za-z_])|(?!\.)))+"
_MODULE_ALIAS = rf"{_DOTTED}(?:[ \t]+as[ \t]+{_NAME})?"
_NAME_ALIAS = rf"{_NAME}(?:[ \t]+as[ \t]+{_NAME})?"
_LINE_END = r"[ \t]*(?:\#[^\n\r\0]*)?\n"
_GAP = r"(?:[ \t\n]|\#[^\n\r\0]*\n)*"  # inside brackets: spaces, line ends, comments
_PLAIN_STRING = r"""(?:'[^'\\\n\r\0]*'|"[^"\\\n\r\0]*")"""
_PLAIN_ITEMS = rf"{_GAP}(?:{_PLAIN_STRING}{_GAP},{_GAP})*(?:{_PLAIN_STRING}{_GAP})?"
_LITERAL = rf"(?:None|True|False|{_PLAIN_STRING}|\({_PLAIN_ITEMS}\)|\[{_PLAIN_ITEMS}\])"
_DOCSTRING = (
    r"""(?:\"\"\"[^"\\\r\0]*(?:"(?!"")[^"\\\r\0]*)*\"\"\""""
    r"""|'''[^'\\\r\0]*(?:'(?!'')[^'\\\r\0]*)*''')"""
)


def _annotation(depth: int) -> str:
    """Names, dotted names and subscripts of them joined by ``|``, nested ``depth`` deep."""
    atom = rf"(?:None(?![A-Za-z0-9_])|{_DOTTED})"
    if depth:
        atom += rf"(?:\[[ \t]*{_joined(_annotation(depth - 1), ',', trailing=True)}\])?"
    return _joined(atom, r"\|")


@functools.cache
def _proven_opening() -> re.Pattern[str]:
    """The compiled grammar of a proven opening (compiled on first use: it takes 15 ms)."""
    return re.compile(
        rf"""
        (?:
            [ \t]*(?:\#[^\n\r\0]*)?\n
          | {_DOCSTRING}{_LINE_END}
          | import[ \t]+{_joined(_MODULE_ALIAS, ",")}{_LINE_END}
          | from[ \t]+(?!__future__[ \t.])(?:\.*{_DOTTED}|\.+)[ \t]+import
            (?:[ \t]+{_joined(_NAME_ALIAS, ",")}
              |[ \t]*\({_GAP}{_joined(_NAME_ALIAS, f"{_GAP},{_GAP}", trailing=True)}{_GAP}\))
            {_LINE_END}
          | {_NAME}(?:[ \t]*:[ \t]*{_annotation(3)})?[ \t]*=[ \t]*{_LITERAL}{_LINE_END}
        )*
        """,
        re.X,
    )


# (``from __future__`` is left out: it is allowed only first.)
# A file naming either is compiled whole: ``global`` and ``__future__`` make a statement's
# verdict depend on the ones before it; a BOM, a NUL, a carriage return or a coding
# declaration would make the text compiled differ from what Python's import reads.
_SPLIT_EXCLUDED = re.compile(rb"global|__future__|coding|\xef\xbb\xbf|\r|\0")
# Checked statement by statement on CPython 3.10 to 3.13; a later compiler compiles whole.
_SPLIT_COMPILE = sys.version_info < (3, 14) and sys.implementation.name == "cpython"
# Below this many unread files, starting a second process costs more than it saves.
PARALLEL_THRESHOLD = 200
# A file this large is compiled in a copy of the process, whose memory is returned when it ends.
LARGE_FILE_BYTES = 1 << 20


class ScanResult:
    """The revisions found, in Alembic's load order, and the files that could not be read."""

    __slots__ = ("diagnostics", "revisions")

    def __init__(self) -> None:
        self.revisions: list[ScannedRevision] = []
        self.diagnostics: list[Diagnostic] = []


class ScriptConfig(NamedTuple):
    """Where a script location keeps its revision files, read from its ``alembic.ini``."""

    script_location: str
    version_locations: tuple[str, ...]
    recursive: bool = False
    sourceless: bool = False


def read_script_config(
    ini_path: str | os.PathLike[str],
    script_location: str | os.PathLike[str] | None = None,
    section: str = "alembic",
) -> ScriptConfig:
    """Read the version folders of a script location the way Alembic's Config does.

    Plain configparser, because importing ``alembic.config`` imports ``alembic.command``
    (a third of a second). ``script_location`` overrides the ini's value, as Flask-Migrate does.
    """
    import configparser

    ini = os.path.abspath(ini_path)
    parser = configparser.ConfigParser({"here": os.path.dirname(ini).replace(os.sep, "/")})
    parser.read(ini, encoding="locale")

    def option(name: str) -> str | None:
        return parser.get(section, name, fallback=None)

    location = (
        os.fspath(script_location) if script_location is not None else option("script_location")
    )
    if location is None:
        raise ValueError(f"no script_location in [{section}] of {ini}")
    folders = _split_locations(option("version_locations"), option)
    if not folders:
        folders = [os.path.join(location, "versions")]
    return ScriptConfig(
        script_location=os.path.abspath(location),
        version_locations=tuple(os.path.abspath(folder) for folder in folders),
        recursive=option("recursive_version_locations") == "true",
        sourceless=option("sourceless") == "true",
    )


def _split_locations(value: str | None, option: Callable[[str], str | None]) -> list[str]:
    """Split ``version_locations`` on ``path_separator`` (or Alembic's legacy spaces/commas)."""
    if not value:
        return []
    separators = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
    for name in ("path_separator", "version_path_separator"):
        separator = option(name)
        if separator is not None:
            if separator not in separators:
                raise ValueError(
                    f"{separator!r} is not a valid value for {name}; "
                    "expected 'space', 'newline', 'os', ':', ';'"
                )
            return [part.strip() for part in value.split(separators[separator]) if part]
    return re.split(r", *|(?: +)", value)


def scan_revisions(
    version_locations: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    sourceless: bool = False,
    cache: ScanCache | None = None,
    compile_check: bool = True,
    beside: StartBeside | None = None,
) -> ScanResult:
    """Scan every revision file of the version folders, in the order Alembic loads them.

    Mirrors ``ScriptDirectory._load_revisions``: sorted names per folder, sub-folders in
    sorted order when recursive, ``__init__`` and lock files skipped, a file reached twice
    read once. With a cache, unchanged files are not read again. ``compile_check`` compiles
    every file as Python's import does (a syntax error anywhere makes Alembic refuse the
    history); only checked results are cached, so a cached file needs no compiling again.
    ``beside`` lets many unread files be scanned partly in another process (``start_scan``).
    """
    return start_scan(
        version_locations, recursive, sourceless, cache, compile_check, beside
    ).result()


def start_scan(
    version_locations: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    sourceless: bool = False,
    cache: ScanCache | None = None,
    compile_check: bool = True,
    beside: StartBeside | None = None,
) -> PendingScan:
    """``scan_revisions`` begun: the files listed and, with ``beside``, scanned over there.

    This process goes on with other work (importing the app) while the copy scans from the
    first unread file on; ``PendingScan.result`` then scans from the last one down until the
    two meet, so the copy takes whatever share the time between gave it.
    """
    seen: set[str] = set()
    pattern = _SOURCELESS_FILE if sourceless else _SOURCE_FILE
    folders = tuple(os.path.abspath(location) for location in version_locations)
    settings = scan_settings(folders, recursive, sourceless, cache, compile_check)
    # each found file in load order: its header, or its index among the files still to read
    found: list[ScannedRevision | Diagnostic | int] = []
    listed: list[str] = []  # the revision files, asked of the cache all at once
    places: list[int] = []  # where each listed file's header goes in ``found``
    with collector_paused():
        for folder in folders:
            if not os.path.isdir(folder):
                found.append(
                    Diagnostic("missing_folder", None, folder, "version location does not exist")
                )
                continue
            for real_path, name in _revision_files(folder, recursive, sourceless):
                match = pattern.match(name)
                if match is None or (sourceless and _shadowed_bytecode(real_path, match)):
                    continue
                if real_path in seen:
                    found.append(
                        Diagnostic(
                            "loaded_twice",
                            None,
                            real_path,
                            "file reached twice through the version locations; read once",
                        )
                    )
                    continue
                seen.add(real_path)
                places.append(len(found))
                found.append(-1)
                listed.append(real_path)
        if cache is None:
            cached: list[ScannedRevision | Diagnostic | None] = [None] * len(listed)
            listing: Listing = ()
        else:
            identities = cache.identities_of(listed)
            listing = _listing(settings, found, listed, identities)
            recalled = cache.recall(listing)
            if recalled is not None:
                return PendingScan(
                    settings, [], _SharedFiles([], False, None), cache, listing, recalled
                )
            cached = cache.get_many(listed, identities)
        unread: list[str] = []
        for place, path, scanned in zip(places, listed, cached, strict=True):
            if scanned is None:
                found[place] = len(unread)
                unread.append(path)
            else:
                found[place] = scanned
    return PendingScan(settings, found, _SharedFiles(unread, compile_check, beside), cache, listing)


def _listing(
    settings: tuple[object, ...],
    found: list[ScannedRevision | Diagnostic | int],
    listed: list[str],
    identities: list[FileIdentity | None],
) -> Listing:
    """What a scan read, for the cache's whole-listing record: the settings, then each item.

    A file is (path, identity); a folder's own diagnostic (missing, reached twice) its fields.
    """
    files = iter(zip(listed, identities, strict=True))
    return (
        settings,
        *(next(files) if isinstance(item, int) else tuple(item) for item in found),
    )


def scan_settings(
    version_locations: Iterable[str | os.PathLike[str]],
    recursive: bool = False,
    sourceless: bool = False,
    cache: ScanCache | str | None = None,
    compile_check: bool = True,
) -> tuple[object, ...]:
    """What makes two scans the same scan: ``PendingScan.settings`` of ``start_scan``'s arguments.

    ``cache`` is the cache or the path of its file.
    """
    folders = tuple(os.path.abspath(location) for location in version_locations)
    cache_path = cache if cache is None or isinstance(cache, str) else cache.path
    return (folders, recursive, sourceless, cache_path, compile_check)


class PendingScan:
    """A scan begun by ``start_scan``; ``result`` finishes it, ``close`` abandons it."""

    def __init__(
        self,
        settings: tuple[object, ...],
        found: list[ScannedRevision | Diagnostic | int],
        unread: _SharedFiles,
        cache: ScanCache | None,
        listing: Listing = (),
        recalled: object = None,
    ) -> None:
        self.settings = settings
        """What was scanned, as ``scan_settings`` says it."""
        self.listing = listing
        """The files listed and their identities (empty without a cache)."""
        self.recalled = recalled
        """What the cache kept for exactly this listing (``ScanCache.keep``); if set, no file
        was read and there is no ``result``."""
        self._found = found
        self._unread = unread
        self._cache = cache

    def result(self) -> ScanResult:
        """The scan's result, exactly the one a scan done here alone gives."""
        if self.recalled is not None:
            raise RuntimeError("this scan was answered by the cache's record: use `recalled`")
        result = ScanResult()
        with collector_paused(), warnings.catch_warnings():
            # compiling repeats the source's own warnings (invalid escapes): not ours to print
            warnings.simplefilter("ignore")
            fresh = self._unread.finish()
            compile_check = self.settings[-1]
            if self._cache is not None and compile_check:
                for path, scanned in zip(self._unread.paths, fresh, strict=True):
                    self._cache.put(path, scanned)
            for item in self._found:
                _add(result, fresh[item] if isinstance(item, int) else item)
        if self._cache is not None:
            self._cache.save()
        return result

    def keep(self, record: Callable[[], object]) -> None:
        """Have the cache keep what ``record()`` works out from this scan's files (``recalled``
        next time); it is called only if the files are settled enough to be kept."""
        if self._cache is not None and self.listing:
            self._cache.keep(self.listing, record)

    def close(self) -> None:
        """Stop the scan beside, if it was not taken."""
        self._unread.close()


class Beside(Protocol):
    """Work started elsewhere (another process), whose result is taken when needed."""

    def result(self) -> bytes:
        """The work's result, however it was obtained."""
        ...

    def close(self) -> None:
        """Stop the work if its result was not taken."""
        ...


StartBeside = Callable[[Callable[[], bytes]], Beside]
"""Starts a piece of work beside this process, e.g. ``functools.partial(forking.Aside, ...)``."""

# Who scans an unread file, one byte per file in memory shared with the forked copy.
_FREE, _THERE, _HERE, _LARGE = 0, 1, 2, 3


class _SharedFiles:
    """Unread files scanned by this process and by a copy beside it, each taking them as it goes.

    Compiling is most of a cold scan's cost and each file is independent, so a second core
    shares it. The copy takes files from the first on, this process (in ``finish``) from the
    last one down; each marks a file as taken in a shared byte before scanning it, so they
    meet wherever their speeds make them meet (a file both take at once is scanned twice, the
    same). The copy sends what it scanned; the result is the in-process one whatever way it
    was scanned. A large file (a data migration of megabytes) is always compiled beside, so
    the memory its syntax tree takes goes with the copy: this process leaves it to the copy,
    which takes every file not taken here.
    """

    def __init__(self, paths: list[str], compile_check: bool, beside: StartBeside | None) -> None:
        self.paths = paths
        self._compile_check = compile_check
        self._claims: mmap.mmap | None = None
        self._started: Beside | None = None
        if beside is None or not compile_check or not paths:
            return
        if len(paths) >= PARALLEL_THRESHOLD:
            claims = mmap.mmap(-1, len(paths))
        else:
            large = [i for i, path in enumerate(paths) if _file_size(path) >= LARGE_FILE_BYTES]
            if not large:
                return
            claims = mmap.mmap(-1, len(paths))
            claims.write(bytes([_HERE]) * len(paths))
            for index in large:
                claims[index] = _LARGE
        _proven_opening()  # compiled once, before the copy is made
        self._claims = claims
        self._started = beside(functools.partial(_scan_claimed, paths, claims, compile_check))

    def finish(self) -> list[ScannedRevision | Diagnostic]:
        """Every file's header, in order: scanned here from the last down, or taken from beside."""
        if self._started is None or self._claims is None:
            return [scan_file(path, self._compile_check) for path in self.paths]
        claims = self._claims
        here: dict[int, ScannedRevision | Diagnostic] = {}
        try:
            for index in range(len(self.paths) - 1, -1, -1):
                claim = claims[index]
                if claim == _THERE:
                    break
                if claim == _FREE and _file_size(self.paths[index]) < LARGE_FILE_BYTES:
                    claims[index] = _HERE
                    here[index] = scan_file(self.paths[index], self._compile_check)
                elif claim == _HERE and index not in here:
                    here[index] = scan_file(self.paths[index], self._compile_check)
            there = _unpacked(self._started.result())
        finally:
            self.close()
        return [here[index] if index in here else there[index] for index in range(len(self.paths))]

    def close(self) -> None:
        """Stop the copy if its result was not taken."""
        started, self._started = self._started, None
        if started is not None:
            started.close()


def _file_size(path: str) -> int:
    """The file's size in bytes, 0 when it cannot be read (``scan_file`` reports that)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _scan_claimed(paths: list[str], claims: mmap.mmap, compile_check: bool) -> bytes:
    """Beside: scan every file this process has not taken, first to last, as marshal data.

    Marshal costs half of pickling the records. Run here instead (the copy failed), it
    scans whatever this process left, whoever had marked it.
    """
    scanned: dict[int, tuple[bool, tuple]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, path in enumerate(paths):
            claim = claims[index]
            if claim == _HERE:
                continue
            if claim == _FREE:
                claims[index] = _THERE
            header = scan_file(path, compile_check)
            scanned[index] = (isinstance(header, ScannedRevision), tuple(header))
    return marshal.dumps(scanned)


def _unpacked(data: bytes) -> dict[int, ScannedRevision | Diagnostic]:
    """The headers ``_scan_claimed`` sent, by index."""
    return {
        index: (ScannedRevision if is_revision else Diagnostic)._make(values)
        for index, (is_revision, values) in marshal.loads(data).items()
    }


def _add(result: ScanResult, scanned: ScannedRevision | Diagnostic) -> None:
    """Add a scanned file to the result, with a diagnostic for each value it leaves unknown."""
    if isinstance(scanned, Diagnostic):
        result.diagnostics.append(scanned)
        return
    result.revisions.append(scanned)
    if scanned.syntax_error is not None:
        result.diagnostics.append(
            Diagnostic("syntax_error", scanned.revision, scanned.path, scanned.syntax_error)
        )
    for name, text in scanned.expressions:
        result.diagnostics.append(
            Diagnostic(
                UNKNOWN_HEADER_KINDS[name],
                scanned.revision,
                scanned.path,
                f"{name} = {_shortened(text)} is not a literal: its value is unknown without "
                "running the file",
            )
        )


# The diagnostic kind for each header whose value the scanner cannot know.
UNKNOWN_HEADER_KINDS = {
    "revision": "unknown_id",
    "down_revision": "unknown_parents",
    "branch_labels": "unknown_labels",
    "depends_on": "unknown_dependencies",
}


def _shortened(text: str, limit: int = 60) -> str:
    """An expression's source on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _revision_files(folder: str, recursive: bool, sourceless: bool) -> list[tuple[str, str]]:
    """(real path, file name) of every file Alembic's ``_list_py_dir`` lists, in its order."""
    listed: list[tuple[str, str]] = []
    pending = [folder]
    while pending:
        root = pending.pop()
        real_root = os.path.realpath(root)
        files: list[os.DirEntry[str]] = []
        folders: list[str] = []
        with os.scandir(root) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if not is_dir:
                    files.append(entry)
                elif not entry.is_symlink():
                    folders.append(entry.name)
        if os.path.basename(root).endswith("__pycache__"):
            continue
        files.sort(key=lambda entry: entry.name)
        prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
        for entry in files:
            name = entry.name
            listed.append(
                (os.path.realpath(entry.path) if entry.is_symlink() else prefix + name, name)
            )
        if sourceless:
            listed.extend(_bytecode_files(root, {entry.name.split(".")[0] for entry in files}))
        if not recursive:
            break
        pending.extend(os.path.join(root, name) for name in sorted(folders, reverse=True))
    return listed


def _bytecode_files(root: str, source_stems: set[str]) -> list[tuple[str, str]]:
    """The ``__pycache__`` files of a folder that have no source beside them (sourceless mode)."""
    cache = os.path.join(root, "__pycache__")
    if not os.path.isdir(cache):
        return []
    names = sorted(name for name in os.listdir(cache) if name.split(".")[0] not in source_stems)
    return [(os.path.realpath(os.path.join(cache, name)), name) for name in names]


def _shadowed_bytecode(path: str, match: re.Match[str]) -> bool:
    """True for a ``.pyc``/``.pyo`` that Alembic skips because its source (or ``.pyc``) exists."""
    if match.group(2) is None:
        return False
    source = os.path.join(os.path.dirname(path), match.group(1))
    return os.path.exists(source) or (match.group(2) == "o" and os.path.exists(source + "c"))


def scan_file(path: str, compile_check: bool = True) -> ScannedRevision | Diagnostic:
    """Read one revision file's header; a file that cannot be read becomes a diagnostic.

    With ``compile_check``, the whole file is compiled as Python's import compiles it.
    """
    try:
        data = _read_bytes(path)
    except OSError as error:
        return Diagnostic("unreadable", None, path, f"cannot read the file: {error.strerror}")
    if path.endswith((".pyc", ".pyo")):
        return _scan_bytecode(data, path)
    try:
        text = _decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        return Diagnostic("unreadable", None, path, f"not a readable Python source: {error}")
    scanned = scan_source(text, path)
    if compile_check and isinstance(scanned, ScannedRevision):
        error = _source_error(data, text, path)
        if error is not None:
            scanned = scanned._replace(syntax_error=error)
    elif compile_check and scanned.kind == "unknown_id":
        error = compile_error(data, path)
        if error is not None:
            return Diagnostic("unreadable", None, path, error)
    return scanned


def compile_error(source: bytes | str, path: str) -> str | None:
    """Why Python's import would fail to compile this source, or None when it compiles.

    The same call as ``importlib``'s ``source_to_code``; it also finds what parsing alone
    misses (``return`` outside a function, a bad ``__future__`` import).
    """
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        line = f" (line {error.lineno})" if error.lineno else ""
        return f"syntax error: {error.msg}{line}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        return f"does not compile: {error}"
    return None


def _source_error(data: bytes, text: str, path: str) -> str | None:
    """``compile_error`` of a UTF-8 source, compiling only what follows its proven opening.

    The opening lines that ``_PROVEN`` matches (comments, strings, plain imports, names bound
    to literals) compile on their own, and they end at a statement boundary; a statement
    after them can fail only on its own, unless it refers back through ``global`` or
    ``__future__``, so files naming either are compiled whole. Only a clean result is taken
    from the rest: any error is confirmed (and worded, with its line) by compiling the file.
    A large file is compiled whole at once: its opening saves next to nothing, and a broken
    one would be compiled twice (a data migration of megabytes, seconds more).
    """
    if _SPLIT_COMPILE and len(data) < LARGE_FILE_BYTES and not _SPLIT_EXCLUDED.search(data):
        start = min(_proven_opening().match(text).end(), len(text))
        if start:
            try:
                compile(text[start:], path, "exec", dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
                pass
            else:
                return None
    return compile_error(data, path)


def _read_bytes(path: str) -> bytes:
    """The file's bytes through the raw OS calls, four times faster than ``open`` per file."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = [os.read(descriptor, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:
            chunks.append(os.read(descriptor, _CHUNK))
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def _decode(data: bytes) -> str:
    """Decode source bytes as Python does: UTF-8 unless a coding cookie says otherwise."""
    head_end = data.find(b"\n", data.find(b"\n") + 1)
    if head_end < 0:
        head_end = len(data)
    if data.find(b"coding", 0, head_end) != -1 and _CODING.search(data, 0, head_end):
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).removeprefix("\ufeff")
    return data.decode("utf-8").removeprefix("\ufeff")


def scan_source(text: str, path: str = "") -> ScannedRevision | Diagnostic:
    """Read the header from a revision file's text: the fast regex path, else the ast path."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        return Diagnostic("unreadable", None, path, "source code contains null bytes")
    if not text.endswith("\n"):
        text += "\n"
    header = _fast_header(text)
    if header is None:
        header = _ast_header(text, path)
        if isinstance(header, str):
            return Diagnostic("unreadable", None, path, header)
    values, expressions, doc = header
    return _build(values, expressions, doc, path)


_Header = tuple[dict[str, object], dict[str, str], str | None]


def _fast_header(text: str) -> _Header | None:
    """Read the usual file shape with one regex, or None when the file needs the ast path."""
    match = _header_pattern().match(text)
    doc2, doc1, revision, *values = match.group("doc2", "doc1", *HEADER_FIELDS)
    if revision is None or revision[0] not in "'\"":
        return None
    if _LATE_MENTION.search(text, match.end()):
        return None
    header: dict[str, object] = {"revision": sys.intern(revision[1:-1])}
    for name, value in zip(HEADER_FIELDS[1:], values, strict=True):
        if value is not None:
            header[name] = _literal_text(value)
    return header, {}, doc2 if doc2 is not None else doc1


def _literal_text(value: str) -> object:
    """The value of a literal the fast path accepted: None, a string, or a tuple of strings."""
    if value == "None":
        return None
    if value[0] in "([":
        return tuple(sys.intern(quoted[1:-1]) for quoted in _QUOTED.findall(value))
    return sys.intern(value[1:-1])


class _NotLiteral(Exception):
    """Raised for a value that is not a literal (nor a name bound to one); also marks one."""


def _ast_header(text: str, path: str) -> _Header | str:
    """Read the header from the syntax tree: module-level assignments, last one wins.

    A header name bound any other way (in a loop, a ``with``, an ``if``, by ``import *``,
    ``global`` in a function) or a module that can rebind names unseen (``globals()``,
    ``exec``, ``sys.modules``) leaves the value unknown: it is kept as text, never guessed.
    """
    try:
        tree = ast.parse(text, filename=path or "<revision>")
    except SyntaxError as error:
        return f"syntax error: {error.msg} (line {error.lineno})"
    doc = ast.get_docstring(tree, clean=False)
    constants: dict[str, object] = {}
    values: dict[str, object] = {}
    expressions: dict[str, str] = {}
    wanted = (*HEADER_FIELDS, "__doc__")

    def unknown(names: Iterable[str], source: str) -> None:
        for name in names:
            constants.pop(name, None)
            if name in wanted:
                values.pop(name, None)
                expressions[name] = source

    reads = _namespace_reads(tree)
    for statement in tree.body:
        source = ast.get_source_segment(text, statement) or "?"
        if any(
            _rebinds_unseen(item, reads, module_level=True) for item in _outside_scopes(statement)
        ):
            unknown(wanted, source)
            continue
        if isinstance(statement, ast.Assign):
            targets, value_node = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value_node = [statement.target], statement.value
        else:
            unknown(_module_bindings(statement), source)
            continue
        unknown(_module_bindings(value_node), source)
        try:
            value: object = _evaluate(value_node, constants)
        except _NotLiteral:
            value = _NotLiteral
        value_source = ast.get_source_segment(text, value_node) or "?"
        unpacked, others = _unpack(targets, value)
        unknown(others, source)
        for target, target_value in unpacked:
            if target_value is _NotLiteral:
                unknown([target], value_source)
            else:
                constants[target] = target_value
                if target in wanted:
                    values[target] = target_value
                    expressions.pop(target, None)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            unknown([name for name in node.names if name in wanted], f"global {node.names[0]}")
        elif _rebinds_unseen(node, reads):
            unknown(wanted, ast.get_source_segment(text, node) or "?")
    if "__doc__" in values:
        doc_value = values.pop("__doc__")
        doc = doc_value if isinstance(doc_value, str) else None
    elif "__doc__" in expressions:
        doc = None
    expressions.pop("__doc__", None)
    return values, expressions, doc


# Calls that can bind module names without naming them, and attributes reaching the module's
# namespace; ``setattr`` counts only outside functions (data migrations use it on rows).
_UNSEEN_BINDERS = frozenset({"exec", "eval", "__import__"})
_MODULE_LEVEL_BINDERS = frozenset({"setattr", "delattr"})
_NAMESPACES = frozenset({"globals", "vars", "locals"})
_READING_METHODS = frozenset({"get", "keys", "values", "items", "copy"})
_NAMESPACE_ATTRIBUTES = frozenset({"modules", "__dict__"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _rebinds_unseen(node: ast.AST, reads: set[int], module_level: bool = False) -> bool:
    """True when ``node`` may bind module names that no assignment shows.

    ``globals()`` only read (``globals()["upgrade_%s" % name]()``, as multi-database templates
    do) binds nothing: ``reads`` holds the ids of such calls; ``vars(row)`` is not the module.
    """
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        return (
            name in _UNSEEN_BINDERS
            or (module_level and name in _MODULE_LEVEL_BINDERS)
            or (name in _NAMESPACES and not node.args and id(node) not in reads)
        )
    if isinstance(node, ast.Attribute):
        return node.attr in _NAMESPACE_ATTRIBUTES
    return isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)


def _namespace_reads(tree: ast.AST) -> set[int]:
    """The ids of ``globals()``-like calls whose result is only read, never changed."""
    reads: set[int] = set()
    for node in ast.walk(tree):
        read = (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)) or (
            isinstance(node, ast.Attribute) and node.attr in _READING_METHODS
        )
        if read:
            reads.add(id(node.value))
    return reads


def _outside_scopes(node: ast.AST) -> list[ast.AST]:
    """``node`` and what it contains that runs at module level: not the bodies of functions.

    Decorators, default values and base classes run where they are written, so they count.
    """
    found: list[ast.AST] = []
    pending = [node]
    while pending:
        item = pending.pop()
        found.append(item)
        if isinstance(item, _SCOPES):
            pending.extend(_evaluated_at_definition(item))
            continue
        pending.extend(ast.iter_child_nodes(item))
    return found


def _evaluated_at_definition(scope: ast.AST) -> list[ast.AST]:
    """The parts of a function, class or lambda evaluated when it is defined."""
    parts: list[ast.AST] = []
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        parts.extend(scope.decorator_list)
    if isinstance(scope, ast.ClassDef):
        parts.extend(scope.bases)
        parts.extend(keyword.value for keyword in scope.keywords)
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        parts.extend(scope.args.defaults)
        parts.extend(default for default in scope.args.kw_defaults if default is not None)
    return parts


def _module_bindings(node: ast.AST) -> list[str]:
    """Every module-level name a statement or expression binds (or deletes), however.

    Assignments anywhere in it (``for``, ``with ... as``, ``except ... as``, ``:=``, ``del``,
    ``match`` captures), imports, and the names of functions and classes it defines.
    """
    names: list[str] = []
    for item in _outside_scopes(node):
        if isinstance(item, ast.Name) and isinstance(item.ctx, (ast.Store, ast.Del)):
            names.append(item.id)
        elif isinstance(item, ast.alias):
            names.append((item.asname or item.name).split(".")[0])
        elif isinstance(item, ast.Attribute) and isinstance(item.ctx, ast.Store):
            names.append(item.attr)
        elif isinstance(item, _NAMED_BINDERS):
            name = item.rest if isinstance(item, ast.MatchMapping) else item.name
            if name:
                names.append(name)
    return names


_NAMED_BINDERS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.ExceptHandler,
    ast.MatchAs,
    ast.MatchStar,
    ast.MatchMapping,
)


def _unpack(targets: list[ast.expr], value: object) -> tuple[list[tuple[str, object]], list[str]]:
    """Pair each assigned name with its value, unpacking ``a, b = 'x', 'y'``.

    Names bound by a target that is not a plain name or a flat tuple of names (starred,
    nested, attributes) come second: their values are not followed.
    """
    pairs: list[tuple[str, object]] = []
    others: list[str] = []
    for target in targets:
        if isinstance(target, ast.Name):
            pairs.append((target.id, value))
        elif isinstance(target, (ast.Tuple, ast.List)) and all(
            isinstance(element, ast.Name) for element in target.elts
        ):
            names = [element.id for element in target.elts if isinstance(element, ast.Name)]
            if isinstance(value, (tuple, list)) and len(value) == len(names):
                pairs.extend(zip(names, value, strict=True))
            else:
                pairs.extend((name, _NotLiteral) for name in names)
        else:
            others.extend(_module_bindings(target))
    return pairs, others


def _evaluate(node: ast.expr, constants: dict[str, object]) -> object:
    """Evaluate a literal, allowing names bound to literals earlier in the module."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_evaluate(element, constants) for element in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    raise _NotLiteral


def _scan_bytecode(data: bytes, path: str) -> ScannedRevision | Diagnostic:
    """Read the header from a compiled file (sourceless mode) through its module-level code."""
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return Diagnostic("unreadable", None, path, "bytecode of another Python version")
    try:
        code = marshal.loads(data[16:])
    except (EOFError, ValueError, TypeError) as error:
        return Diagnostic("unreadable", None, path, f"damaged bytecode: {error}")
    values: dict[str, object] = {}
    expressions: dict[str, str] = {}
    previous: dis.Instruction | None = None
    for instruction in dis.get_instructions(code):
        name = instruction.argval
        if instruction.opname == "STORE_NAME" and name in (*HEADER_FIELDS, "__doc__"):
            if previous is not None and previous.opname == "LOAD_CONST":
                values[name] = previous.argval
                expressions.pop(name, None)
            else:
                values.pop(name, None)
                expressions[name] = "<compiled expression>"
        previous = instruction
    doc = values.pop("__doc__", None)
    expressions.pop("__doc__", None)
    return _build(values, expressions, doc if isinstance(doc, str) else None, path)


def _build(
    values: dict[str, object], expressions: dict[str, str], doc: str | None, path: str
) -> ScannedRevision | Diagnostic:
    """Turn raw header values into a ScannedRevision, or a diagnostic when it has no identity.

    Values are read as Alembic's ``Script`` and ``Revision`` read them; a value Alembic
    cannot use makes the file a diagnostic, a value not known stays in ``expressions``.
    """
    if "revision" in expressions:
        return Diagnostic(
            "unknown_id",
            None,
            path,
            f"revision = {_shortened(expressions['revision'])} is not a literal: the revision "
            "id is unknown without running the file",
        )
    if "revision" in values:
        revision = values["revision"]
        if not isinstance(revision, str):
            return Diagnostic(
                "unreadable", None, path, f"the revision id {revision!r} is not a plain string"
            )
    else:
        legacy = _LEGACY_NAME.match(os.path.basename(path))
        if legacy is None:
            return Diagnostic("unreadable", None, path, "no `revision = ...` assignment")
        revision = legacy.group(1)
    if "down_revision" not in values and "down_revision" not in expressions:
        return Diagnostic("unreadable", revision, path, "no `down_revision = ...` assignment")
    parents = _parent_ids(values.get("down_revision"))
    dependencies = _dependency_ids(values.get("depends_on"))
    for name, ids in (("down_revision", parents), ("depends_on", dependencies)):
        if ids is None:
            return Diagnostic(
                "unreadable",
                revision,
                path,
                f"{name} = {values[name]!r} names no revision id; Alembic cannot load it",
            )
    if not parents and _empty_dependencies(values.get("depends_on")):
        return Diagnostic(
            "empty_dependency",
            revision,
            path,
            f"depends_on = {values['depends_on']!r} on a revision without down_revision: "
            "Alembic reports a dependency cycle and cannot load the history",
        )
    labels = _label_names(values.get("branch_labels"))
    if labels is None:
        expressions.setdefault("branch_labels", repr(values["branch_labels"]))
        labels = ()
    longdoc = _module_doc(doc).strip() if doc else ""
    revises = _REVISES.search(longdoc)
    create_date = _CREATE_DATE.search(longdoc)
    return ScannedRevision(
        revision=revision,
        down_revision=parents or (),
        path=path,
        branch_labels=labels,
        depends_on=dependencies or (),
        message=longdoc.split("\n\n", 1)[0],
        docstring=longdoc,
        revises=_revises_ids(revises.group(1)) if revises else None,
        create_date=create_date.group(1).strip() if create_date else None,
        expressions=(
            tuple((name, expressions[name]) for name in HEADER_FIELDS if name in expressions)
            if expressions
            else ()
        ),
    )


def _parent_ids(value: object) -> tuple[str, ...] | None:
    """``down_revision`` as Alembic reads it: None or ``[None]`` is a base, else ids.

    None when Alembic cannot use it (a number, bytes, a sequence of non-strings).
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and value[0] is None:
            return ()
        if all(isinstance(item, str) for item in value):
            return tuple(value)
    return None


def _dependency_ids(value: object) -> tuple[str, ...] | None:
    """``depends_on`` as Alembic reads it: a single empty or false value means none."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(items) == 1 and not items[0]:
        return ()
    if all(isinstance(item, str) for item in items):
        return items
    return None


def _empty_dependencies(value: object) -> bool:
    """True for a ``depends_on`` Alembic keeps as an empty value that is not None (``''``).

    Such a revision is neither a base nor anything's dependent to Alembic, which then
    finds no "real base" and refuses the history as a dependency cycle.
    """
    if value is None:
        return False
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return len(items) == 1 and items[0] is not None and not items[0]


def _label_names(value: object) -> tuple[str, ...] | None:
    """``branch_labels`` as names; None for labels that are not strings (not modelled here)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _revises_ids(text: str) -> tuple[str, ...]:
    """The ids a docstring's ``Revises:`` names, in any notation Alembic's templates wrote.

    ``a, b`` (today's), ``('a', 'b')`` and ``None`` (older templates), or nothing for a base.
    """
    value = text.strip()
    if value in ("", "None", "()", "[]"):
        return ()
    if value[0] in "([":
        with contextlib.suppress(ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            parsed = ast.literal_eval(value)
            if isinstance(parsed, (tuple, list)) and all(isinstance(i, str) for i in parsed):
                return tuple(parsed)
        value = value[1:-1] if value[-1] in ")]" else value[1:]
    parts = (part.strip().strip("'\"").strip() for part in value.split(","))
    return tuple(part for part in parts if part and part != "None")


if sys.version_info >= (3, 13):

    def _module_doc(raw: str) -> str:
        """The module's ``__doc__`` for a raw docstring: Python 3.13+ compilers dedent it.

        Alembic reads ``module.__doc__``, so the message must follow the running interpreter.
        """
        lines = raw.expandtabs().split("\n")
        margin = min(
            (len(line) - len(line.lstrip(" ")) for line in lines[1:] if line.lstrip(" ")),
            default=0,
        )
        cleaned = [lines[0].lstrip(" ")]
        for line in lines[1:]:
            cleaned.append(line[min(margin, len(line) - len(line.lstrip(" "))) :])
        return "\n".join(cleaned)

else:

    def _module_doc(raw: str) -> str:
        """The module's ``__doc__`` for a raw docstring: before Python 3.13, the raw text."""
        return raw
