"""Flask-Migrate's own `flask db`, run from a virtual environment that has no workbench in it.

With workbench installed, its `db` command (a Flask plugin) answers `flask db` for every app,
apps using Flask-Migrate included, because Flask looks at plugins before an app's own commands.
Timing Flask-Migrate therefore needs an environment without workbench. This one is made in the
benchmark's scratch folder with the versions of Flask, Flask-SQLAlchemy, Flask-Migrate, Alembic
and SQLAlchemy installed here, so that both sides run the same libraries.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

PINNED = ("flask", "flask-sqlalchemy", "flask-migrate", "alembic", "sqlalchemy", "mako")


def make_flask_migrate_python(root: Path) -> str:
    """The interpreter of a new environment under ``root`` with Flask-Migrate and no workbench."""
    venv = root / "flask-migrate-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pins = [f"{name}=={version(name)}" for name in PINNED]
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        raise SystemExit(f"cannot install {' '.join(pins)}: {installed.stderr.strip()[-500:]}")
    probe = subprocess.run([python, "-c", "import workbench"], cwd=root, capture_output=True)
    if probe.returncode == 0:
        raise SystemExit("the Flask-Migrate environment can import workbench")
    return python
