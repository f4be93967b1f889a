"""The wheel and the sdist hold every file the package reads at run time, and the sdist the tests.

Installed copies (``pip install .``, not ``-e``) only have what the wheel holds: a stylesheet or
template left out of it breaks ``flask db tui`` or ``flask db init`` for users while every test
run from the checkout passes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from distribution_files import ROOT, main, missing_files, source_files


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, and the wheel built from it, of a copy of the project's files."""
    folder = tmp_path_factory.mktemp("distributions")
    copy = folder / "project"
    for name in source_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    dist = folder / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(copy)],
        capture_output=True,
        text=True,
        timeout=300,
        # not the checkout: a build/ folder that `pip install .` leaves there would shadow `build`
        cwd=folder,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return dist


def test_wheel_and_sdist_hold_every_file_of_the_package_and_the_tests(distributions: Path) -> None:
    missing = missing_files(distributions)

    assert {archive: sorted(names) for archive, names in missing.items() if names} == {}
    assert main([str(distributions)]) == 0


def test_the_check_names_a_file_the_wheel_lacks(
    distributions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(distributions, dist)
    wheel = next(dist.glob("*.whl"))
    with (
        zipfile.ZipFile(next(distributions.glob("*.whl"))) as full,
        zipfile.ZipFile(wheel, "w") as lacking,
    ):
        for item in full.infolist():
            if item.filename != "workbench/tui/workbench.tcss":
                lacking.writestr(item, full.read(item))

    assert main([str(dist)]) == 1
    assert f"error: {wheel.name} lacks workbench/tui/workbench.tcss" in capsys.readouterr().err
