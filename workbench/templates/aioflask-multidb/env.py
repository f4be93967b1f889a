"""Alembic environment for a Flask application with several databases and asyncio.

The default database (engine name ``''``) and every bind in
``SQLALCHEMY_BINDS`` are migrated in one run. Asynchronous engines
(``AsyncEngine``) are driven from an asyncio event loop through
``AsyncConnection.run_sync()``; synchronous engines, alone or mixed with
asynchronous ones, also work. Engines, model metadata and the
``context.configure()`` options come from the Flask application through
Migration Workbench, so this file normally needs no editing.
"""

import asyncio
import contextvars
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, ExitStack
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

# Set to True to commit all databases with a two-phase commit.
USE_TWOPHASE = False

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_db = migrate_ext.db


def get_engine(name: str = "") -> Any:
    """Return the engine of a database ('' is the default), sync or async."""
    bind_key = name or None
    engines = getattr(target_db, "engines", None)
    if engines is None:  # Flask-SQLAlchemy < 3 and Alchemical
        return target_db.get_engine(bind=bind_key)
    return engines[bind_key]


def is_async(engine: Any) -> bool:
    """Tell an ``AsyncEngine`` (which wraps a ``sync_engine``) from an ``Engine``."""
    return hasattr(engine, "sync_engine")


def get_bind_names() -> list[str]:
    """Return the names of the binds, from SQLALCHEMY_BINDS or the db object."""
    binds = current_app.config.get("SQLALCHEMY_BINDS")
    if binds is not None:
        return [name for name in binds if name is not None]
    legacy_bind_names = getattr(target_db, "bind_names", None)
    return list(legacy_bind_names()) if legacy_bind_names else []


def config_url(engine: Any) -> str:
    """Return the engine URL, password included, escaped for the config file."""
    return engine.url.render_as_string(hide_password=False).replace("%", "%%")


# Offline mode needs the real URLs, so passwords stay in (never log them).
config.set_main_option("sqlalchemy.url", config_url(get_engine()))
bind_names = get_bind_names()
for bind_name in bind_names:
    config.set_section_option(bind_name, "sqlalchemy.url", config_url(get_engine(bind_name)))
database_names = ["", *bind_names]


def get_url(name: str) -> str | None:
    """Return the URL stored in the config for a database."""
    if name:
        return config.get_section_option(name, "sqlalchemy.url")
    return config.get_main_option("sqlalchemy.url")


def get_metadata(name: str) -> MetaData:
    """Return the metadata of the models that live in a database."""
    bind_key = name or None
    metadatas = getattr(target_db, "metadatas", None)
    if metadatas is not None:
        metadata = metadatas.get(bind_key)
        return MetaData() if metadata is None else metadata
    # Older db objects keep every table in one metadata, tagged with its bind.
    metadata = MetaData()
    for table in target_db.metadata.tables.values():
        if table.info.get("bind_key") == bind_key:
            table.to_metadata(metadata)
    return metadata


def skip_empty_revision(migration_context: Any, revision: Any, directives: list) -> None:
    """Write no revision file when autogenerate finds no changes in any database."""
    if not getattr(config.cmd_opts, "autogenerate", False):
        return
    script = directives[0]
    # Called once per database; decide only after the last one was compared.
    if len(script.upgrade_ops_list) < len(database_names):
        return
    if all(upgrade_ops.is_empty() for upgrade_ops in script.upgrade_ops_list):
        directives[:] = []
        logger.info("No changes in schema detected.")


def configure_args() -> dict[str, Any]:
    """Return a fresh copy of the extension's ``context.configure()`` options."""
    conf_args = dict(migrate_ext.configure_args)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = skip_empty_revision
    return conf_args


def configure(name: str, **kwargs: Any) -> None:
    """Configure the migration context for one database."""
    context.configure(
        target_metadata=get_metadata(name),
        upgrade_token=f"{name}_upgrades",
        downgrade_token=f"{name}_downgrades",
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Write the SQL of every database, one after the other, to the output buffer."""
    conf_args = configure_args()
    conf_args["literal_binds"] = True
    for name in database_names:
        logger.info("Migrating database %s", name or "<default>")
        configure(name, url=get_url(name), **conf_args)
        context.get_context().impl.static_output(f"-- Database: {name or 'default'}")
        with context.begin_transaction():
            context.run_migrations(engine_name=name)


def migrate_all(connections: dict[str, Connection]) -> None:
    """Migrate every database, then commit all of them or roll all of them back."""
    conf_args = configure_args()
    transactions = {
        name: connection.begin_twophase() if USE_TWOPHASE else connection.begin()
        for name, connection in connections.items()
    }
    try:
        for name, connection in connections.items():
            logger.info("Migrating database %s", name or "<default>")
            configure(name, connection=connection, **conf_args)
            context.run_migrations(engine_name=name)
        if USE_TWOPHASE:
            for transaction in transactions.values():
                transaction.prepare()
        for transaction in transactions.values():
            transaction.commit()
    except BaseException:
        for transaction in transactions.values():
            transaction.rollback()
        raise


async def run_async_migrations(engines: dict[str, Any]) -> None:
    """Migrate databases of which at least one has an ``AsyncEngine``."""
    try:
        async with AsyncExitStack() as stack:
            connections = {}
            for name, engine in engines.items():
                if is_async(engine):
                    connections[name] = await stack.enter_async_context(engine.connect())
                else:
                    connections[name] = stack.enter_context(engine.connect())
            sync_connections = {
                name: getattr(connection, "sync_connection", connection)
                for name, connection in connections.items()
            }
            # run_sync() provides the greenlet in which the sync API of every
            # async connection (not only this one) may be used.
            runner = next(conn for conn in connections.values() if hasattr(conn, "run_sync"))
            await runner.run_sync(lambda _: migrate_all(sync_connections))
    finally:
        # Pooled connections belong to this event loop, which ends with us.
        for engine in engines.values():
            if is_async(engine):
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
    """Run the migrations against all the application's databases."""
    engines = {name: get_engine(name) for name in database_names}
    if any(is_async(engine) for engine in engines.values()):
        run_coroutine(run_async_migrations(engines))
        return
    with ExitStack() as stack:
        connections = {
            name: stack.enter_context(engine.connect()) for name, engine in engines.items()
        }
        migrate_all(connections)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
