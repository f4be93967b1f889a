"""PostgreSQL's lock timeout on the migration's own statements, against a real blocking session."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from flask_projects import describe
from sqlalchemy.pool import NullPool

ALTER_UPGRADE = """\
def upgrade():
    op.add_column("accounts", sa.Column("note", sa.String(20)))
"""

pytestmark = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.servers)]
)


def alter_project(make_project, **kwargs):
    """A project at revision r1 (which creates ``accounts``) with r2 pending: an ADD COLUMN."""
    project = make_project(**kwargs)
    project.db("init", in_process=True)
    project.db("revision", "-m", "accounts", "--rev-id", "r1", in_process=True)
    first = project.migrations / "versions" / "r1_accounts.py"
    first.write_text(
        first.read_text().replace(
            "def upgrade():\n    pass\n",
            'def upgrade():\n    op.create_table("accounts", sa.Column("id", sa.Integer))\n',
            1,
        )
    )
    project.db("upgrade", in_process=True)
    project.db("revision", "-m", "note", "--rev-id", "r2", in_process=True)
    second = project.migrations / "versions" / "r2_note.py"
    second.write_text(second.read_text().replace("def upgrade():\n    pass\n", ALTER_UPGRADE, 1))
    return project


class BlockingSession:
    """A session that reads ``accounts`` in an open transaction (its lock held) for a while."""

    def __init__(self, url: str, seconds: float) -> None:
        self.engine = sa.create_engine(
            url, poolclass=NullPool, connect_args={"application_name": "nightly report"}
        )
        self.seconds = seconds
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.released = threading.Event()
        self.pid: int | None = None
        self.thread = threading.Thread(target=self.hold, daemon=True)

    def hold(self) -> None:
        with self.engine.connect() as connection:
            self.pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            connection.exec_driver_sql("SELECT count(*) FROM accounts")
            self.ready.set()
            self.stop.wait(self.seconds)
            connection.rollback()
            self.released.set()

    def __enter__(self) -> BlockingSession:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)
        self.engine.dispose()


@pytest.mark.parametrize("how", ["option", "environment", "Migrate"])
def test_lock_timeout_fails_fast_naming_the_table_and_the_blocker(make_project, how):
    kwargs = {"migrate_kwargs": {"lock_timeout": "1s"}} if how == "Migrate" else {}
    project = alter_project(make_project, **kwargs)
    options = ["--lock-timeout", "1s"] if how == "option" else []
    env = {"WORKBENCH_LOCK_TIMEOUT": "1s"} if how == "environment" else None
    with BlockingSession(project.url(), seconds=90) as blocker:
        result = project.db("upgrade", *options, env=env, expect=None, in_process=False)
        blocker_still_there = not blocker.released.is_set()
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, describe(result)
    error = errors[0]
    assert error.startswith(
        "Error: lock_timeout (1s) expired waiting for a lock on table accounts in database default"
    ), error
    assert f"blocked by pid {blocker.pid}, application 'nightly report'" in error
    assert "query started " in error and "holding AccessShareLock" in error
    assert "SELECT count(*) FROM accounts" in error
    assert "ALTER TABLE accounts ADD COLUMN note" in error
    assert "default is at r1" in error
    assert blocker_still_there, "the upgrade waited for the blocking session to end"
    assert project.state().versions == {"r1"}


def test_without_a_lock_timeout_the_alter_waits_for_the_blocker(make_project):
    project = alter_project(make_project)
    with BlockingSession(project.url(), seconds=4):
        began = time.monotonic()
        result = project.db("upgrade", expect=None, in_process=False)
        took = time.monotonic() - began
    assert result.returncode == 0, describe(result)
    assert took >= 3, f"the ALTER did not wait: {took:.1f} s"
    assert project.state().versions == {"r2"}


def test_statement_timeout_is_set_too(make_project):
    project = make_project()
    project.db("init", in_process=True)
    project.db("revision", "-m", "slow", "--rev-id", "r1", in_process=True)
    script = project.migrations / "versions" / "r1_slow.py"
    script.write_text(
        script.read_text().replace(
            "def upgrade():\n    pass\n",
            'def upgrade():\n    op.execute("SELECT pg_sleep(5)")\n',
            1,
        )
    )
    result = project.db("upgrade", "--statement-timeout", "500ms", expect=None, in_process=False)
    assert result.returncode == 1, describe(result)
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: statement_timeout (500ms) cancelled a statement"), error
    assert "pg_sleep(5)" in error


def test_timeouts_do_not_outlive_the_migration_transaction(make_project):
    """``SET LOCAL``: the app's pooled connection keeps the server's own lock_timeout."""
    project = make_project(
        app_code="""
        @app.cli.command("after")
        def after():
            from workbench import upgrade
            upgrade(lock_timeout="2s")
            with db.engine.connect() as connection:
                print("lock_timeout:", connection.exec_driver_sql("SHOW lock_timeout").scalar())
        """
    )
    project.db("init", in_process=True)
    project.db("revision", "-m", "empty", "--rev-id", "r1", in_process=True)
    result = project.flask("after", in_process=False)
    assert "lock_timeout: 0" in result.stdout, describe(result)
