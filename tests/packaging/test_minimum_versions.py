"""The minimum versions CI installs (.ci/minimum-constraints.txt) are the ones pyproject declares.

CI runs a part of the suite with exactly those pins on the oldest Python, so a floor raised or
lowered in one file and not the other would leave the declared minimum untested.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalized(name: str) -> str:
    """A distribution name as the package index compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_floors() -> dict[str, str]:
    """``Name>=X`` of every run-time dependency in pyproject.toml (no tomllib on Python 3.10).

    A dependency may also have a ceiling (``Name>=X,<Y``); its floor is what CI pins.
    """
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.M | re.S)
    assert block, "pyproject.toml has no dependencies list"
    requirements = re.findall(r'"([^"]+)"', block.group(1))
    floors = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)(?:,<[0-9][0-9.]*)?", requirement)
        assert match, f"{requirement!r} declares no plain floor (Name>=X, or Name>=X,<Y)"
        floors[normalized(match[1])] = match[2]
    return floors


def pinned_minimums() -> dict[str, str]:
    """``Name==X`` of every line of the constraints file CI installs on the oldest Python."""
    pins = {}
    for line in (ROOT / ".ci" / "minimum-constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9.]*)", line)
            assert match, f"{line!r} is not a Name==X pin"
            pins[normalized(match[1])] = match[2]
    return pins


def test_ci_pins_exactly_the_declared_minimum_of_every_dependency():
    assert pinned_minimums() == declared_floors()
