"""Fixtures for plain Alembic projects: ``make_alembic``, on the test's backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic_projects import AlembicProject, make_alembic_project
from flask_in_process import marked_in_process


@pytest.fixture
def make_alembic(
    scratch_databases, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[..., AlembicProject]:
    """``make_alembic(template, settings_app=False)``: a project on fresh databases.

    In a test marked ``flask_in_process``, its ``alembic`` and ``workbench`` runs happen in
    the test process.
    """
    count = 0

    def make(template: str = "generic", *, settings_app: bool = False) -> AlembicProject:
        nonlocal count
        count += 1
        databases = 2 if template == "multidb" else 1
        if template in ("async", "pyproject_async") and scratch_databases.backend == "mysql":
            pytest.importorskip("aiomysql")
        urls = [scratch_databases.new() for _ in range(databases)]
        project = make_alembic_project(
            tmp_path / f"{template}{count}", template, urls, settings_app=settings_app
        )
        project.in_process = marked_in_process(request.node)
        return project

    return make
