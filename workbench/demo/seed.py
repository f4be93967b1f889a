"""Seeding the demo's databases: each one upgraded to its own revision, apart from the other.

The project's env.py migrates every database together to one target; the demo wants them
standing at different revisions, so this runs the same revision files through Alembic's public
API (``MigrationContext``, ``Operations.context``, ``ScriptDirectory.iterate_revisions``) for a
single database at a time, in the order ``alembic upgrade`` runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Engine

# Where each database stands: the default one three revisions behind the main head (someone
# pulled main and has not upgraded yet), the bind at the billing head (it was last upgraded
# from the billing branch, which has an analytics table of its own).
DEFAULT_STANDS_AT = "product_slug"
ANALYTICS_STANDS_AT = "invoice_due_index"


def upgrade_database(
    scripts: ScriptDirectory, engine: Engine, engine_name: str, target: str
) -> None:
    """Upgrade one new database to a revision, running only its own ``upgrade_<name>()`` functions.

    As ``alembic upgrade`` does on SQLite: the version table is made first, every revision
    runs in a transaction of its own, oldest first, and the version table ends at ``target``.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        # A fresh file that is thrown away if anything fails: no need to wait for the disk
        # after each of the many small transactions SQLite's non-transactional DDL makes.
        connection.exec_driver_sql("PRAGMA synchronous = OFF")
        connection.commit()
        context = MigrationContext.configure(connection)
        with connection.begin():
            # Stamping a new database at base makes its (empty) version table.
            context.stamp(scripts, "base")
        with Operations.context(context):
            for script in reversed(list(scripts.iterate_revisions(target, "base"))):
                with connection.begin():
                    script.module.upgrade(engine_name=engine_name)
        with connection.begin():
            context.stamp(scripts, target)
