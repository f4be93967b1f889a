"""Code highlighted with Pygments (through ``rich.syntax``), in colours that suit the theme.

Pygments is imported with the first code highlighted: the workbench's first screen draws none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from rich.syntax import Syntax


class Palette(NamedTuple):
    """The colours code is highlighted in: the theme's darkness and the widget's background."""

    dark: bool
    background: str | None

    @classmethod
    def of(cls, widget: Widget) -> Palette:
        """The palette for code drawn in ``widget`` (read on the UI thread).

        A widget being removed (the app closing) has a transparent background, which Rich
        cannot parse: the code is then drawn without one rather than failing.
        """
        background = widget.background_colors[1]
        return cls(widget.app.current_theme.dark, background.hex6 if background.a else None)

    @property
    def theme(self) -> str:
        """The Pygments style for this palette."""
        return "github-dark" if self.dark else "default"


def highlighted(code: str, lexer: str, widget: Widget, line_numbers: bool = False) -> Syntax:
    """``code`` highlighted for display in ``widget``, on the widget's own background."""
    from rich.syntax import Syntax

    palette = Palette.of(widget)
    return Syntax(
        code,
        lexer,
        theme=palette.theme,
        line_numbers=line_numbers,
        word_wrap=False,
        background_color=palette.background,
    )


def highlighted_lines(lines: Sequence[str], lexer: str, palette: Palette) -> list[Text]:
    """Each of ``lines`` highlighted as one stretch of code; safe to call from any thread.

    Lexing a stretch at a time (rather than the whole file) bounds the cost of drawing any part
    of a long file; a string that spans two stretches is coloured as code in the second.
    """
    from rich.syntax import Syntax

    syntax = Syntax("", lexer, theme=palette.theme, background_color=palette.background)
    text = syntax.highlight("\n".join(lines))
    highlighted_lines = text.split("\n", allow_blank=True)[: len(lines)]
    return highlighted_lines + [Text(line) for line in lines[len(highlighted_lines) :]]
