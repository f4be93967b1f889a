"""How ``flask db tui`` starts: a forked child loads the app, or one process does it all.

Both ways end the same: a broken app is one ``Error:`` line before any screen, an app's own
``db`` command still runs, and the workbench opens on the graph and the databases at once.
"""

from __future__ import annotations

import os

import pytest
from tui_support import SIZE, SQLITE_ONLY, screen_text

from workbench.cli.flask_group import db, opens_workbench
from workbench.core.databases import database_status
from workbench.tui.app import make_app
from workbench.tui.history import load_history
from workbench.tui.prefork import FORK_VARIABLE

BOTH_WAYS = pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "one-process"])
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")

OWN_DB_GROUP = """\
import click


@app.cli.group("db")
def own_db():
    \"\"\"The app's own database helpers.\"\"\"


@own_db.command("tui")
def own_tui():
    click.echo("the app's own db tui")
"""


@SQLITE_ONLY
@BOTH_WAYS
def test_an_app_that_fails_to_import_is_one_error_line(make_project, assert_one_line_error, fork):
    project = make_project(app_code='raise RuntimeError("the app is broken")')

    result = project.db("tui", env={FORK_VARIABLE: fork}, expect=None)

    assert assert_one_line_error(result) == "Error: cannot load the app: the app is broken"
    assert result.stdout == ""


@SQLITE_ONLY
@BOTH_WAYS
def test_the_apps_output_reaches_the_user_once(make_project, assert_one_line_error, fork):
    project = make_project(app_code='print("the app says hello", flush=True)')

    result = project.db("tui", env={FORK_VARIABLE: fork}, expect=None)

    assert "no migrations folder" in assert_one_line_error(result)
    assert result.stdout == "the app says hello\n"


@SQLITE_ONLY
@BOTH_WAYS
def test_an_app_with_its_own_db_command_keeps_it(make_project, fork):
    project = make_project(migrate_kwargs={"command": "database"}, app_code=OWN_DB_GROUP)

    result = project.flask("db", "tui", env={FORK_VARIABLE: fork})

    assert result.stdout == "the app's own db tui\n"


@SQLITE_ONLY
@BOTH_WAYS
def test_an_app_that_exits_while_imported_exits_the_same(make_project, fork):
    project = make_project(app_code="raise SystemExit(3)")

    project.db("tui", env={FORK_VARIABLE: fork}, expect=3)


@pytest.mark.parametrize(
    ("args", "opens"),
    [
        (["tui"], True),
        (["-d", "migrations", "tui", "--read-only"], True),
        (["--directory=migrations", "-x", "a=1", "tui", "-d", "migrations"], True),
        (["tui", "--help"], False),
        (["--help"], False),
        (["heads"], False),
        (["-x", "tui", "heads"], False),
        (["tui", "extra"], False),
        (["tui", "-d"], False),
        (["tui", "--read-only=yes"], False),
    ],
)
def test_only_arguments_of_the_workbench_start_it_in_two_processes(args, opens):
    assert opens_workbench(db, args) is opens


@SQLITE_ONLY
async def test_a_preloaded_workbench_shows_the_graph_and_databases_at_once(make_tui_project):
    tui = make_tui_project(upgrade_to="b2000000")
    project = tui.migration_project
    history = load_history(project)
    statuses = database_status(project.targets, history.graph)
    app = make_app(
        project,
        command_group="python -m flask db",
        history=history,
        statuses=statuses,
        poll_seconds=60,
    )

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        assert app.history is history
        assert app.graph_view.row_count == 4
        assert "Revisions: 4, 2 heads" in screen_text(app)
        assert "behind 2" in screen_text(app)
        assert not [worker for worker in app.workers if worker.group in ("history", "statuses")]
