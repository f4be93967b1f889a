"""``flask db tui --serve``: the workbench in a real headless Chromium, safe by default.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them);
without them they fail, saying so, rather than being skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import require_chromium

from workbench.demo.browser import (
    Served,
    chromium,
    close_tab,
    press,
    processes_in,
    screen_text,
    served,
    wait_for_screen,
)
from workbench.demo.build import create_demo

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the processes"),
    pytest.mark.long,
]

GONE_SECONDS = 5.0


def status_and_body(url: str) -> tuple[int, bytes]:
    """The HTTP status of a GET and its body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_gone(folder: Path, what: str) -> None:
    """Wait until no process works in ``folder``; fail naming the ones left."""
    deadline = time.monotonic() + GONE_SECONDS
    while (left := processes_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"{what}, these processes remain:\n" + "\n".join(left)


def tab_processes(folder: Path, server: Served) -> list[str]:
    """The processes of the project other than the server itself."""
    return [line for line in processes_in(folder) if int(line.split()[0]) != server.process.pid]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_demo(tmp_path_factory.mktemp("served") / "shop")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    with chromium() as driver:
        yield driver


def wait_for_tab(folder: Path, server: Served) -> None:
    """Wait until a tab's workbench process runs."""
    deadline = time.monotonic() + 30
    while not any(" db tui " in f"{line} " for line in tab_processes(folder, server)):
        assert time.monotonic() < deadline, "no workbench process started for the tab"
        time.sleep(0.1)


def wait_for_no_tab(folder: Path, server: Served, what: str) -> None:
    """Wait until only the server works in ``folder``; fail naming the processes left."""
    deadline = time.monotonic() + GONE_SECONDS
    while (left := tab_processes(folder, server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"{what}, these processes remain:\n" + "\n".join(left)


def test_the_page_shows_the_workbench_refuses_writes_and_leaves_no_process(
    demo: Path, browser: Any
) -> None:
    with served(demo) as server:
        driver = browser
        driver.get(server.url)
        assert driver.title == "Migration Workbench — read-only"
        text = wait_for_screen(
            driver,
            "Migration Workbench",
            "(read-only)",
            "merge reviews and search branches",
            "default",
            "analytics",
        )
        assert "Databases" in text or "databases" in text
        assert any("db tui --read-only" in line for line in tab_processes(demo, server))

        mark = len(screen_text(driver))
        press(driver, "U")
        refused = wait_for_screen(driver, "read-only (the workbench was opened", after=mark)
        assert "Upgrade" in refused

        # Leaving the page, or closing its tab, ends its workbench and every child of it.
        driver.get("about:blank")
        wait_for_no_tab(demo, server, "after leaving the page")
        driver.get(server.url)
        wait_for_tab(demo, server)
        close_tab(driver)
        wait_for_no_tab(demo, server, "after the tab closed")
        assert server.process.poll() is None

        # Stopping the server ends the workbench of a tab still open.
        driver.get(server.url)
        wait_for_screen(driver, "analytics")
        assert tab_processes(demo, server)
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < GONE_SECONDS
    wait_until_gone(demo, "after SIGTERM stopped the server")
    driver.get("about:blank")


def test_ctrl_c_stops_the_server_and_every_workbench_it_started(demo: Path, browser: Any) -> None:
    with served(demo) as server:
        browser.get(server.url)
        wait_for_tab(demo, server)  # stopped while the workbench still starts
        started = time.monotonic()
        assert server.stop(signal.SIGINT) == 0
        assert time.monotonic() - started < GONE_SECONDS
    wait_until_gone(demo, "after SIGINT stopped the server")
    browser.get("about:blank")


def test_without_the_token_nothing_is_served(demo: Path, browser: Any) -> None:
    with served(demo) as server:
        base = server.url.rsplit("/", 2)[0]
        token = server.url.rsplit("/", 2)[1]
        assert len(token) >= 32
        for path in (
            "/",
            "/ws",
            "/static/js/textual.js",
            "/static/css/xterm.css",
            f"/{token[:-1]}/",
            f"/{token[:-1]}/static/js/textual.js",
            f"/x/{token}/",
        ):
            status, body = status_and_body(base + path)
            assert (status, body) == (403, b""), path
        status, body = status_and_body(server.url + "static/js/textual.js")
        assert status == 200 and body

        driver = browser
        driver.get(base + "/")
        assert "terminal" not in driver.page_source
        assert screen_text(driver) == ""
        assert tab_processes(demo, server) == []


def test_allow_writes_on_another_address_warns_and_says_so(demo: Path) -> None:
    with served(demo, "--host", "0.0.0.0", "--allow-writes") as server:
        output = "\n".join(server.output)
        assert "Warning: listening on 0.0.0.0" in output
        assert "writes allowed" in output
        status, body = status_and_body(server.url)
        assert status == 200
        assert b"<title>Migration Workbench \xe2\x80\x94 writes allowed</title>" in body
    wait_until_gone(demo, "after the server stopped")


def test_without_the_extra_serve_says_how_to_install_it(demo: Path) -> None:
    blocked = (
        "import sys, runpy; sys.modules['textual_serve'] = None; "
        "sys.argv = ['flask', 'db', 'tui', '--serve']; "
        "runpy.run_module('flask', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked],
        cwd=demo,
        env={**os.environ, "FLASK_APP": "app"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: --serve needs textual-serve: pip install 'flask-migrate-workbench[serve]'"
    ]


def test_serve_options_out_of_place_are_usage_errors(demo: Path) -> None:
    for options in (
        ["--allow-writes"],
        ["--host", "0.0.0.0"],
        ["--port", "9000"],
        ["--serve", "--read-only", "--allow-writes"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "db", "tui", *options],
            cwd=demo,
            env={**os.environ, "FLASK_APP": "app"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, options
        assert "Error:" in result.stderr, options
