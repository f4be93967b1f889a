"""The command palette's provider of workbench actions: every main-screen action, by its help line.

Generated from the action registry, like the footer and the help screen; Textual's own
commands (themes, keys, screenshot, quit) stay alongside.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.tui.keys import ACTIONS, MAIN_SCREEN_SCOPES, WorkbenchAction, key_label
from workbench.tui.messages import ActionChosen


class WorkbenchActions(Provider):
    """Offers each main-screen action that is enabled right now."""

    def _entries(self) -> list[WorkbenchAction]:
        """The actions of the main screen, left out when disabled (read-only, no target...)."""
        app = self.app
        return [
            entry
            for entry in ACTIONS
            if entry.scope in MAIN_SCREEN_SCOPES and app.check_action(entry.action, ()) is True
        ]

    def _run(self, entry: WorkbenchAction) -> None:
        """Ask the app to run the action where its key would have run it."""
        self.app.post_message(ActionChosen(entry))

    async def discover(self) -> Hits:
        """Every enabled action, when nothing is typed yet."""
        for entry in self._entries():
            yield DiscoveryHit(
                f"{entry.label} ({key_label(entry)})", partial(self._run, entry), help=entry.help
            )

    async def search(self, query: str) -> Hits:
        """The actions whose label or help line matches what is typed."""
        matcher = self.matcher(query)
        for entry in self._entries():
            text = f"{entry.label}: {entry.help} ({key_label(entry)})"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(text), partial(self._run, entry), help=entry.help
                )
