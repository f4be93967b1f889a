"""What a child reports while it runs an operation, one event class per kind, last one final.

Parent and child share these classes, so a kind's name and fields are written once; the child
writes each event as one JSON line (``workbench.runtime.wire``) and no text in any holds a
password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench.core.verify import CheckResult
from workbench.runtime.requests import Request


@dataclass(frozen=True)
class Event:
    """One thing the child reports; ``event`` names its kind on the wire."""

    event: ClassVar[str]


@dataclass(frozen=True)
class Started(Event):
    """The child has read its request; ``pid`` is its process id."""

    event: ClassVar[str] = "started"
    request: Request
    pid: int


@dataclass(frozen=True)
class Step(Event):
    """A revision about to run (``phase`` "started") or applied ("done"): ``number`` of ``total``.

    ``kind`` is "upgrade", "downgrade" or "stamp"; ``database`` is "default" or the bind's
    name; the revisions are the version rows before and after.
    """

    event: ClassVar[str] = "step"
    phase: str
    number: int
    total: int
    kind: str
    revision: str | None
    database: str
    source_revisions: tuple[str, ...] = ()
    destination_revisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Log(Event):
    """A logging record of env.py, Alembic or the app."""

    event: ClassVar[str] = "log"
    level: str
    logger: str
    message: str


@dataclass(frozen=True)
class Output(Event):
    """One line written to ``stream``: "stdout", "stderr", "child" (a line that was no event),
    or "sql" (the whole script of the ``sql`` operation)."""

    event: ClassVar[str] = "output"
    stream: str
    text: str


@dataclass(frozen=True)
class Check(Event):
    """One check of ``verify``, as it ends."""

    event: ClassVar[str] = "check"
    check: CheckResult


@dataclass(frozen=True)
class Standing:
    """Where one database stands, read after a failure: its version rows, or why unread."""

    name: str
    url: str
    revisions: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Finished(Event):
    """The operation ended well (final).

    ``result`` holds ``steps`` (each a step's fields but phase, number, total) and/or
    ``scripts`` (``revision``, ``path``, ``message`` of each file written); ``preview`` for
    previews and reviews (``Preview.to_dict``); ``verify`` for verify (``VerifyReport.to_dict``).
    """

    event: ClassVar[str] = "finished"
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed(Event):
    """The operation failed (final): one line, the traceback, where the databases stand now."""

    event: ClassVar[str] = "failed"
    message: str
    traceback: str = ""
    databases: tuple[Standing, ...] = ()


@dataclass(frozen=True)
class Cancelled(Event):
    """The operation was cancelled (final): why, and where the databases stand now."""

    event: ClassVar[str] = "cancelled"
    message: str
    databases: tuple[Standing, ...] = ()


Ending = Finished | Failed | Cancelled
"""The last event of every run."""

EVENTS: Mapping[str, type[Event]] = {
    kind.event: kind for kind in (Started, Step, Log, Output, Check, Finished, Failed, Cancelled)
}
"""Every kind of event, by name."""
