"""The built-in editor, for when the terminal cannot be handed to ``$EDITOR``.

Saving goes through ``files.save_if_unchanged``: a file changed on disk while it was open is
never overwritten; the editor stays open with the text, so nothing typed is lost either.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from workbench.core.files import FileChangedError, OpenedFile, save_if_unchanged
from workbench.tui.keys import Scope, bindings_for
from workbench.tui.widgets.key_bar import KeyBar


class EditorScreen(ModalScreen[bool]):
    """A full-screen text area on one file; dismissed with True once saved, False if closed.

    Modal, so that the main screen's keys stay out of the editor's footer.
    """

    BINDINGS = bindings_for(Scope.EDITOR)

    def __init__(self, opened: OpenedFile, sticky_timeout: float) -> None:
        super().__init__()
        self.opened = opened
        self._sticky_timeout = sticky_timeout
        self._saved = False
        self._dropping = False

    def compose(self) -> ComposeResult:
        """The file's path, the text area, the keys."""
        yield Static(f"editing {self.opened.path}", id="editor-title")
        yield TextArea.code_editor(self.opened.text, language=None, id="editor")
        yield KeyBar()

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        """Write the file, unless it changed on disk since it was opened."""
        text = self.query_one(TextArea).text
        try:
            self.opened = save_if_unchanged(self.opened, text)
        except FileChangedError as exc:
            self.notify(
                f"{exc}. Copy your changes, close the editor and open the file again.",
                title="Not saved",
                severity="error",
                timeout=self._sticky_timeout,
            )
            return
        except OSError as exc:
            self.notify(
                f"cannot write {self.opened.path}: {exc.strerror}",
                title="Not saved",
                severity="error",
                timeout=self._sticky_timeout,
            )
            return
        self._saved = True
        self._dropping = False
        self.notify(f"saved {self.opened.path}", timeout=3)

    def action_close_editor(self) -> None:
        """Leave the editor, asking once more when there are unsaved changes."""
        unsaved = self.query_one(TextArea).text != self.opened.text
        if unsaved and not self._dropping:
            self._dropping = True
            self.notify("unsaved changes: esc again drops them, ctrl+s saves", severity="warning")
            return
        self.dismiss(self._saved)
