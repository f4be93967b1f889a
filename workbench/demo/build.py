"""Building the demo project: its files, its migrations folder and its databases, made in place.

The project is a real Flask app on two SQLite databases (the default one and an ``analytics``
bind) with a multi-database migrations folder made by ``init(multidb=True)``: 41 runnable
revisions with a branch that was merged, a ``billing`` branch that was not (two heads), the two
databases standing at different revisions, and a model column no revision creates yet. Ids and
dates derive from a fixed seed, so screenshots of it stay the same from run to run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from workbench.demo.seed import ANALYTICS_STANDS_AT, DEFAULT_STANDS_AT, upgrade_database
from workbench.demo.sources import BIND, create_dates, project_file, revision_id, revisions
from workbench.errors import WorkbenchError


def _read_umask() -> int:
    """The process's umask: temporary files and folders are private, the project's must not be."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


@dataclass(frozen=True)
class DemoProject:
    """A demo project ready to open, and how it came to be: made now, made again, or reopened."""

    folder: Path
    made: Literal["created", "rebuilt", "reopened"]
    """``reopened``: as the last run, or the user, left it."""


def prepare_demo(folder: str | os.PathLike[str], *, rebuild: bool = False) -> DemoProject:
    """Create the demo project in a folder, or reopen (``rebuild``: make again) one made before.

    So the same command works every time: a folder that already holds a demo project is
    opened as it is, while any other folder that is not empty is refused.
    """
    target = Path(folder).resolve()
    if not is_demo_project(target):
        return DemoProject(create_demo(target), "created")
    if not rebuild:
        return DemoProject(target, "reopened")
    return DemoProject(_replace_demo(target), "rebuilt")


def is_demo_project(folder: Path) -> bool:
    """True when a folder holds a project this command made (its app, migrations and README)."""
    readme = folder / "README.md"
    try:
        first_line = readme.read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return False
    return (
        first_line == project_file("README.md").split("\n", 1)[0]
        and (folder / "app.py").is_file()
        and (folder / "migrations" / "env.py").is_file()
    )


def create_demo(folder: str | os.PathLike[str]) -> Path:
    """Create the demo project in a new or empty folder; returns its absolute path.

    The project is built in a hidden sibling folder and renamed into place, so a failure never
    leaves a half-made project behind.
    """
    target = Path(folder).resolve()
    _check_target(target)
    try:
        building = _build_beside(target)
        try:
            if target.exists():
                target.rmdir()
            building.rename(target)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    except OSError as exc:
        raise WorkbenchError(f"cannot create {target}: {exc.strerror or exc}") from exc
    return target


def _replace_demo(target: Path) -> Path:
    """Build a new demo project beside an old one, then swap them and delete the old one.

    Until the swap the old project stays whole, so a failed build changes nothing.
    """
    try:
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        try:
            building = _build_beside(target)
            try:
                target.rename(old / target.name)
                building.rename(target)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                if not target.exists() and (old / target.name).exists():
                    (old / target.name).rename(target)
                raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise WorkbenchError(f"cannot rebuild {target}: {exc.strerror or exc}") from exc
    return target


def _build_beside(target: Path) -> Path:
    """Build the project in a new hidden folder next to ``target``; returns that folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        building.chmod(0o777 & ~_UMASK)
        _build(building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return building


def _check_target(target: Path) -> None:
    """Refuse a folder that is a file or already holds something other than a demo project."""
    if not target.exists():
        return
    if not target.is_dir():
        raise WorkbenchError(f"{target} exists and is not a folder; choose another folder")
    if any(target.iterdir()):
        raise WorkbenchError(
            f"{target} is not empty and holds no demo project; choose a new or empty folder"
        )


def _build(folder: Path) -> None:
    """Write the project into a folder, make its migrations and put its databases in place."""
    from alembic.script import ScriptDirectory

    from workbench import init

    for name in ("app.py", "models.py", "README.md"):
        _write(folder / name, project_file(name))
    app, db = _twin_app(folder)
    with app.app_context():
        migrations = str(folder / "migrations")
        # Alembic's init reports every file it writes; the demo prints its own summary.
        with contextlib.redirect_stdout(io.StringIO()):
            init(directory=migrations, multidb=True)
        _write_revisions(Path(migrations))
        config = app.extensions["migrate"].migrate.get_config(migrations)
        scripts = ScriptDirectory.from_config(config)
        try:
            upgrade_database(scripts, db.engines[None], "", revision_id(DEFAULT_STANDS_AT))
            upgrade_database(scripts, db.engines[BIND], BIND, revision_id(ANALYTICS_STANDS_AT))
        finally:
            for engine in db.engines.values():
                engine.dispose()


def _twin_app(folder: Path) -> tuple[Any, Any]:
    """An app with the demo's configuration but no models: enough to make and run migrations.

    Importing the demo's own app.py would leave modules named ``app`` and ``models`` behind,
    and those must be loaded from the project's final folder when the workbench opens.
    """
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from workbench import Migrate

    app = Flask("workbench_demo", root_path=str(folder))
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{(folder / 'shop.db').as_posix()}"
    app.config["SQLALCHEMY_BINDS"] = {BIND: f"sqlite:///{(folder / 'analytics.db').as_posix()}"}
    db = SQLAlchemy(app)
    Migrate(app, db)
    return app, db


def _write_revisions(migrations: Path) -> None:
    """Render every demo revision with the project's own ``script.py.mako`` and write it."""
    from alembic import util as alembic_util
    from alembic.script.revision import tuple_rev_as_scalar
    from mako.template import Template

    template = Template(filename=str(migrations / "script.py.mako"))
    dates = create_dates()
    for demo_revision in revisions():
        rev = revision_id(demo_revision.key)
        source = template.render_unicode(
            up_revision=rev,
            down_revision=tuple_rev_as_scalar(tuple(map(revision_id, demo_revision.parents))),
            branch_labels=(demo_revision.branch_label,) if demo_revision.branch_label else None,
            depends_on=None,
            create_date=dates[demo_revision.key],
            comma=alembic_util.format_as_comma,
            message=demo_revision.message,
            imports="",
            _upgrades=demo_revision.upgrade,
            _downgrades=demo_revision.downgrade,
            **{
                f"{BIND}_upgrades": demo_revision.upgrade_analytics,
                f"{BIND}_downgrades": demo_revision.downgrade_analytics,
            },
        )
        _write(migrations / "versions" / f"{rev}_{_slug(demo_revision.message)}.py", source)


def _slug(message: str) -> str:
    """The file-name slug Alembic makes from a message (``%(slug)s``, 40 characters at most)."""
    slug = "_".join(re.findall(r"\w+", message)).lower()
    if len(slug) > 40:
        slug = slug[:40].rsplit("_", 1)[0] + "_"
    return slug


def _write(path: Path, text: str) -> None:
    """Write a text file atomically: a temporary file in the same folder, then a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
