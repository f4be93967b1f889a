"""The footer's key bar: the screen's keys in one line, drawn by one widget."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual import events
from textual.content import Content
from textual.screen import Screen
from textual.style import Style
from textual.widget import Widget


class ShownKey(NamedTuple):
    """One key as the bar shows it."""

    key: str
    """The key pressed when the item is clicked."""
    display: str
    """The key as the footer writes it (``?``, ``^p``, ``space``)."""
    description: str
    enabled: bool
    tooltip: str


class KeyBar(Widget, can_focus=False):
    """The active keys of the screen, as Textual's footer shows them, in one widget.

    Textual's footer mounts one widget per key and builds them all again on every change of
    the bindings: a sixth of the workbench's start-up went into styling and laying out the
    bar's keys. This one draws them as one line of text and redraws it only when the keys it
    shows change; pointing at a key highlights it and shows its tooltip, clicking presses it.
    The command palette's key stays at the right end, as in Textual's footer.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--item",
        "key-bar--hover",
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
        "key-bar--separator",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--item { background: $footer-item-background; }
        .key-bar--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--disabled { text-style: dim; }
        .key-bar--separator { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: tuple[ShownKey, ...] | None = None
        self._palette_key: ShownKey | None = None
        self._places: list[tuple[int, int, ShownKey]] = []
        self._hovered: ShownKey | None = None

    @property
    def keys(self) -> tuple[ShownKey, ...]:
        """The keys shown, from the left; the command palette's key last."""
        keys = self._shown_keys()
        return keys if self._palette_key is None else (*keys, self._palette_key)

    def _shown_keys(self) -> tuple[ShownKey, ...]:
        """The keys shown from the left, read from the screen on first use."""
        if self._keys is None:
            self._read_keys(self.screen)
        assert self._keys is not None
        return self._keys

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """Redraw the bar when the keys it shows differ from the ones drawn."""
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        before = (self._keys, self._palette_key)
        self._read_keys(screen)
        if (self._keys, self._palette_key) != before:
            self.refresh()

    def _read_keys(self, screen: Screen) -> None:
        """The screen's active keys shown, one per action, the palette's key apart."""
        app = self.app
        palette_binding = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        keys: list[ShownKey] = []
        actions: set[str] = set()
        palette_key = None
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items():
            if key == palette_binding:
                tip = binding.tooltip or binding.description
                display = app.get_key_display(binding)
                palette_key = ShownKey(key, display, binding.description, enabled, tip)
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                display = app.get_key_display(binding)
                keys.append(ShownKey(key, display, binding.description, enabled, tooltip))
        self._keys, self._palette_key = tuple(keys), palette_key

    def render(self) -> Content:
        left = [(shown, self._item(shown, _parts(shown))) for shown in self._shown_keys()]
        right: list[tuple[ShownKey | None, Content]] = []
        palette = self._palette_key
        if palette is not None:  # compact, framed on its left, at the right end
            description = f" {palette.description}"
            parts = [(palette.display, "key"), (description, "description"), (" ", "")]
            separator = Content.styled("▏", self._layer("key-bar--separator"))
            right = [(None, separator), (palette, self._item(palette, parts))]
        room = max(self.size.width - sum(item.cell_length for _, item in right), 0)
        self._places = [*_places(left, 0, room), *_places(right, room, self.size.width)]
        line = Content("").join(item for _, item in left).truncate(room, pad=True)
        return Content("").join([line, *(item for _, item in right)])

    def _item(self, shown: ShownKey, parts: list[tuple[str, str]]) -> Content:
        """One key's parts, each in its component's style over the key's own layer."""
        layer = self._layer("key-bar--hover" if shown == self._hovered else "key-bar--item")
        if not shown.enabled:
            layer += self._layer("key-bar--disabled")
        item = Content.assemble(
            *(
                (part, self._layer(f"key-bar--{component}")) if component else part
                for part, component in parts
            )
        )
        return item.stylize_before(layer)

    def _layer(self, component: str) -> Style:
        """What one component class sets (colours it leaves unset stay as beneath)."""
        styles = self.get_component_styles(component)
        text_style = Style.from_rich_style(styles.text_style)
        return (
            Style(
                background=styles.background if styles.has_rule("background") else None,
                foreground=styles.color if styles.has_rule("color") else None,
            )
            + text_style
        )

    def _key_at(self, x: int) -> ShownKey | None:
        """The key drawn at column x, if any."""
        for start, end, shown in self._places:
            if start <= x < end:
                return shown
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._point_at(self._key_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._point_at(None)

    def _point_at(self, shown: ShownKey | None) -> None:
        """Highlight the key pointed at and show its tooltip."""
        if shown == self._hovered:
            return
        self._hovered = shown
        self.tooltip = shown.tooltip if shown is not None and shown.tooltip else None
        self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        shown = self._key_at(event.x)
        if shown is None:
            return
        if shown.enabled:
            self.app.simulate_key(shown.key)
        else:
            self.app.bell()


def _parts(shown: ShownKey) -> list[tuple[str, str]]:
    """A key's text and component classes: `` ? `` then ``Help ``, as Textual's footer has them."""
    if not shown.description:
        return [(shown.display, "key")]
    return [(f" {shown.display} ", "key"), (f"{shown.description} ", "description")]


def _places(
    items: list[tuple[ShownKey | None, Content]], start: int, limit: int
) -> list[tuple[int, int, ShownKey]]:
    """Where each key lies in cells, from ``start``, keeping those that end within ``limit``."""
    places = []
    for shown, item in items:
        end = start + item.cell_length
        if shown is not None and end <= limit:
            places.append((start, end, shown))
        start = end
    return places
