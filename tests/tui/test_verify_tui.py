"""Scratch runs from the workbench (verify, the upgrade's lock report): nothing runs before it
is asked for, what it found shows, the real data stays."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from textual.widgets import Static
from tui_support import SIZE, SQLITE_AND_POSTGRES, SQLITE_ONLY, screen_text, settle, wait_for

from workbench.core.verify import SCRATCH_PREFIX
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.verify import VerifyScreen

pytestmark = pytest.mark.flask_in_process

USERS = """\
from app import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64))
"""

BROKEN_DOWNGRADE = '''\
"""broken downgrade

Revision ID: cccc0003
Revises: aaaa0001
"""
from alembic import op

revision = "cccc0003"
down_revision = "aaaa0001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    op.drop_table("no_such_table")
'''


@SQLITE_AND_POSTGRES
async def test_verify_runs_once_asked_and_names_the_broken_downgrade(make_tui_project, backend):
    tui = make_tui_project(revisions=[])
    tui.project.write_models(USERS)
    tui.project.db("migrate", "-m", "users", "--rev-id", "aaaa0001")
    (tui.project.migrations / "versions" / "cccc0003_broken.py").write_text(BROKEN_DOWNGRADE)
    tui.project.db("upgrade")
    states_before = tui.project.states()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("V")
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        text = screen_text(app)
        assert "real ones are not touched" in text
        expected_scratch = "temporary SQLite file" if backend == "sqlite" else "wb_verify_"
        assert expected_scratch in text
        await pilot.pause(0.3)
        assert not screen.started and "· waiting" in screen_text(app)

        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.ended, 120)

        checks = {check.name: check for check in screen.checks}
        assert [checks[name].status for name in checks] == ["passed"] * 3 + ["failed"]
        failed = [item for item in checks["up-down-up"].revisions if not item.passed]
        assert [(item.revision, item.step) for item in failed] == [("cccc0003", "downgrade")]
        text = screen_text(app)
        assert "✓ passed" in text and "✗ FAILED" in text and "✗ cccc0003 (downgrade)" in text
        assert "1 of 4 checks failed: up-down-up" in text

        await pilot.press("escape")
        assert not isinstance(app.screen, VerifyScreen)
    assert tui.project.states() == states_before


SLOW_UPGRADE = '''\
"""slow upgrade

Revision ID: bbbb0002
Revises: aaaa0001
"""
from alembic import op

revision = "bbbb0002"
down_revision = "aaaa0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT pg_sleep(30)")


def downgrade():
    pass
'''


def databases_named(project, query: str) -> set[str]:
    """The names one query on the project's server returns."""
    engine = sa.create_engine(project.database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.text(query)).scalars())
    finally:
        engine.dispose()


def sleeping_scratch_database(project) -> str | None:
    """The scratch database where the slow upgrade is sleeping now, if it is."""
    names = databases_named(
        project,
        "SELECT datname FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%'"
        f" AND datname LIKE '{SCRATCH_PREFIX}%'",
    )
    return next(iter(names), None)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.servers)])
async def test_closing_during_the_checks_stops_them_and_drops_the_scratch_database(
    make_tui_project, backend
):
    tui = make_tui_project(revisions=[])
    tui.project.write_models(USERS)
    tui.project.db("migrate", "-m", "users", "--rev-id", "aaaa0001")
    tui.project.db("upgrade")
    (tui.project.migrations / "versions" / "bbbb0002_slow.py").write_text(SLOW_UPGRADE)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("V", "enter")
        screen = app.screen
        await wait_for(pilot, lambda: sleeping_scratch_database(tui.project) is not None, 60)
        scratch = sleeping_scratch_database(tui.project)
        running = screen.running
        assert not screen.ended

        await pilot.press("escape")

        assert not isinstance(app.screen, VerifyScreen)
        await wait_for(pilot, lambda: running.returncode is not None, 30)
        assert running.returncode == 130  # cancelled, not terminated
        all_databases = "SELECT datname FROM pg_database"
        assert scratch not in databases_named(tui.project, all_databases)


BATCH_ALTER = '''\
"""name becomes text

Revision ID: bbbb0002
Revises: aaaa0001
"""
from alembic import op
import sqlalchemy as sa

revision = "bbbb0002"
down_revision = "aaaa0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.alter_column("name", type_=sa.Text(), existing_type=sa.String(64))


def downgrade():
    pass
'''


@SQLITE_ONLY
async def test_the_upgrade_confirmation_measures_the_pending_revisions_once_asked(
    make_tui_project,
):
    tui = make_tui_project(revisions=[])
    tui.project.write_models(USERS)
    tui.project.db("migrate", "-m", "users", "--rev-id", "aaaa0001")
    tui.project.db("upgrade")
    (tui.project.migrations / "versions" / "bbbb0002_text.py").write_text(BATCH_ALTER)
    states_before = tui.project.states()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        locks = app.screen.query_one("#locks-text", Static)

        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: "Measured bbbb0002" in str(locks.render()), 60)

        shown = str(locks.render())
        assert "Measured bbbb0002, on a scratch sqlite database at its parent" in shown
        assert "rewrites user; batch mode copies the table" in shown
        await pilot.press("escape")
    assert tui.project.states() == states_before
