"""The typed confirmation of a destructive plan asks for the databases' real names.

The bind key (``default``, ``audit``) says nothing about which server database is about to
lose data: the confirmation asks for the name in each changed server database's URL, refuses
the bind key, and a multi-database env.py (one run migrates every database) says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from textual.widgets import Button, Input
from tui_revisions import REVISION_TEMPLATE
from tui_support import SIZE, TuiProject, screen_text, settle, wait_for

from workbench.core.databases import DatabaseTarget
from workbench.project import MigrationProject
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.screens.confirm import ConfirmScreen

pytestmark = [pytest.mark.servers, pytest.mark.parametrize("backend", ["postgresql"])]

MULTIDB_BODY = """\
def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    op.create_table('{table}', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade_():
    op.drop_table('{table}')


def upgrade_audit():
    op.create_table('{table}_audit', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade_audit():
    op.drop_table('{table}_audit')
"""


def multidb_revision(revision: str, down: str | None, table: str) -> str:
    """A revision of the multi-database template: a table in each database."""
    single = REVISION_TEMPLATE.format(
        message=f"create {table}",
        revision=revision,
        revises=down or "",
        create_date="2024-03-01 10:00:00.000000",
        down_revision=down,
        branch_labels=None,
        upgrade="    pass",
        downgrade="    pass",
    )
    header = single[: single.index("def upgrade():")]
    return header + MULTIDB_BODY.format(table=table)


@pytest.fixture
def mariadb(scratch_databases: Any, tmp_path: Path) -> Iterator[Any]:
    """Fresh MariaDB databases beside the test's PostgreSQL ones, dropped after the test.

    Made by the class of the suite's ``scratch_databases`` (its conftest is not importable
    from here: this folder's conftest has the same module name).
    """
    databases = type(scratch_databases)("mysql", tmp_path)
    try:
        yield databases
    finally:
        databases.drop_all()


def real_name(url: str) -> str:
    name = make_url(url).database
    assert name and name not in ("default", "audit")
    return name


def multidb_app(project, audit_url: str) -> WorkbenchApp:
    migrations = project.migrations
    targets = (
        DatabaseTarget("default", project.database_url),
        DatabaseTarget("audit", audit_url),
    )
    migration_project = MigrationProject(
        directory=str(migrations),
        version_locations=(str(migrations / "versions"),),
        recursive_version_locations=False,
        sourceless=False,
        multidb=True,
        targets=targets,
    )
    return make_app(
        migration_project,
        command_group="python -m flask db",
        app_import_path="app",
        project_folder=str(project.path),
        poll_seconds=0.2,
    )


async def open_downgrade(app: WorkbenchApp, pilot, revision: str) -> str:
    await settle(app, pilot)
    await wait_for(pilot, lambda: bool(app.database_panel.statuses))
    app.graph_view.select_revision(revision)
    await pilot.press("D")
    assert isinstance(app.screen, ConfirmScreen)
    await wait_for(pilot, lambda: "DROP TABLE" in screen_text(app))
    return screen_text(app)


async def type_names(app: WorkbenchApp, pilot, text: str) -> None:
    app.screen.query_one("#typed-name", Input).value = text
    await pilot.pause()


async def test_a_postgresql_default_and_a_mariadb_bind_are_confirmed_by_their_real_names(
    make_project, mariadb
):
    project = make_project(binds=["audit"])
    audit_url = mariadb.new()
    app_py = project.path / "app.py"
    app_py.write_text(app_py.read_text().replace(project.binds["audit"], audit_url))
    project.binds["audit"] = audit_url
    project.db("init", "--multidb", in_process=True)
    versions = project.migrations / "versions"
    (versions / "a1000000_create_users.py").write_text(multidb_revision("a1000000", None, "users"))
    (versions / "b2000000_create_posts.py").write_text(
        multidb_revision("b2000000", "a1000000", "posts")
    )
    project.db("upgrade", in_process=True)
    assert project.state().versions == project.state("audit").versions == {"b2000000"}
    postgres_name, mariadb_name = real_name(project.database_url), real_name(audit_url)
    assert make_url(audit_url).get_backend_name() == "mysql"

    app = multidb_app(project, audit_url)
    async with app.run_test(size=SIZE) as pilot:
        text = await open_downgrade(app, pilot, "a1000000")
        assert "Downgrade every database (default, audit) to a1000000: one run" in text
        assert "env.py migrates every database in one run" in text
        assert "Downgrade default to" not in text
        name_input = app.screen.query_one("#typed-name", Input)
        assert name_input.display
        assert postgres_name in name_input.placeholder
        assert mariadb_name in name_input.placeholder
        run = app.screen.query_one("#run", Button)

        for refused in ("default", "audit", "default audit", postgres_name, mariadb_name):
            await type_names(app, pilot, refused)
            assert run.disabled, refused
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, ConfirmScreen), refused

        await type_names(app, pilot, f"{mariadb_name} {postgres_name}")
        assert not run.disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await wait_for(pilot, lambda: not app.operation_running, 120)
        await settle(app, pilot)

    assert project.state().versions == project.state("audit").versions == {"a1000000"}
    assert "posts" not in project.state().tables
    assert "posts_audit" not in project.state("audit").tables


async def test_one_server_database_is_confirmed_by_its_name_not_default(make_tui_project):
    tui: TuiProject = make_tui_project(upgrade_to="c3000000")
    name = real_name(tui.project.database_url)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        text = await open_downgrade(app, pilot, "a1000000")
        assert "Downgrade default to a1000000" in text
        assert "one run" not in text
        assert f"type the database's name, {name!r}, to confirm" in text
        run = app.screen.query_one("#run", Button)

        await type_names(app, pilot, "default")
        assert run.disabled
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)

        await type_names(app, pilot, name)
        assert not run.disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await wait_for(pilot, lambda: not app.operation_running, 120)
        await settle(app, pilot)

    assert tui.versions() == {"a1000000"}
