"""Alembic environment for a single-database Flask application with asyncio.

An asynchronous engine (``AsyncEngine``) is migrated through
``AsyncConnection.run_sync()`` on an asyncio event loop; a synchronous engine
is migrated directly. The engine, the model metadata and the
``context.configure()`` options come from the Flask application through
Migration Workbench, so this file normally needs no editing.
"""

import asyncio
import contextvars
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_db = migrate_ext.db


def get_engine() -> Any:
    """Return the application's engine, an ``Engine`` or an ``AsyncEngine``."""
    engines = getattr(target_db, "engines", None)
    if engines is None:  # Flask-SQLAlchemy < 3 and Alchemical
        return target_db.get_engine()
    return engines[None]


def is_async(engine: Any) -> bool:
    """Tell an ``AsyncEngine`` (which wraps a ``sync_engine``) from an ``Engine``."""
    return hasattr(engine, "sync_engine")


def config_url(engine: Any) -> str:
    """Return the engine URL, password included, escaped for the config file."""
    return engine.url.render_as_string(hide_password=False).replace("%", "%%")


# Offline mode needs the real URL, so the password stays in (never log it).
config.set_main_option("sqlalchemy.url", config_url(get_engine()))


def get_metadata() -> MetaData:
    """Return the metadata that describes the models."""
    metadatas = getattr(target_db, "metadatas", None)
    if metadatas is None:
        return target_db.metadata
    return metadatas[None]


def skip_empty_revision(migration_context: Any, revision: Any, directives: list) -> None:
    """Write no revision file when autogenerate finds no schema changes."""
    if not getattr(config.cmd_opts, "autogenerate", False):
        return
    if directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def configure_args() -> dict[str, Any]:
    """Return a fresh copy of the extension's ``context.configure()`` options."""
    conf_args = dict(migrate_ext.configure_args)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = skip_empty_revision
    return conf_args


def run_migrations_offline() -> None:
    """Write the migration SQL to the output buffer instead of a database."""
    conf_args = configure_args()
    conf_args["literal_binds"] = True
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=get_metadata(),
        **conf_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on an open (synchronous) connection."""
    context.configure(connection=connection, target_metadata=get_metadata(), **configure_args())
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(engine: Any) -> None:
    """Run the migrations on an ``AsyncEngine``."""
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        # Pooled connections belong to this event loop, which ends with us.
        await engine.dispose()


def run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion, also when called from a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    # asyncio.run() refuses to nest: use a worker thread with its own loop,
    # carrying over the context variables (such as Flask's app context).
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(contextvars.copy_context().run, asyncio.run, coroutine).result()


def run_migrations_online() -> None:
    """Run the migrations against the application's database."""
    engine = get_engine()
    if is_async(engine):
        run_coroutine(run_async_migrations(engine))
    else:
        with engine.connect() as connection:
            do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
