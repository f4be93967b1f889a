"""A plain SQLite file's version table, read with ``sqlite3``, reads as SQLAlchemy reads it."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from workbench.core.databases import DatabaseTarget, plain_sqlite_file, read_version

STATES = {
    "missing file": None,
    "empty database": [],
    "other tables only": ["CREATE TABLE users (id INTEGER)", "CREATE TABLE orders (id INTEGER)"],
    "empty version table": ["CREATE TABLE alembic_version (version_num VARCHAR(32))"],
    "two heads and a table": [
        "CREATE TABLE alembic_version (version_num VARCHAR(32))",
        "INSERT INTO alembic_version VALUES ('b2'), ('a1')",
        "CREATE TABLE users (id INTEGER)",
    ],
    "own version table": [
        'CREATE TABLE "shop versions" (version_num VARCHAR(32))',
        "INSERT INTO \"shop versions\" VALUES ('c3')",
    ],
}


def fields(reading):
    return (
        reading.revisions,
        reading.version_table_exists,
        reading.other_tables,
        reading.error,
        reading.notes,
    )


@pytest.mark.parametrize("state", list(STATES))
def test_sqlite3_reads_what_sqlalchemy_reads(tmp_path, state):
    path = tmp_path / "app.db"
    statements = STATES[state]
    if statements is not None:
        with sqlite3.connect(path) as connection:
            for statement in statements:
                connection.execute(statement)
    table = "shop versions" if state == "own version table" else "alembic_version"
    text = f"sqlite:///{path}"
    direct = DatabaseTarget("default", text, version_table=table)
    through_sqlalchemy = DatabaseTarget("default", make_url(text), version_table=table)
    assert plain_sqlite_file(direct) == str(path)
    assert plain_sqlite_file(through_sqlalchemy) is None

    assert fields(read_version(direct)) == fields(read_version(through_sqlalchemy))
    assert path.exists() == (statements is not None)


@pytest.mark.parametrize("name", ["a b.db", "no#1.db", "café 日本.db", "a&b=c;d+e.db"])
def test_a_file_name_with_uri_characters_is_read_as_written(tmp_path, name):
    folder = tmp_path / "data #1"
    folder.mkdir()
    path = folder / name
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('c3')")

    reading = read_version(DatabaseTarget("default", f"sqlite:///{path}"))

    assert plain_sqlite_file(DatabaseTarget("default", f"sqlite:///{path}")) == str(path)
    assert reading.error is None
    assert reading.revisions == ("c3",)
    assert sorted(p.name for p in folder.iterdir()) == [name]  # nothing else created


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x?mode=ro&uri=true",
        "sqlite:///a%20b.db",
        "sqlite+aiosqlite:///x.db",
        "postgresql://u@h/db",
    ],
)
def test_other_urls_take_sqlalchemys_way(url):
    assert plain_sqlite_file(DatabaseTarget("default", url)) is None
