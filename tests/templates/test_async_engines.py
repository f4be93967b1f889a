"""The aioflask templates drive a real async engine (aiosqlite) through `flask db`."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.flask_in_process

ASYNC_APP = """
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import create_async_engine

from workbench import Migrate


class AsyncDatabase:
    \"\"\"An async db object's shape (Alchemical's): engines and metadatas by bind.\"\"\"

    def __init__(self, urls):
        self.engines = {{key: create_async_engine(url) for key, url in urls.items()}}
        self.metadatas = {{key: MetaData() for key in urls}}
        self.metadata = self.metadatas[None]


app = Flask(__name__)
app.config["SQLALCHEMY_BINDS"] = {binds!r}
db = AsyncDatabase({urls!r})
Table(
    "account",
    db.metadatas[None],
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
)
for key in {binds!r}:
    Table(f"{{key}}_event", db.metadatas[key], Column("id", Integer, primary_key=True))
Migrate(app, db)
"""


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("select name from sqlite_master where type='table'")
        return {name for (name,) in rows}


@pytest.mark.parametrize(
    "template, binds",
    [
        pytest.param("aioflask", [], marks=pytest.mark.flask_subprocess),
        ("aioflask-multidb", ["audit"]),
    ],
)
def test_async_template_migrates_with_an_async_engine(
    tmp_path: Path, run_flask: Callable[..., Any], template: str, binds: list[str]
) -> None:
    files = {None: tmp_path / "main.sqlite", **{key: tmp_path / f"{key}.sqlite" for key in binds}}
    urls = {key: f"sqlite+aiosqlite:///{path}" for key, path in files.items()}
    (tmp_path / "app.py").write_text(
        textwrap.dedent(ASYNC_APP.format(urls=urls, binds={key: "unused" for key in binds}))
    )

    assert run_flask(tmp_path, "db", "init", "-t", template).returncode == 0
    created = run_flask(tmp_path, "db", "migrate", "-m", "first")
    assert created.returncode == 0, created.stderr
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 1

    upgraded = run_flask(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert {"account", "alembic_version"} <= tables(files[None])
    for key in binds:
        assert {f"{key}_event", "alembic_version"} <= tables(files[key])

    status = run_flask(tmp_path, "db", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count(" at head ") == 1 + len(binds), status.stdout

    unchanged = run_flask(tmp_path, "db", "migrate", "-m", "nothing")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "No changes in schema detected." in unchanged.stderr
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 1

    downgraded = run_flask(tmp_path, "db", "downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
    assert "account" not in tables(files[None])
