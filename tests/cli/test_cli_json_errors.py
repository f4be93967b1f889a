"""Commands asked for JSON fail in JSON: ``{"error": "..."}`` on stdout, non-zero exit, no text."""

from __future__ import annotations

import json
import subprocess

import pytest

JSON_COMMANDS = (
    ("review", "--json"),
    ("status", "--json"),
    ("graph", "--format", "json"),
    ("doctor", "--json"),
    ("verify", "--json"),
)

pytestmark = [pytest.mark.parametrize("backend", ["sqlite"]), pytest.mark.flask_in_process]


def json_error(result: subprocess.CompletedProcess[str], exit_code: int = 1) -> str:
    """Assert the run failed with one JSON error object on stdout and nothing else; its message."""
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "", result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["error"], document
    assert isinstance(document["error"], str) and document["error"]
    assert not document["error"].startswith("Error")
    return document["error"]


def test_every_json_command_fails_in_json(make_project, tmp_path, run_flask):
    project = make_project()
    for command in JSON_COMMANDS:  # no migrations folder yet
        message = json_error(project.db(*command, expect=None))
        assert "no migrations folder" in message, command

    empty = tmp_path / "no-app"
    empty.mkdir()
    for command in JSON_COMMANDS:
        result = run_flask(empty, "db", *command, env={"FLASK_APP": None})
        assert json_error(result).startswith("Could not locate a Flask application"), command

    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    assert "zzzz" in json_error(project.db("review", "--json", "zzzz", expect=None))
    behind = json_error(project.db("review", "--json", expect=None))
    assert behind.startswith("Target database is not up to date")
    assert "--timeout" in json_error(
        project.db("status", "--json", "--timeout", "soon", expect=None), exit_code=2
    )
    assert "--limit" in json_error(
        project.db("graph", "--format=json", "--limit", "x", expect=None), exit_code=2
    )


def test_without_json_errors_stay_one_text_line(make_project):
    project = make_project()
    (missing,) = project.db_errors(["status"])
    assert missing.stdout == ""
    assert missing.stderr.startswith("Error: no migrations folder")
    usage = project.db("graph", "--format", "text", "--limit", "x", expect=2)
    assert usage.stdout == "" and "Invalid value for '--limit'" in usage.stderr


def test_a_json_command_without_options_still_runs(make_project):
    project = make_project()
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    assert "aaaa0001" in project.db("graph").stdout
    assert json.loads(project.db("graph", "--format", "json").stdout)["heads"] == ["aaaa0001"]
