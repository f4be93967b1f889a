"""The served workbench in a headless Chromium: for the browser screenshot and the tests.

``served(folder)`` runs ``flask db tui --serve`` on a project folder and yields the URL it
prints; ``chromium()`` opens a headless Chromium driven by Selenium (Debian's ``chromium`` and
``chromium-driver``); ``screen_text`` is the text the page's terminal received (the terminal
draws on a canvas, so the page records what its websocket brought, escape sequences removed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)
INSTALL_HINT = (
    "install Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
)
START_SECONDS = 30.0
SCREEN_SECONDS = 30.0
WINDOW = (1440, 900)
ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")
RECORD_SCREEN = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__workbenchScreen = [];
  function Recording(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__workbenchScreen.push(decoder.decode(new Uint8Array(event.data), {stream: true}));
      }
    });
    return socket;
  }
  Recording.prototype = Native.prototype;
  Object.assign(Recording, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Recording;
})();
"""


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed."""


def chromium_paths() -> tuple[str, str]:
    """The Chromium binary and its driver; ``BrowserMissing`` says how to install them."""
    browser = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    driver = next(filter(None, map(shutil.which, DRIVER_NAMES)), None)
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        raise BrowserMissing(f"{' and '.join(missing)} not found on PATH: {INSTALL_HINT}")
    assert browser is not None and driver is not None
    return browser, driver


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Selenium's driver) that records what the page's terminal receives."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        record_screen(driver)
        yield driver
    finally:
        driver.quit()


def record_screen(driver: Any) -> None:
    """Make every page the current tab loads record what its terminal receives."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SCREEN})


def close_tab(driver: Any) -> None:
    """Close the current tab; the browser goes on in a new blank one, recording too."""
    closing = driver.current_window_handle
    driver.switch_to.new_window("tab")
    blank = driver.current_window_handle
    driver.switch_to.window(closing)
    driver.close()
    driver.switch_to.window(blank)
    record_screen(driver)


def screen_text(driver: Any) -> str:
    """Everything the page's terminal has received so far, as text."""
    received = driver.execute_script("return (window.__workbenchScreen || []).join('')")
    return ESCAPE_SEQUENCE.sub("", received or "")


def wait_for_screen(driver: Any, *wanted: str, after: int = 0) -> str:
    """The terminal's text from ``after`` on, once it contains every ``wanted`` piece."""
    deadline = time.monotonic() + SCREEN_SECONDS
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(driver)[after:]
        if all(piece in text for piece in wanted):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{wanted} never all appeared in the page; it showed:\n{text[-3000:]}")


def press(driver: Any, keys: str) -> None:
    """Type ``keys`` into the page's terminal, as a person at the keyboard would."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    """A running ``flask db tui --serve``: its process, its URL, what it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self, number: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``number`` to the server and wait for it to end; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(number)
        return self.process.wait(timeout)


def _read_lines(process: subprocess.Popen[str], output: list[str]) -> None:
    """Keep what the server prints (reading it all, so that it never blocks on a full pipe)."""
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line.rstrip("\n"))


def _wait_for_url(process: subprocess.Popen[str], output: list[str]) -> str:
    """The URL the server prints, once it listens."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for line in list(output):
            if line.startswith("Open http"):
                return line.split(" ", 1)[1].strip()
        if process.poll() is not None:
            time.sleep(0.2)
            break
        time.sleep(0.05)
    raise AssertionError("the server printed no URL:\n" + "\n".join(output))


@contextlib.contextmanager
def served(
    folder: Path,
    *options: str,
    env: Mapping[str, str] | None = None,
    program: Sequence[str] = ("flask", "db"),
) -> Iterator[Served]:
    """``python -m PROGRAM tui --serve OPTIONS`` in ``folder``.

    By default ``flask db``, in a Flask project with ``app.py``; ``("workbench",)`` serves a
    plain Alembic project.
    """
    environment = dict(os.environ if env is None else env)
    environment.setdefault("FLASK_APP", "app")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *program, "tui", "--serve", "--port", str(port), *options],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    threading.Thread(target=_read_lines, args=(process, output), daemon=True).start()
    try:
        yield Served(process, _wait_for_url(process, output), output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def processes_in(folder: Path) -> list[str]:
    """The processes whose working directory is ``folder`` or below: ``pid command`` each."""
    folder = folder.resolve()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = Path(os.readlink(f"/proc/{entry}/cwd"))
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(f"{entry} {command.decode(errors='replace').strip()}")
    return found
