"""Code highlighted with Pygments (through ``rich.syntax``), in colours that suit the theme."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.widget import Widget


def highlighted(code: str, lexer: str, widget: Widget, line_numbers: bool = False) -> Syntax:
    """``code`` highlighted for display in ``widget``, on the widget's own background.

    A widget being removed (the app closing) has a transparent background, which Rich cannot
    parse: the code is then drawn without one rather than failing.
    """
    theme = "github-dark" if widget.app.current_theme.dark else "default"
    background = widget.background_colors[1]
    return Syntax(
        code,
        lexer,
        theme=theme,
        line_numbers=line_numbers,
        word_wrap=False,
        background_color=background.hex6 if background.a else None,
    )
