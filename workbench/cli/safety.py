"""The deploy-safety options of ``upgrade``, ``downgrade`` and ``stamp``: the lock and timeouts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from workbench.core.locks import LOCK_TIMEOUT_ENV, LOCK_WAIT_ENV, STATEMENT_TIMEOUT_ENV

SAFETY_PARAMETERS = ("no_lock", "lock_wait", "lock_timeout", "statement_timeout")


def safety_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--no-lock``, ``--lock-wait``, ``--lock-timeout`` and ``--statement-timeout``."""
    for option in reversed(
        [
            click.option(
                "--no-lock",
                is_flag=True,
                default=None,
                help="Do not take the database-wide migration lock "
                "(taken by default: one migration at a time per database)",
            ),
            click.option(
                "--lock-wait",
                default=None,
                metavar="SECONDS",
                help="How long to wait for another migration of the same database "
                f"(default 300; env {LOCK_WAIT_ENV})",
            ),
            click.option(
                "--lock-timeout",
                default=None,
                metavar="DURATION",
                help="PostgreSQL lock_timeout for the migration's statements, e.g. 5s, 500ms "
                f"(env {LOCK_TIMEOUT_ENV})",
            ),
            click.option(
                "--statement-timeout",
                default=None,
                metavar="DURATION",
                help="PostgreSQL statement_timeout for the migration's statements "
                f"(env {STATEMENT_TIMEOUT_ENV})",
            ),
        ]
    ):
        function = option(function)
    return function


def safety_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The command functions' keyword arguments from the options (absent ones left out)."""
    return {
        "migration_lock": False if options.get("no_lock") else None,
        "lock_wait": options.get("lock_wait"),
        "lock_timeout": options.get("lock_timeout"),
        "statement_timeout": options.get("statement_timeout"),
    }
