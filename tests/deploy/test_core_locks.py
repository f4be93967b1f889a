"""The lock names, the settings and the timeout message: pure functions of ``core.locks``."""

from __future__ import annotations

import pytest

from workbench.core.locks import (
    DEFAULT_LOCK_WAIT,
    BlockingSession,
    MigrationSafety,
    advisory_lock_key,
    describe_lock_timeout,
    lock_file_path,
    locked_table,
    named_lock,
    parse_duration,
    resolve_safety,
    timeout_statements,
)


def test_advisory_keys_are_stable_signed_64_bit_and_per_version_table():
    key = advisory_lock_key()
    assert key == advisory_lock_key("alembic_version", None)
    assert -(2**63) <= key < 2**63
    assert key != advisory_lock_key("other_version")
    assert key != advisory_lock_key("alembic_version", "tenant")


def test_named_locks_include_the_database_and_fit_mysql_limit():
    assert named_lock("shop") == "workbench-migration:shop.alembic_version"
    assert named_lock("shop") != named_lock("blog")
    long = named_lock("d" * 60, "v" * 60)
    assert len(long) <= 64 and long.startswith("workbench-migration:")
    assert long != named_lock("d" * 60, "w" * 60)


def test_lock_files_sit_beside_the_database_file():
    assert lock_file_path("/srv/app.db") == "/srv/app.db.migration-lock"
    assert lock_file_path("/srv/app.db", "v", "s") == "/srv/app.db.s.v.migration-lock"
    assert lock_file_path(":memory:") is None
    assert lock_file_path(None) is None
    assert lock_file_path("file:x?mode=memory") is None


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [
        ("5", 5000),
        (5, 5000),
        (0.25, 250),
        ("500ms", 500),
        ("2s", 2000),
        ("1.5s", 1500),
        ("2min", 120000),
        ("1h", 3600000),
        ("0", None),
        ("off", None),
        ("", None),
        (None, None),
    ],
)
def test_durations(text, milliseconds):
    assert parse_duration(text) == milliseconds


@pytest.mark.parametrize("text", ["soon", "-1", "5 days", True, float("nan")])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="lock timeout"):
        parse_duration(text, "the lock timeout")


def test_settings_come_from_the_command_then_the_environment_then_migrate():
    assert resolve_safety({}, {}, {}) == MigrationSafety(True, DEFAULT_LOCK_WAIT, None, None)
    configured = {"lock": False, "lock_wait": 10, "lock_timeout": "3s"}
    assert resolve_safety({}, {}, configured) == MigrationSafety(False, 10.0, 3000, None)
    environ = {"WORKBENCH_MIGRATION_LOCK": "1", "WORKBENCH_LOCK_TIMEOUT": "700ms"}
    assert resolve_safety({}, environ, configured) == MigrationSafety(True, 10.0, 700, None)
    explicit = {"lock": None, "lock_timeout": "1s", "statement_timeout": "1min"}
    assert resolve_safety(explicit, environ, configured) == MigrationSafety(True, 10.0, 1000, 60000)
    with pytest.raises(ValueError, match="WORKBENCH_MIGRATION_LOCK"):
        resolve_safety({}, {"WORKBENCH_MIGRATION_LOCK": "maybe"}, {})


def test_timeout_statements_are_local_to_the_transaction():
    assert timeout_statements(MigrationSafety()) == []
    assert timeout_statements(
        MigrationSafety(lock_timeout_ms=5000, statement_timeout_ms=60000)
    ) == [
        "SET LOCAL lock_timeout = 5000",
        "SET LOCAL statement_timeout = 60000",
    ]


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("ALTER TABLE accounts ADD COLUMN note VARCHAR(20)", "accounts"),
        ('ALTER TABLE IF EXISTS ONLY "Shop"."Orders" DROP COLUMN x', '"Shop"."Orders"'),
        ("CREATE UNIQUE INDEX ix_a ON public.accounts (email)", "public.accounts"),
        ("DROP TABLE old_things", "old_things"),
        ("UPDATE counter SET runs = runs + 1", "counter"),
        ("SELECT pg_sleep(5)", None),
        (None, None),
    ],
)
def test_the_locked_table_is_read_from_the_statement(statement, table):
    assert locked_table(statement) == table


def test_the_timeout_message_names_table_and_blocker_on_one_line():
    blocker = BlockingSession(
        pid=4242,
        application="nightly report",
        state="idle in transaction",
        query_start="2026-12-06 07:00:00 UTC",
        query="SELECT count(*)\n  FROM accounts",
        mode="AccessShareLock",
    )
    message = describe_lock_timeout(
        "lock_timeout", 5000, "accounts", "default", [blocker], "ALTER TABLE accounts ADD x int"
    )
    assert message == (
        "lock_timeout (5s) expired waiting for a lock on table accounts in database default; "
        "blocked by pid 4242, application 'nightly report', idle in transaction, query started "
        "2026-12-06 07:00:00 UTC, holding AccessShareLock: SELECT count(*) FROM accounts "
        "(while running: ALTER TABLE accounts ADD x int)"
    )
    assert "\n" not in message
    gone = describe_lock_timeout("lock_timeout", 500, "t", "users", [], None)
    assert gone.endswith("the session holding it was gone when the timeout fired")
