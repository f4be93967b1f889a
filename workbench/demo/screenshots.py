"""``python -m workbench.demo.screenshots [FOLDER]``: SVG screenshots of the workbench on the demo.

Creates the demo project in a fixed folder under the system's temporary directory (so the paths
shown, and the SVGs, are the same on every run), drives the workbench headless with the keys a
person would press, and saves the main screen, the SQL view, the help screen, an upgrade
confirmation, the merge plan of the two heads, the review of the pending model change and the
verify checks into FOLDER (default: ``screenshots``); then serves the demo with
``flask db tui --serve`` and saves the page as a headless Chromium shows it (``browser.png``).
The README shows these files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from workbench.tui.app import WorkbenchApp, make_app

SIZE = (160, 48)
TIMEOUT_SECONDS = 60.0


def screen_text(app: WorkbenchApp) -> str:
    """The text on the top screen."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Let the app run until the condition holds (child processes take a moment)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the workbench never reached the expected state:\n{screen_text(pilot.app)}"
            )  # type: ignore[arg-type]
        await pilot.pause(0.1)


async def take_screenshots(app: WorkbenchApp, folder: Path) -> list[Path]:
    """Drive the workbench through its main views, saving one SVG per view."""
    saved: list[Path] = []

    def save(name: str) -> None:
        saved.append(Path(app.save_screenshot(f"{name}.svg", str(folder))))

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.database_panel.statuses))
        await wait_until(pilot, lambda: "revision " in screen_text(app))
        await wait_until(pilot, lambda: "Quit" in screen_text(app))
        save("main")

        await pilot.press("j", "j")
        await pilot.press("s")
        await wait_until(
            pilot, lambda: "SQL of " in screen_text(app) and "rendering" not in screen_text(app)
        )
        save("detail-sql")
        await pilot.press("s")

        await pilot.press("question_mark")
        save("help")
        await pilot.press("escape")

        await pilot.press("U")
        await wait_until(pilot, lambda: "SQL on default" in screen_text(app))
        await wait_until(pilot, lambda: "rendering the SQL" not in screen_text(app))
        save("upgrade-confirmation")
        await pilot.press("escape")

        await pilot.press("M")
        await wait_until(pilot, lambda: "Common ancestor" in screen_text(app))
        save("merge-plan")
        await pilot.press("escape")

        await upgrade_every_database(app, pilot)
        await pilot.press("g", "c")
        await pilot.press(*"rename phone", "enter")
        await wait_until(pilot, lambda: "findings:" in screen_text(app))
        save("review")
        await pilot.press("escape")

        await pilot.press("V", "enter")
        await wait_until(pilot, lambda: "scratch databases are gone" in screen_text(app))
        save("verify")
        await pilot.press("escape")
    return saved


async def upgrade_every_database(app: WorkbenchApp, pilot: Pilot[None]) -> None:
    """Upgrade the demo's databases to the heads, as autogenerate needs them there."""
    await pilot.press("U")
    await wait_until(pilot, lambda: "rendering the SQL" not in screen_text(app))
    await pilot.press("ctrl+s")
    await wait_until(
        pilot,
        lambda: (
            bool(app.database_panel.statuses)
            and all(status.at_head for status in app.database_panel.statuses)
        ),
    )


def load_demo(folder: Path) -> WorkbenchApp:
    """The workbench on a demo project, loaded as ``cd FOLDER && flask db tui`` loads it."""
    from flask.cli import ScriptInfo

    from workbench.project.flask import FlaskProject

    os.chdir(folder)
    os.environ["FLASK_APP"] = "app"
    sys.path.insert(0, str(folder))
    flask_app = ScriptInfo(app_import_path="app").load_app()
    with flask_app.app_context():
        project = FlaskProject(flask_app).describe()
    return make_app(
        project, command_group="flask db", app_import_path="app", project_folder=str(folder)
    )


def take_browser_screenshot(folder: Path, output: Path) -> Path:
    """The served workbench on the demo, as a browser shows it: ``browser.png``."""
    from workbench.demo.browser import chromium, served, wait_for_screen

    path = output / "browser.png"
    with served(folder) as server, chromium() as driver:
        driver.get(server.url)
        wait_for_screen(driver, "(read-only)", "analytics", "Quit")
        time.sleep(1.0)  # the last frame reaches the canvas
        driver.save_screenshot(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    """Create the demo, take the screenshots, print where they are."""
    from workbench.demo.build import create_demo

    parser = argparse.ArgumentParser(prog="python -m workbench.demo.screenshots")
    parser.add_argument("folder", nargs="?", default="screenshots", help="where to save them")
    arguments = parser.parse_args(argv)
    output = Path(arguments.folder).resolve()
    output.mkdir(parents=True, exist_ok=True)
    demo_folder = Path(tempfile.gettempdir()) / "workbench-demo"
    shutil.rmtree(demo_folder, ignore_errors=True)
    try:
        app = load_demo(create_demo(demo_folder))
        for path in asyncio.run(take_screenshots(app, output)):
            print(path)
        print(take_browser_screenshot(demo_folder, output))
    finally:
        shutil.rmtree(demo_folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
