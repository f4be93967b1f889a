"""Models, hand-written revisions and child runs shared by the review, preview and verify tests."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from revision_files import revision_source

from workbench.core.preview import Preview
from workbench.runtime.client import Launch, start
from workbench.runtime.requests import Request
from workbench.services.running import preview_result

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
SQLITE_AND_POSTGRES = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)

NAME_RENAMED = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    full_name = db.Column(db.String(64))
"""

MULTIDB_CHANGED = """\
from app import db


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))
    body = db.Column(db.Text)


class User(db.Model):
    __bind_key__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    full_name = db.Column(db.String(64))
"""


def write_revision(
    project, revision: str, down_revision: str | None, upgrade: str, downgrade: str
) -> Path:
    """Write a hand-written single-database revision file into the project's versions folder."""
    path = project.migrations / "versions" / f"{revision}_hand_written.py"
    path.write_text(
        revision_source(
            revision, down_revision, upgrade, downgrade, message=f"hand-written {revision}"
        )
    )
    return path


def start_project(project, rev_id: str = "aaaa0001") -> None:
    """Init the migrations folder, write the first revision from the models and upgrade to it.

    In the test process, even for a test about the real child: no test is about these steps.
    """
    project.db("init", in_process=True)
    project.db("migrate", "-m", "initial", "--rev-id", rev_id, in_process=True)
    project.db("upgrade", in_process=True)


def launch(project) -> Launch:
    """How child operations start on the project: FLASK_* cleared, no bytecode written."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("FLASK_")
    }
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return Launch(project.path, "app", environment)


def previewed(project, request: Request) -> Preview:
    """Preview or review on the project in a child process, and wait for its answer."""
    return preview_result(start(request, launch(project)))


def op_lines(script: str, function: str = "upgrade") -> set[str]:
    """The ``op.``/``batch_op.`` statement lines of one function of a script, as a set.

    Alembic orders dropped columns differently from one process to the next, so scripts are
    compared as sets of operations, not as text.
    """
    match = re.search(rf"^def {function}\(\):\n(.*?)(?=^def |\Z)", script, re.MULTILINE | re.DOTALL)
    assert match, f"no {function}() in the script"
    return {
        line.strip()
        for line in match.group(1).splitlines()
        if line.strip().startswith(("op.", "batch_op.", "with op."))
    }


def project_files(project) -> dict[Path, bytes]:
    """Every file of the project by relative path: to prove a command wrote nothing."""
    return {
        path.relative_to(project.path): path.read_bytes()
        for path in project.path.rglob("*")
        if path.is_file()
    }
