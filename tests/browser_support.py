"""Whether the browser tests can run here: Chromium is a system package, not a test dependency.

Like PostgreSQL and MariaDB, it is optional where the README's test command runs and required
in CI, which installs it and sets ``WORKBENCH_TEST_BROWSER=required``.
"""

from __future__ import annotations

import os

import pytest

BROWSER_VARIABLE = "WORKBENCH_TEST_BROWSER"


def require_chromium() -> None:
    """Skip the test when Chromium is missing; fail instead when the browser is required."""
    from workbench.demo.browser import chromium_paths

    try:
        chromium_paths()
    except RuntimeError as exc:
        if os.environ.get(BROWSER_VARIABLE) == "required":
            pytest.fail(f"the browser tests need Chromium: {exc}")
        pytest.skip(f"Chromium not installed ({BROWSER_VARIABLE}=required fails instead): {exc}")
