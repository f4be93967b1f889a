"""Standard error for the CLI: Alembic's routine preamble held back until it means something.

Every Alembic run logs "Context impl ..." and "Will assume ..." before doing anything. When a
command then fails before doing anything, those lines would bury the one-line error; when it
goes on to do something, they are shown in their place, exactly as Alembic prints them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

PREAMBLE_MARKERS = (
    "Context impl ",
    "Will assume ",
    "setting up autogenerate plugin ",
    "Generating static SQL",
)


class PreambleHoldingStream(io.TextIOBase):
    """A text stream that holds routine preamble lines until any other line is written."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.held: list[str] = []
        self.partial = ""
        self.released = False

    def write(self, text: str) -> int:
        """Pass text through, except preamble lines while nothing else has been written."""
        if self.released:
            return self.target.write(text)
        self.partial += text
        while "\n" in self.partial and not self.released:
            line, self.partial = self.partial.split("\n", 1)
            if any(marker in line for marker in PREAMBLE_MARKERS):
                self.held.append(line + "\n")
            else:
                self.release()
                self.target.write(line + "\n")
        if self.released and self.partial:
            self.target.write(self.partial)
            self.partial = ""
        return len(text)

    def release(self) -> None:
        """Write the held lines and let everything through from now on."""
        if not self.released:
            self.released = True
            self.target.write("".join(self.held))
            self.held.clear()

    def discard(self) -> None:
        """Forget the held lines: the command failed before they meant anything."""
        self.held.clear()

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", "utf-8")


@contextmanager
def preamble_held() -> Iterator[PreambleHoldingStream]:
    """Replace ``sys.stderr`` for one command; on success the held lines are written after all.

    The caller discards the held lines when the command fails.
    """
    original = sys.stderr
    holder = PreambleHoldingStream(original)
    sys.stderr = holder
    try:
        yield holder
        holder.release()
        if holder.partial:
            original.write(holder.partial)
    finally:
        sys.stderr = original
