"""The footer's key bar, drawn again only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ShownKeys = tuple[tuple[str, Binding, bool, str], ...]
"""What the bar shows: each active binding with whether it is enabled and its tooltip."""


class KeyBar(Footer):
    """Textual's footer, composed as soon as the bindings are known and again only on a change.

    Textual's footer builds one widget per key on every bindings refresh, after the next screen
    refresh: three times as the workbench starts, the first only after the first frame, so the
    keys came last and each rebuild cost tens of milliseconds of styling for the same keys.
    Each key is also made in the bar's compactness from the start, rather than restyled twice
    as it mounts (compact by default, then not). It uses two names private to Textual's footer
    (``_bindings_ready``, ``FooterKey``): pyproject.toml admits only the Textual majors tested.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._composed: ShownKeys | None = None
        self._rebuild_pending = False

    def compose(self) -> ComposeResult:
        self._composed = _shown_keys(self.screen) if self._bindings_ready else None
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # Textual binds each key's compactness to the bar's, but the palette's key's
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        """Rebuild the bar right after this message when the keys it would show differ."""
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._rebuild_pending or self._composed == _shown_keys(screen):
            return
        self._rebuild_pending = True
        self.call_next(self._rebuild)

    async def _rebuild(self) -> None:
        """Compose the keys as the bindings are now."""
        self._rebuild_pending = False
        await self.recompose()


def _shown_keys(screen: Screen) -> ShownKeys:
    """The screen's active bindings as the bar shows them."""
    return tuple(
        (key, binding, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
    )
