"""What the built wheel and sdist must hold, read from the source tree, and where they fall short.

The expected lists are never written by hand: every file of the package (stylesheets,
templates, demo data, anything read by path) must be in the wheel, and the sdist must carry
those plus the tests and what they read, so a file added later cannot be left out silently.
Run as a script (``python tests/packaging/distribution_files.py DIST_FOLDER``) it checks the
wheel and sdist that ``python -m build`` wrote there, as ``.ci/run`` does.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "workbench"
SDIST_FOLDERS = (PACKAGE, "tests", "screenshots")
SDIST_FILES = (
    "README.md",
    "LICENSE",
    "pyproject.toml",
    "MANIFEST.in",
    ".ci/minimum-constraints.txt",
)
LEFT_OUT = ("__pycache__", ".pyc", ".pyo")


def source_files(root: Path = ROOT) -> set[str]:
    """The project's files, relative to ``root``: git's list in a checkout, else every file.

    An unpacked sdist has no git; there every file present counts (caches excepted).
    """
    if (root / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        return {name for name in listed.split("\0") if name and (root / name).is_file()}
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not any(part in path.as_posix() for part in LEFT_OUT)
    }


def wheel_expected(files: set[str]) -> set[str]:
    """Every file of the package, whatever its kind: code and everything read by path."""
    return {name for name in files if name.startswith(f"{PACKAGE}/")}


def sdist_expected(files: set[str]) -> set[str]:
    """The package, the tests with their data, the screenshots and the project's own files."""
    return {
        name
        for name in files
        if name in SDIST_FILES or ("/" in name and name.split("/", 1)[0] in SDIST_FOLDERS)
    }


def wheel_members(wheel: Path) -> set[str]:
    """The file names inside a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


def sdist_members(sdist: Path) -> set[str]:
    """The file names inside an sdist, without its top folder (``name-version/``)."""
    with tarfile.open(sdist) as archive:
        return {
            member.name.split("/", 1)[1]
            for member in archive.getmembers()
            if member.isfile() and "/" in member.name
        }


def missing_files(dist_folder: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """For the one wheel and one sdist in a folder: the project's files each leaves out."""
    wheels = sorted(dist_folder.glob("*.whl"))
    sdists = sorted(dist_folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        found = ", ".join(path.name for path in wheels + sdists) or "nothing"
        raise SystemExit(f"error: expected one wheel and one sdist in {dist_folder}, found {found}")
    files = source_files(root)
    return {
        wheels[0].name: wheel_expected(files) - wheel_members(wheels[0]),
        sdists[0].name: sdist_expected(files) - sdist_members(sdists[0]),
    }


def main(argv: list[str]) -> int:
    """Check the distributions in ``argv[0]``; print what each lacks and exit 1 if anything."""
    if len(argv) != 1:
        print("usage: distribution_files.py DIST_FOLDER", file=sys.stderr)
        return 2
    missing = missing_files(Path(argv[0]))
    for archive, names in missing.items():
        for name in sorted(names):
            print(f"error: {archive} lacks {name}", file=sys.stderr)
    if any(missing.values()):
        return 1
    print(f"the wheel and the sdist hold every file of {PACKAGE}/ (and the sdist the tests)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
