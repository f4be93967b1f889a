"""A built-in editor over a text held in memory, such as a script under review.

Unlike the file editor it writes nothing: ``ctrl+s`` hands the text back to the screen that
opened it, which decides what to do with it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar


class ScriptEditorScreen(ModalScreen[str | None]):
    """A full-screen text area; dismissed with the text on ``ctrl+s``, None when dropped."""

    BINDINGS = bindings_for(Scope.EDITOR)

    def __init__(self, text: str, title: str) -> None:
        super().__init__()
        self.text = text
        self._title = title
        self._dropping = False

    def compose(self) -> ComposeResult:
        """The title, the text area, the keys."""
        yield Static(f"{self._title} (ctrl+s keeps the text, esc drops it)", id="editor-title")
        yield TextArea.code_editor(self.text, language=None, id="editor")
        yield KeyBar()

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        """Keep the edited text."""
        self.dismiss(self.query_one(TextArea).text)

    def action_close_editor(self) -> None:
        """Drop the edits, asking once more when there are any."""
        changed = self.query_one(TextArea).text != self.text
        if changed and not self._dropping:
            self._dropping = True
            self.notify("unsaved changes: esc again drops them, ctrl+s keeps them")
            return
        self.dismiss(None)
