"""`flask db graph` and `flask db status`: the graph, where each database stands, broken states."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.flask_in_process

EMPTY_MODELS = "from app import db\n"


def branched_history(project) -> None:
    """init, then a1 <- b2 <- c3 and a branch a1 <- d4 (two heads: c3 and d4)."""
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002")
    project.db("revision", "-m", "third", "--rev-id", "cccc0003")
    project.db(
        "revision", "-m", "side branch", "--rev-id", "dddd0004", "--head", "aaaa0001", "--splice"
    )


def test_graph_and_status_follow_a_branch_and_its_merge(make_project):
    project = make_project(models=EMPTY_MODELS)
    branched_history(project)
    project.db("upgrade", "cccc0003")

    text = project.db("graph").stdout
    rows = {line.split()[-1]: line for line in text.splitlines()}
    assert set(rows) == {"first", "second", "third", "branch"}
    assert "cccc0003" in rows["third"] and "(head)" in rows["third"]
    assert "[default]" in rows["third"] and "[default]" not in rows["second"]
    assert "(head)" in rows["branch"] and "(head)" not in rows["first"]
    assert any(glyph in text for glyph in "│╭╮╯╰")

    document = json.loads(project.db("graph", "--format", "json").stdout)
    assert sorted(document["heads"]) == ["cccc0003", "dddd0004"]
    assert document["bases"] == ["aaaa0001"]
    by_id = {entry["revision"]: entry for entry in document["revisions"]}
    assert by_id["dddd0004"]["down_revisions"] == ["aaaa0001"]
    assert by_id["bbbb0002"]["message"] == "second"
    assert by_id["cccc0003"]["databases"] == ["default"]
    assert by_id["aaaa0001"]["path"].endswith("aaaa0001_first.py")
    assert document["diagnostics"] == []
    assert (
        len(json.loads(project.db("graph", "--format", "json", "--limit", "2").stdout)["revisions"])
        == 2
    )

    dot = project.db("graph", "--format", "dot").stdout
    assert dot.startswith("digraph") and '"aaaa0001" -> "dddd0004";' in dot
    mermaid = project.db("graph", "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart") and "-->" in mermaid

    behind = project.db("status", "--json", expect=1)
    (default,) = json.loads(behind.stdout)
    assert default["state"] == "needs merge"
    assert default["current"] == ["cccc0003"] and default["pending"] == ["dddd0004"]
    assert default["reason"] == (
        "at head cccc0003; head dddd0004 is on another branch, 1 revision it has not applied: "
        "merge the heads, or upgrade to heads to apply both"
    )
    (line,) = project.db("status", expect=1).stdout.splitlines()
    assert "needs merge" in line and default["reason"] in line  # the same words as --json

    project.db("merge", "-m", "join", "--rev-id", "eeee0005", "cccc0003", "dddd0004")
    project.db("upgrade")
    (at_head,) = project.db("status").stdout.splitlines()
    assert at_head.split()[0] == "default" and at_head.split()[2:5] == ["eeee0005", "at", "head"]
    document = json.loads(project.db("graph", "--format", "json").stdout)
    assert document["heads"] == ["eeee0005"] and document["merge_points"] == ["eeee0005"]


def test_status_is_behind_then_at_head_for_a_multidb_project(make_project, backend):
    project = make_project(models=EMPTY_MODELS, binds=["users"])
    project.db("init", "--multidb")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002")
    project.db("upgrade", "aaaa0001")

    behind = json.loads(project.db("status", "--json", expect=1).stdout)
    assert [(item["name"], item["state"], item["pending"]) for item in behind] == [
        ("default", "behind", ["bbbb0002"]),
        ("users", "behind", ["bbbb0002"]),
    ]
    graph = project.db("graph").stdout
    assert "[default] [users]" in graph

    project.db("upgrade")
    assert "users" in project.db("status").stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_graph_and_status_work_when_revision_files_cannot_be_imported(make_project):
    project = make_project(models=EMPTY_MODELS)
    branched_history(project)
    project.db("upgrade", "bbbb0002")
    versions = project.migrations / "versions"
    needs_app = versions / "ffff0006_needs_app.py"
    needs_app.write_text(
        '"""needs the app\n\nRevision ID: ffff0006\nRevises: cccc0003\n"""\n'
        "from myapp.models import Thing  # not importable here\n\n"
        "revision = 'ffff0006'\ndown_revision = 'cccc0003'\n"
        "branch_labels = None\ndepends_on = None\n"
    )
    broken = versions / "9999_broken.py"
    broken.write_text("revision = '9999\ndown_revision = 'ffff0006'\n")
    (versions / "8888_latin1.py").write_bytes(b"revision = '8888'\nmessage = '\xe9t\xe9'\n")
    before = project.snapshot()

    graph = project.db("graph", "--format", "json", expect=1)
    document = json.loads(graph.stdout)
    assert "ffff0006" in document["heads"]
    kinds = {(item["kind"], item["path"].rsplit("/", 1)[-1]) for item in document["diagnostics"]}
    assert ("unreadable", "8888_latin1.py") in kinds
    assert ("unreadable", "9999_broken.py") in kinds
    text = project.db("graph", expect=1)
    assert "needs the app" in text.stdout
    assert "8888_latin1.py" in text.stderr

    # the two broken files make Alembic refuse the history: where the database stands is unknown
    status = json.loads(project.db("status", "--json", expect=1).stdout)
    assert status[0]["state"] == "broken history"
    assert project.snapshot() == before
    (versions / "9999_broken.py").unlink()
    (versions / "8888_latin1.py").unlink()
    # a file importing the app's modules is not broken: the graph never imports it
    status = json.loads(project.db("status", "--json", expect=1).stdout)
    # behind on the main line while the side branch's head exists: a merge is what it needs
    assert status[0]["state"] == "needs merge"
    assert status[0]["reason"].startswith(
        "2 revisions behind head ffff0006; head dddd0004 is on another branch, 1 revision"
    )
    assert "ffff0006" in status[0]["pending"]
    assert project.db("graph").stderr == ""


@pytest.mark.parametrize("backend", ["sqlite"])
def test_history_problems_become_diagnostics_not_crashes(make_project):
    project = make_project(models=EMPTY_MODELS)
    project.db("init")
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001")
    versions = project.migrations / "versions"
    (versions / "bbbb_orphan.py").write_text("revision = 'bbbb0002'\ndown_revision = 'nowhere1'\n")
    (versions / "cccc_loop_a.py").write_text("revision = 'cccc0003'\ndown_revision = 'dddd0004'\n")
    (versions / "dddd_loop_b.py").write_text("revision = 'dddd0004'\ndown_revision = 'cccc0003'\n")
    (versions / "eeee_twin.py").write_text("revision = 'aaaa0001'\ndown_revision = None\n")
    before = project.snapshot()

    document = json.loads(project.db("graph", "--format", "json", expect=1).stdout)
    kinds = {item["kind"] for item in document["diagnostics"]}
    assert {"missing_parent", "cycle", "duplicate_id"} <= kinds, document["diagnostics"]
    project.db("status", expect=1)
    assert project.snapshot() == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_empty_and_missing_version_folders(make_project):
    project = make_project(models=EMPTY_MODELS)
    project.db("init")
    empty = project.db("status", "--json", expect=1)
    assert json.loads(empty.stdout)[0]["state"] == "empty"
    assert project.db("graph").stdout == ""

    (project.migrations / "versions").rmdir()
    missing = project.db("graph", "--format", "json")
    assert [item["kind"] for item in json.loads(missing.stdout)["diagnostics"]] == [
        "missing_folder"
    ]


def test_database_states_with_reasons(make_project, backend):
    project = make_project(models=EMPTY_MODELS)
    branched_history(project)
    project.db("upgrade", "bbbb0002")

    with project.connect() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'feedface0000'"))
    unknown = json.loads(project.db("status", "--json", expect=1).stdout)[0]
    assert unknown["state"] == "unknown revision"
    assert "feedface0000" in unknown["reason"]

    with project.connect() as connection:
        connection.execute(sa.text("DELETE FROM alembic_version"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('aaaa0001')"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('bbbb0002')"))
    overlapping = json.loads(project.db("status", "--json", expect=1).stdout)[0]
    assert overlapping["state"] == "inconsistent"

    with project.connect() as connection:
        connection.execute(sa.text("DELETE FROM alembic_version"))
        connection.execute(sa.text("CREATE TABLE legacy (id INTEGER PRIMARY KEY)"))
    unstamped = json.loads(project.db("status", "--json", expect=1).stdout)[0]
    assert unstamped["state"] == "not stamped"
    assert "stamp" in unstamped["reason"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a server that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.flask_subprocess
@pytest.mark.parametrize("backend", ["sqlite"])
def test_unreachable_and_refusing_databases_are_states_with_reasons(make_project, silent_server):
    extra = {
        "hanging": f"postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:{silent_server}/test",
        "closed": "postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:1/test",
        "denied": "mysql+pymysql://root:s3cr3t-pw@127.0.0.1:3306/test",
    }
    project = make_project(
        models=EMPTY_MODELS, app_code=f"app.config['WORKBENCH_DATABASES'] = {extra!r}\n"
    )
    project.db("init", in_process=True)
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001", in_process=True)
    project.db("upgrade", in_process=True)

    started = time.monotonic()
    result = project.db("status", "--json", "--timeout", "1", expect=1)
    assert time.monotonic() - started < 15
    states = {item["name"]: item for item in json.loads(result.stdout)}
    assert states["default"]["state"] == "at head"
    for name in extra:
        assert states[name]["state"] == "unreachable", states[name]
        assert states[name]["reason"], states[name]
        assert states[name]["read_only"] is True
    assert "1045" in states["denied"]["reason"] or "denied" in states["denied"]["reason"]
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    graph = project.db("graph", "--timeout", "1")
    assert "s3cr3t-pw" not in graph.stdout + graph.stderr
