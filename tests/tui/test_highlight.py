"""Highlighted code renders on the widget's background, and never fails on a removed widget."""

from __future__ import annotations

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Static

from workbench.tui.highlight import highlighted


class OneStatic(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(id="code")


async def test_code_for_a_removed_widget_renders_without_a_background():
    app = OneStatic()
    async with app.run_test() as pilot:
        widget = app.query_one("#code", Static)
        shown = highlighted("select 1", "sql", widget)
        assert shown.background_color is not None
        await widget.remove()
        await pilot.pause()

        late = highlighted("select 1", "sql", widget)

        assert late.background_color is None
        console = Console(width=40, record=True)
        console.print(late)
        assert "select 1" in console.export_text()
