"""The SQL view (`s`) and the confirmations on batch revisions; how fast the view follows.

A batch on SQLite cannot be rendered offline; the view and the confirmations show what the run
sends on a scratch copy standing where it starts, and the user's database is not touched.
"""

from __future__ import annotations

from tui_revisions import TWO_HEADS
from tui_support import SIZE, SQLITE_ONLY, screen_text, settle, wait_for

BATCH_REVISION = '''\
"""add a title to posts

Revision ID: f6000000
Revises: c3000000
Create Date: 2024-03-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = 'f6000000'
down_revision = 'c3000000'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', recreate='always') as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('posts', recreate='always') as batch_op:
        batch_op.drop_column('title')
'''


def batch_history(make_tui_project):
    """TWO_HEADS and a batch revision on c3000000; the database stands at b2000000."""
    tui = make_tui_project(revisions=TWO_HEADS, upgrade_to="b2000000")
    (tui.project.migrations / "versions" / "f6000000_add_a_title.py").write_text(BATCH_REVISION)
    return tui


@SQLITE_ONLY
async def test_the_sql_view_of_a_batch_revision_shows_the_statements_it_runs(make_tui_project):
    tui = batch_history(make_tui_project)
    before = tui.tables(), tui.versions()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: "f6000000" in screen_text(app))
        app.graph_view.select_revision("f6000000")

        await pilot.press("s")
        await wait_for(pilot, lambda: "_alembic_tmp_posts" in screen_text(app))
        text = screen_text(app)
        assert "SQL of f6000000 on default" in text
        assert "CREATE TABLE _alembic_tmp_posts" in text
        assert "live database connection" not in text

        app.graph_view.select_revision("c3000000")
        await wait_for(pilot, lambda: "CREATE TABLE posts" in screen_text(app))
    assert (tui.tables(), tui.versions()) == before


@SQLITE_ONLY
async def test_the_upgrade_confirmation_shows_the_sql_of_a_batch_revision(make_tui_project):
    tui = batch_history(make_tui_project)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: "f6000000" in screen_text(app))
        app.graph_view.select_revision("f6000000")

        await pilot.press("u")
        await wait_for(pilot, lambda: "_alembic_tmp_posts" in screen_text(app), seconds=90)
        text = screen_text(app)
        assert "CREATE TABLE posts" in text
        assert "live database connection" not in text
        assert "could not be rendered" not in text
        await pilot.press("escape")
    assert tui.versions() == frozenset({"b2000000"})


@SQLITE_ONLY
async def test_one_warm_child_renders_the_sql_of_every_revision_visited(make_tui_project):
    tui = batch_history(make_tui_project)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: "f6000000" in screen_text(app))
        app.graph_view.select_revision("a1000000")
        await pilot.press("s")
        await wait_for(pilot, lambda: "CREATE TABLE users" in screen_text(app))
        pid = app.warm_child.pid

        for revision, table in [
            ("b2000000", "accounts"),
            ("c3000000", "posts"),
            ("d4000000", "tags"),
            ("f6000000", "_alembic_tmp_posts"),
            ("a1000000", "users"),
            ("c3000000", "posts"),
        ]:
            app.graph_view.select_revision(revision)
            await wait_for(pilot, lambda table=table: f"CREATE TABLE {table}" in screen_text(app))
            assert f"SQL of {revision} on default" in screen_text(app)

        assert app.warm_child.started == 1
        assert app.warm_child.pid == pid


@SQLITE_ONLY
async def test_the_sql_is_rendered_again_when_the_file_changes_on_disk(make_tui_project):
    tui = batch_history(make_tui_project)
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: "c3000000" in screen_text(app))
        app.graph_view.select_revision("c3000000")
        await pilot.press("s")
        await wait_for(pilot, lambda: "CREATE TABLE posts" in screen_text(app))
        app.graph_view.select_revision("b2000000")
        await wait_for(pilot, lambda: "CREATE TABLE accounts" in screen_text(app))

        path = tui.paths["c3000000"]
        path.write_text(path.read_text().replace("'posts'", "'articles'"))
        app.graph_view.select_revision("c3000000")

        await wait_for(pilot, lambda: "CREATE TABLE articles" in screen_text(app))
        assert "CREATE TABLE posts" not in screen_text(app)
        assert app.warm_child.started == 1


@SQLITE_ONLY
async def test_the_downgrade_confirmation_shows_the_sql_of_a_batch_revision(make_tui_project):
    tui = batch_history(make_tui_project)
    tui.project.db("upgrade", "f6000000", in_process=True)
    before = tui.tables(), tui.versions()
    app = tui.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: "f6000000" in screen_text(app))
        app.graph_view.select_revision("c3000000")

        await pilot.press("D")
        # the pane's title and its SQL can reach the screen in two frames: wait for both
        shown = ("run on a scratch copy", "CREATE TABLE _alembic_tmp_posts")
        await wait_for(pilot, lambda: all(part in screen_text(app) for part in shown), 90)
        assert "live database connection" not in screen_text(app)
        await pilot.press("escape")
    assert (tui.tables(), tui.versions()) == before
