"""``flask db tui`` in two processes at start-up: a forked child loads the app, this one the rest.

Importing the Flask app (SQLAlchemy with it) takes as long as importing Textual, and scanning
the history nearly as long again. A child forked before either loads the app, describes its
project and reads the databases' version tables, while the parent imports Textual and scans the
migrations folder the app most likely uses; the child sends back a few small objects (pickled;
a history it scanned itself is ``marshal`` data left in shared memory), and the workbench's
first frame shows the graph and the databases. The parent never imports the app, nor
SQLAlchemy, to draw it. Only on Linux, where forking while no thread runs is safe; with
``WORKBENCH_TUI_FORK=0``, or elsewhere, everything happens in one process as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import mmap
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.core.databases import classify, read_versions
from workbench.core.scan import ScriptConfig
from workbench.project import MigrationProject, read_folders
from workbench.runtime.forking import ForkedJob, Send, fork_supported
from workbench.tui.history import History, Preloaded, load_history

if TYPE_CHECKING:
    from workbench.project import LoadedProject

FORK_VARIABLE = "WORKBENCH_TUI_FORK"
"""``0`` starts the workbench in one process, as on platforms without a safe ``fork``."""
STATUS_WAIT = 0.25
"""Seconds to wait for the version tables once the graph is ready; later, the app reads them."""
_scanned_here = mmap.mmap(-1, 1)
"""One byte shared with the forked child (a fork keeps the mapping): set once this process
scans the likely folder itself, which spares the child scanning it too."""
HISTORY_ROOM_BYTES = 64 << 20
"""Shared memory the child leaves its history in (some 140,000 revisions); a larger history
crosses the pipe. Only the pages written are ever allocated."""
_history_room: list[mmap.mmap | None] = [None]
"""The shared memory of the child being waited for, made before it is forked."""


class Failed(NamedTuple):
    """The app or its project could not be loaded: the one-line reason."""

    error: str


class StepAside:
    """The app has a ``db`` command of its own, which ``flask db`` must run instead."""


def fork_available() -> bool:
    """True on Linux while no other thread runs (a fork copies only the calling thread)."""
    return (
        fork_supported()
        and os.environ.get(FORK_VARIABLE, "1") != "0"
        and threading.active_count() == 1
    )


def load_in_child(
    job: Callable[[Send], None], likely_directory: str, history_in_child: bool = False
) -> Preloaded | Failed | StepAside | None:
    """Fork a child running ``job`` (see ``describe_project``); meanwhile import and scan here.

    ``likely_directory`` is the migrations folder the project most likely has: scanned
    while the child loads the project, the scan is kept if the child's project has it.
    ``history_in_child`` says the child sends the history too
    (``describe_project(..., with_history=True)``): this process then scans the likely folder
    only if the project is not described by the time Textual is imported.

    None means the child ended without a word (it crashed, or the app exits while imported):
    the caller does the work in this process, where the failure shows as it always did. The
    garbage collector is off meanwhile, and stays off for the workbench to turn back on once
    its first screen is drawn: start-up makes hundreds of thousands of objects that live on,
    which it would walk again and again for nothing.
    """
    gc.disable()
    _scanned_here[0] = 0
    _history_room[0] = _shared_memory() if history_in_child else None
    forked = ForkedJob(job)
    try:
        loaded = _load_beside(forked, likely_directory, history_in_child)
    finally:
        forked.close()
        room, _history_room[0] = _history_room[0], None
        if room is not None:
            room.close()
    if not isinstance(loaded, Preloaded) or loaded.history is None:
        gc.enable()
    return loaded


def _load_beside(
    forked: ForkedJob, likely_directory: str, history_in_child: bool
) -> Preloaded | Failed | StepAside | None:
    """Import the workbench and scan the likely history, then complete them with the child's."""
    importlib.import_module("workbench.tui.app")
    guess = None
    project = forked.receive(0.001) if history_in_child else None
    if project is None:  # not described yet (its env.py may be running): scan meanwhile
        _scanned_here[0] = 1
        guess = _guess_history(likely_directory)
        project = forked.receive()
    if not isinstance(project, MigrationProject):
        return project
    history = guess[1] if guess is not None and guess[0] == project.folders else None
    if history_in_child:
        sent = forked.receive()  # taken in any case: the version rows come after it
        if history is None:
            history = _history_sent(sent)
    if history is None:
        with contextlib.suppress(Exception):
            history = load_history(project)
    readings = forked.receive(STATUS_WAIT)
    statuses = None
    if history is not None and readings is not None:
        statuses = [classify(reading, history.graph) for reading in readings]
    return Preloaded(project, history, statuses)


def _guess_history(directory: str) -> tuple[ScriptConfig, History] | None:
    """The folders and history of the migrations folder the project most likely uses.

    Scanned while the child loads the project, the guess is kept only if the child's project
    has the same folders.
    """
    try:
        folders = read_folders(directory)
        project = MigrationProject(
            folders.script_location,
            folders.version_locations,
            folders.recursive,
            folders.sourceless,
            multidb=False,
            targets=(),
        )
        return folders, load_history(project)
    except Exception:
        return None


def describe_project(loaded: LoadedProject, send: Send, with_history: bool = False) -> None:
    """In the child, once it loaded the project: send its description, then the version rows.

    URLs become strings (never printed), masked here, so that the parent does not import
    SQLAlchemy to unpickle or show them. ``with_history`` sends the history between the two
    (None if it cannot be loaded, or the parent scanned the folder meanwhile: the parent then
    uses its own, or loads it again and says why), for a project described at once, whose
    child would otherwise idle while the parent imports Textual.
    """
    project = loaded.describe()
    targets = tuple(
        dataclasses.replace(target, url=_url_text(target.url)) for target in project.targets
    )
    for target in targets:
        _ = target.masked_url
    project = project._replace(targets=targets)
    send(project)
    if with_history:
        history = None
        if not _scanned_here[0]:
            with contextlib.suppress(Exception):
                history = _leave_in_room(load_history(project).to_wire())
        send(history)
    send(read_versions(project.targets))


def _url_text(url: Any) -> str:
    """A URL as a string that parses back to it, its password included."""
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


def _shared_memory() -> mmap.mmap | None:
    """Memory shared with the child about to be forked; None where it cannot be had."""
    try:
        return mmap.mmap(-1, HISTORY_ROOM_BYTES)
    except (OSError, ValueError):
        return None


def _leave_in_room(data: bytes) -> bytes | int:
    """In the child: the history's data left in the shared memory, and its length to send;
    the data itself when it does not fit.

    Sent through the pipe, megabytes cross in turns between the two processes while the
    workbench waits; left in shared memory, they are read where they lie.
    """
    room = _history_room[0]
    if room is None or len(data) > len(room):
        return data
    room[: len(data)] = data
    return len(data)


def _history_sent(sent: object) -> History | None:
    """The history the child sent (its data, or their length in the shared memory), if any."""
    if isinstance(sent, bytes):
        return History.from_wire(sent)
    room = _history_room[0]
    if not isinstance(sent, int) or room is None:
        return None
    with memoryview(room) as whole, whole[:sent] as data:
        return History.from_wire(data)
