"""A 5 MB revision (100,000 literal rows) leaves the workbench answering every key at once.

Before the detail pane drew code a line at a time, selecting such a file stopped the app for
80 to 200 seconds while Rich laid out and highlighted all of it, and took over a gigabyte.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import pytest
from large_revision import LARGE, StallWatch, write_large_history
from textual.pilot import Pilot
from tui_support import SIZE, SQLITE_ONLY, TuiProject, screen_text, wait_for

from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.editor import EditorScreen

pytestmark = [SQLITE_ONLY, pytest.mark.long]

KEY_SECONDS = 2.5
"""The longest a key press (or any moment of the event loop) may take: far above the usual
tens of milliseconds, to stay clear of a loaded CI machine, and far below the minute it took."""
GROWTH_MB = 300
"""How much the test process may grow while it shows the file (it grew by more than 1 GB)."""


async def timed_press(pilot: Pilot[None], key: str, presses: dict[str, float]) -> None:
    """Press ``key`` and keep how long the press took, under a readable label."""
    started = time.perf_counter()
    await pilot.press(key)
    presses[f"{len(presses)}:{key}"] = time.perf_counter() - started


def notifications(app: Any) -> str:
    return "\n".join(notification.message for notification in app._notifications)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_a_5_mb_revision_leaves_every_key_answered_at_once(
    make_project: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    project = make_project()
    project.db("init", in_process=True)
    path = write_large_history(project.migrations / "versions")
    assert path.stat().st_size > 4_500_000
    app = TuiProject(project, {}).app()
    app.animation_level = "none"  # a press then ends with its frame, not with a scroll animation
    presses: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.history is not None and app.target is not None)
        await wait_for(pilot, lambda: app.detail.border_title == "Revision c3000000")
        peak_before = peak_mb()
        with StallWatch() as watch:
            await timed_press(pilot, "j", presses)
            await wait_for(pilot, lambda: app.detail.border_title == f"Revision {LARGE}")
            await wait_for(pilot, lambda: "op.bulk_insert(people, [" in screen_text(app))

            app.detail.focus()
            await timed_press(pilot, "end", presses)
            await wait_for(pilot, lambda: '"person number 100000"' in screen_text(app))
            await timed_press(pilot, "pageup", presses)
            await timed_press(pilot, "home", presses)

            await timed_press(pilot, "s", presses)
            await wait_for(pilot, lambda: "INSERT INTO people" in screen_text(app), 240)
            assert f"SQL of {LARGE} on default" in screen_text(app)
            await timed_press(pilot, "end", presses)
            await wait_for(pilot, lambda: "VALUES (100000, " in screen_text(app))
            await timed_press(pilot, "s", presses)

            app.graph_view.focus()
            await timed_press(pilot, "k", presses)
            await wait_for(pilot, lambda: "create_table('pets'" in screen_text(app))
            await timed_press(pilot, "j", presses)
            await wait_for(pilot, lambda: "op.bulk_insert(people, [" in screen_text(app))

            await timed_press(pilot, "e", presses)  # not the built-in editor: it would stall
            assert not isinstance(app.screen, EditorScreen)
            assert "too large for the built-in editor" in notifications(app)

            await timed_press(pilot, "U", presses)  # the upgrade's confirmation shows its SQL
            assert isinstance(app.screen, ConfirmScreen)
            await wait_for(pilot, lambda: "INSERT INTO people" in screen_text(app), 240)
            await timed_press(pilot, "escape", presses)
            await pilot.pause(0.5)

        slow = {key: round(seconds, 3) for key, seconds in presses.items() if seconds > KEY_SECONDS}
        assert not slow, f"key presses over {KEY_SECONDS} s: {slow}"
        assert watch.longest < KEY_SECONDS, f"the event loop stalled {watch.longest:.2f} s"
        assert peak_mb() - peak_before < GROWTH_MB
