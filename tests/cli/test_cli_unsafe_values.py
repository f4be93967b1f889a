"""Values users type for a new revision: unsafe ids and labels are refused, any message loads.

Each case is a real `flask` run (or the Python API in a real app) on a real project; every
refusal is one ``Error:`` line with nothing written, every accepted message gives a file that
Alembic's own ``ScriptDirectory`` loads and reads back as typed.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_projects import assert_one_line_error, describe, flask_migrate_init
from sample_models import POST_MODEL

pytestmark = pytest.mark.flask_in_process

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
SQLITE_AND_POSTGRESQL = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)

UNSAFE_IDS = ["../../evil", "quo'te", "a@b", "a-b", "with space", "head", "x" * 33]

CREATE_REFUSED = """\
import json, sys
import workbench
from app import app

with app.app_context():
    for function, arguments in json.loads(sys.argv[1]):
        try:
            getattr(workbench, function)(**arguments)
        except workbench.WorkbenchError as exc:
            print("WorkbenchError:", exc)
        else:
            print(function, "raised nothing")
"""

CREATE_MANY = """\
import json, sys
import workbench
from app import app

with app.app_context():
    for function, arguments in json.loads(sys.argv[1]):
        getattr(workbench, function)(**arguments)
"""

MESSAGES = [
    'triple """ quotes',
    'ends with a quote"',
    "single ''' quotes and a trailing '",
    "back\\slash \\n \\x00 \\",
    "first line\nsecond line",
    "carriage\rreturn and\ttab",
    "nul \x00 inside",
    "escape \x1b[31m red",
    "ünïcödé ✓ 日本語",
    "{curly} ${dollar} %(percent)s <b>",
]


def project_files(project) -> dict[Path, bytes]:
    """Every file under the project, to prove nothing was written anywhere."""
    return {
        path.relative_to(project.path.parent): path.read_bytes()
        for path in project.path.parent.rglob("*")
        if path.is_file() and path.suffix != ".sqlite"
    }


def initialized(make_project, **options):
    project = make_project(**options)
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    project.db("upgrade")
    return project


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["revision", "migrate"])
def test_unsafe_revision_ids_are_refused_with_nothing_written(make_project, command):
    project = initialized(make_project)
    project.add_model(POST_MODEL)
    before = project_files(project)
    for rev_id in [*UNSAFE_IDS, str(project.path.parent / "absolute")]:
        result = project.db(command, "-m", "evil", "--rev-id", rev_id, expect=None)
        line = assert_one_line_error(result)
        assert "nothing written" in line, line
        assert project_files(project) == before, f"--rev-id {rev_id!r} wrote a file"
    project.db(command, "-m", "fine", "--rev-id", "0002_fine.v2")
    assert "0002_fine.v2_fine.py" in project.revision_files()


@SQLITE_ONLY
def test_rev_id_with_a_path_no_longer_writes_outside_versions(make_project):
    project = initialized(make_project)
    line = assert_one_line_error(
        project.db("revision", "-m", "t", "--rev-id", "../../evil", expect=None)
    )
    assert line == (
        "Error: revision id '../../evil' contains '/': use letters, digits and '_' "
        "('.' only between them); nothing written"
    )
    assert not (project.path / "evil_t.py").exists()
    assert list(project.path.rglob("evil*")) == []


@SQLITE_AND_POSTGRESQL
def test_a_quote_in_the_rev_id_is_refused_so_upgrade_keeps_working(make_project):
    project = initialized(make_project)
    line = assert_one_line_error(
        project.db("revision", "-m", "q", "--rev-id", "quo'te", expect=None)
    )
    assert 'revision id "quo\'te" contains "\'"' in line
    project.db("upgrade")
    assert project.state().versions == {"aaaa0001"}


@SQLITE_ONLY
def test_an_existing_rev_id_is_refused_and_the_file_is_kept(make_project):
    project = initialized(make_project)
    existing = project.migrations / "versions" / "aaaa0001_first.py"
    original = existing.read_bytes()
    for message in ("first", "other"):
        line = assert_one_line_error(
            project.db("revision", "-m", message, "--rev-id", "aaaa0001", expect=None)
        )
        assert line.startswith("Error: revision aaaa0001 already exists (")
        assert line.endswith("aaaa0001_first.py); nothing written")
    assert existing.read_bytes() == original
    assert project.revision_files() == {"aaaa0001_first.py"}
    project.db("upgrade")


@SQLITE_ONLY
def test_python_api_refuses_unsafe_ids_and_labels(make_project):
    project = initialized(make_project)
    before = project_files(project)
    cases = [
        ("revision", {"message": "x", "rev_id": "../evil"}, "contains '/'"),
        ("revision", {"message": "x", "rev_id": "aaaa0001"}, "already exists"),
        ("migrate", {"message": "x", "rev_id": "a b"}, "contains ' '"),
        ("revision", {"message": "x", "branch_label": "a@b"}, "contains '@'"),
        ("merge", {"revisions": "heads", "rev_id": "/tmp/evil"}, "contains '/'"),
    ]
    calls = [(function, arguments) for function, arguments, _ in cases]
    result = project.python(CREATE_REFUSED, [json.dumps(calls)])
    outcomes = result.stdout.splitlines()  # one line per call, and nothing else
    assert len(outcomes) == len(cases), describe(result)
    for outcome, (_, _, reason) in zip(outcomes, cases, strict=True):
        assert outcome.startswith("WorkbenchError: "), describe(result)
        assert reason in outcome and "nothing written" in outcome, describe(result)
    assert project_files(project) == before


@SQLITE_ONLY
def test_unsafe_branch_labels_are_refused(make_project):
    project = initialized(make_project)
    project.db("revision", "-m", "side", "--rev-id", "bbbb0002", "--branch-label", "side")
    before = project_files(project)
    for label, reason in [
        ("a@b", "contains '@'"),
        ("my-1", "contains '-'"),
        ("x:y", "contains ':'"),
        ("a,b", "contains ','"),
        ("heads", "one of Alembic's symbols"),
        ("side", "already used by bbbb0002"),
        ("aaaa0001", "is the id of an existing revision"),
    ]:
        line = assert_one_line_error(
            project.db("revision", "-m", "x", "--branch-label", label, expect=None)
        )
        assert reason in line, line
    line = assert_one_line_error(project.db("migrate", "--branch-label", "a@b", expect=None))
    assert "contains '@'" in line
    assert project_files(project) == before
    project.db("revision", "-m", "labelled", "--branch-label", "feature_2")
    assert len(project.db("show", "feature_2@head").stdout.splitlines()) > 1


@SQLITE_ONLY
def test_merge_refuses_unsafe_and_existing_ids_and_labels(make_project):
    project = initialized(make_project)
    project.db("revision", "-m", "b", "--rev-id", "bbbb0002", "--head", "aaaa0001")
    project.db("revision", "-m", "c", "--rev-id", "cccc0003", "--head", "aaaa0001", "--splice")
    before = project_files(project)
    for extra, reason in [
        (["--rev-id", "../evil"], "contains '/'"),
        (["--rev-id", "quo'te"], 'contains "\'"'),
        (["--rev-id", "bbbb0002"], "revision bbbb0002 already exists"),
        (["--branch-label", "x@y"], "contains '@'"),
    ]:
        for dry_run in ([], ["--dry-run"]):
            result = project.db("merge", "heads", "-m", "m", *extra, *dry_run, expect=None)
            assert result.stdout == "", describe(result)
            line = assert_one_line_error(result)
            assert reason in line, line
    assert project_files(project) == before
    project.db("merge", "heads", "-m", "m", "--rev-id", "dddd0004", "--branch-label", "merged")
    assert project.db("heads").stdout.splitlines() == ["dddd0004 (merged) (head)"]


def flask_migrate_folder(make_project, multidb: bool):
    """A project whose migrations folder Flask-Migrate made, driven by the workbench."""
    project = make_project(extension="flask_migrate", binds=["audit"] if multidb else ())
    flask_migrate_init(project, multidb)
    app_py = project.path / "app.py"
    app_py.write_text(
        app_py.read_text().replace(
            "from flask_migrate import Migrate", "from workbench import Migrate"
        )
    )
    return project


def workbench_folder(make_project, template: str):
    multidb = "multidb" in template
    project = make_project(binds=["audit"] if multidb else ())
    project.db("init", "-t", template)
    return project


FOLDERS = [
    pytest.param(lambda make: workbench_folder(make, "flask"), id="ours-flask"),
    pytest.param(lambda make: workbench_folder(make, "flask-multidb"), id="ours-flask-multidb"),
    pytest.param(lambda make: workbench_folder(make, "aioflask"), id="ours-aioflask"),
    pytest.param(
        lambda make: workbench_folder(make, "aioflask-multidb"), id="ours-aioflask-multidb"
    ),
    pytest.param(lambda make: flask_migrate_folder(make, False), id="flask-migrate"),
    pytest.param(lambda make: flask_migrate_folder(make, True), id="flask-migrate-multidb"),
]


@SQLITE_ONLY
@pytest.mark.parametrize("make_folder", FOLDERS)
def test_any_message_gives_a_file_alembic_loads_and_reads_back(make_project, make_folder):
    project = make_folder(make_project)
    calls = [
        ("revision", {"message": message, "rev_id": f"m{index:04d}"})
        for index, message in enumerate(MESSAGES)
    ]
    calls.append(
        ("merge", {"revisions": "heads", "message": 'merge """ it\n', "rev_id": "merge01"})
    )
    project.python(CREATE_MANY, [json.dumps(calls)])

    script = ScriptDirectory(str(project.migrations))
    for index, message in enumerate(MESSAGES):
        loaded = script.get_revision(f"m{index:04d}")
        assert loaded.module.__doc__.startswith(f"{message}\n\nRevision ID: m{index:04d}\n")
    assert script.get_revision("merge01").module.__doc__.startswith('merge """ it\n\n\n')
    assert script.get_heads() == ["merge01"]

    document = json.loads(project.db("graph", "--format", "json").stdout)
    read_back = {entry["revision"]: entry["message"] for entry in document["revisions"]}
    assert [read_back[f"m{index:04d}"] for index in range(len(MESSAGES))] == MESSAGES
    assert document["diagnostics"] == []
    project.db("upgrade")
    assert set(project.db("current").stdout.splitlines()) == {"merge01 (head)"}


@SQLITE_ONLY
def test_triple_quotes_on_the_command_line_no_longer_break_every_command(make_project):
    project = initialized(make_project)
    project.db("revision", "-m", 'triple """ quotes', "--rev-id", "bbbb0002")
    project.db("revision", "-m", "C:\\new\\", "--rev-id", "cccc0003")
    project.db("upgrade")
    history = project.db("history").stdout
    assert 'bbbb0002, triple """ quotes' in history
    assert "cccc0003 (head), C:\\new\\" in history
    source = (project.migrations / "versions" / "bbbb0002_triple_quotes.py").read_text()
    assert source.startswith('"""triple \\"\\"" quotes\n')


def graph_outputs(project) -> dict[str, str]:
    return {
        kind: project.db("graph", "--format", kind).stdout for kind in ("text", "dot", "mermaid")
    }


@SQLITE_ONLY
def test_control_characters_in_messages_stay_on_one_line_in_every_graph_format(make_project):
    project = initialized(make_project)
    hostile = {
        "bbbb0002": "first line\nsecond line",
        "cccc0003": "nul \x00 here",
        "dddd0004": 'quote " and # and <b>`tick`</b> & \\',
        "eeee0005": "carriage\rreturn \x1b[31m red",
    }
    calls = [("revision", {"message": message, "rev_id": r}) for r, message in hostile.items()]
    project.python(CREATE_MANY, [json.dumps(calls)])

    outputs = graph_outputs(project)
    text = outputs["text"].splitlines()
    assert len(text) == 5
    assert text[0].endswith("eeee0005      (head) carriage␤return \\x1b[31m red")
    assert text[1].endswith('dddd0004      quote " and # and <b>`tick`</b> & \\')
    assert text[2].endswith("cccc0003      nul \\x00 here")
    assert text[3].endswith("bbbb0002      first line␤second line")
    for output in outputs.values():
        assert "\x00" not in output and "\x1b" not in output and "\r" not in output

    dot = outputs["dot"].splitlines()
    assert '  "bbbb0002" [label="bbbb0002\\nfirst line␤second line"];' in dot
    assert '  "dddd0004" [label="dddd0004\\nquote \\" and # and <b>`tick`</b> & \\\\"];' in dot
    assert len([line for line in dot if "[label=" in line]) == 5

    mermaid = outputs["mermaid"].splitlines()
    assert (
        '  r1["dddd0004<br/>quote #quot; and #35; and #lt;b#gt;#96;tick#96;#lt;/b#gt; #amp; \\"]'
        in mermaid
    )
    assert '  r3["bbbb0002<br/>first line␤second line"]' in mermaid
    assert len(mermaid) == 1 + 5 + 4


EMPTY_REVISION = """\
\"\"\"nothing

\"\"\"
revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
"""


def doctor_fix_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith(("fix:", "or:"))
    ]


@SQLITE_ONLY
def test_doctor_fix_lines_work_when_pasted_into_a_shell(make_project):
    project = make_project()
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    project.db("upgrade")
    path = project.migrations / "versions" / "quote_nothing.py"
    path.write_text(EMPTY_REVISION.format(revision="quo'te $HOME", down="aaaa0001"))

    result = project.db("doctor", expect=1)
    fixes = doctor_fix_lines(result)
    edit = "python -m flask db edit 'quo'\"'\"'te $HOME'"
    assert edit in fixes, describe(result)
    problems = json.loads(project.db("doctor", "--json", expect=1).stdout)
    assert edit in [problem["fix_command"] for problem in problems]
    assert shlex.split(edit)[-1] == "quo'te $HOME"

    env_python = Path(sys.executable).parent
    pasted = subprocess.run(
        ["bash", "-c", edit],
        cwd=project.path,
        env={
            "PATH": f"{env_python}:/usr/bin:/bin",
            "FLASK_APP": "app",
            "EDITOR": "echo opened",
            "HOME": "/nonexistent",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pasted.returncode == 0, describe(pasted)
    assert pasted.stdout.strip() == f"opened {path}"
