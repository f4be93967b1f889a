"""Code of any length, drawn a line at a time: only the lines on screen cost anything.

A revision file can be megabytes (a data migration with 100,000 literal rows). Laying out and
highlighting all of it at once stalls every key for a minute and takes gigabytes, so this
widget keeps the lines as strings, draws only those the screen shows, and highlights a long
text in stretches of ``STRETCH_LINES`` in a worker thread (plain until then), keeping a bounded
number of highlighted stretches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from workbench.tui.highlight import Palette, highlighted_lines

STRETCH_LINES = 64
"""Lines highlighted together (Pygments lexes them as one text)."""
AT_ONCE_LINES = 400
"""A text up to this long is highlighted whole when shown (exact, and a few milliseconds)."""
SPLIT_CHARS = 1 << 16
"""Characters split into lines per call by ``code_lines``."""
KEPT_STRETCHES = 48
"""Highlighted stretches kept for scrolling back; older ones are highlighted again if needed."""
WANTED_STRETCHES = 4
"""Stretches waiting for the highlighter: only the last screens asked for are worth it."""


def code_lines(text: str) -> tuple[str, ...]:
    """``text`` as the lines a ``CodeView`` shows (tabs expanded); for worker threads.

    Splitting megabytes in one call would hold the interpreter lock (and so the UI thread) for
    tens of milliseconds; it is split a ``SPLIT_CHARS`` piece at a time instead.
    """
    lines: list[str] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + SPLIT_CHARS)
        end = len(text) if end < 0 else end + 1
        piece = text[start:end]
        lines.extend((piece.expandtabs(4) if "\t" in piece else piece).splitlines())
        start = end
    return tuple(lines)


class _Source(NamedTuple):
    """What is shown: the lines, how they are coloured, and the palette they are coloured in."""

    lines: tuple[str, ...]
    language: str | None
    style: str
    palette: Palette | None
    line_numbers: bool = True


class CodeView(Widget):
    """Lines of code with line numbers (or plain text in a style), highlighted lazily."""

    DEFAULT_CSS = """
    CodeView { height: auto; width: 1fr; }
    """

    class StretchHighlighted(Message):
        """A worker finished highlighting a stretch: the screen may show it now."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._source = _Source((), None, "", None)
        self._lock = threading.Lock()
        self._stretches: OrderedDict[int, list[Text]] = OrderedDict()
        self._wanted: deque[int] = deque(maxlen=WANTED_STRETCHES)
        self._highlighting = False

    @property
    def line_count(self) -> int:
        """How many lines the text has."""
        return len(self._source.lines)

    @property
    def palette(self) -> Palette | None:
        """The colours the code is highlighted in (None for plain text)."""
        return self._source.palette

    def show(
        self,
        lines: tuple[str, ...],
        language: str | None,
        style: str = "",
        *,
        line_numbers: bool = True,
    ) -> None:
        """Show ``lines`` (from ``code_lines``): code in a Pygments language, or plain text in
        ``style``; code has its lines numbered unless ``line_numbers`` is false."""
        palette = Palette.of(self) if language is not None else None
        source = _Source(lines, language, style, palette, line_numbers)
        with self._lock:
            self._source = source
            self._stretches.clear()
            self._wanted.clear()
        if language is not None and palette is not None and len(lines) <= AT_ONCE_LINES:
            whole = highlighted_lines(lines, language, palette)
            for start in range(0, len(lines), STRETCH_LINES):
                self._stretches[start // STRETCH_LINES] = whole[start : start + STRETCH_LINES]
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One row per line, whatever their number."""
        return len(self._source.lines)

    def render_line(self, y: int) -> Strip:
        """Line ``y``: its number and its text, highlighted if its stretch is ready."""
        source = self._source
        width = self.size.width
        base = self.rich_style
        if y >= len(source.lines):
            return Strip.blank(width, base)
        if source.language is None:
            text = Text(source.lines[y], style=source.style, no_wrap=True)
            return self._strip(text, width, base)
        code = self._highlighted(y) or Text(source.lines[y])
        if not source.line_numbers:
            return self._strip(code, width, base)
        number = Text(f"{y + 1:>{len(str(len(source.lines)))}} ", style=Style(dim=True))
        return self._strip(Text.assemble(number, code, no_wrap=True), width, base)

    def _strip(self, text: Text, width: int, base: Style) -> Strip:
        """``text`` as one cropped row on the widget's style."""
        segments = [
            Segment(part.text, base + part.style if part.style else base)
            for part in text.render(self.app.console)
        ]
        return Strip(segments).crop_extend(0, width, base)

    def _highlighted(self, y: int) -> Text | None:
        """Line ``y`` highlighted, or None (and its stretch asked for) when not yet."""
        stretch = y // STRETCH_LINES
        with self._lock:
            lines = self._stretches.get(stretch)
            if lines is not None:
                self._stretches.move_to_end(stretch)
                return lines[y - stretch * STRETCH_LINES]
            if stretch not in self._wanted:
                self._wanted.append(stretch)
            start = not self._highlighting
            self._highlighting = True
        if start:
            self.run_worker(
                self._highlight_wanted, thread=True, group="highlight", exit_on_error=False
            )
        return None

    def _highlight_wanted(self) -> None:
        """Highlight the stretches asked for, newest first, until none is left (a worker)."""
        while True:
            with self._lock:
                if not self._wanted:
                    self._highlighting = False
                    return
                stretch = self._wanted.pop()
                source = self._source
            if source.language is None or source.palette is None:
                continue
            first = stretch * STRETCH_LINES
            lines = source.lines[first : first + STRETCH_LINES]
            highlighted = highlighted_lines(lines, source.language, source.palette)
            with self._lock:
                if source is not self._source:
                    continue
                self._stretches[stretch] = highlighted
                while len(self._stretches) > KEPT_STRETCHES:
                    self._stretches.popitem(last=False)
            self.post_message(self.StretchHighlighted())

    def on_code_view_stretch_highlighted(self, message: StretchHighlighted) -> None:
        """Draw again with the new colours."""
        message.stop()
        self.refresh()
