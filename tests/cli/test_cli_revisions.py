"""Revision files: revision and migrate options, branches, merges, edit, configure callbacks."""

from __future__ import annotations

import stat
import sys

import pytest
from sample_models import POST_MODEL

pytestmark = pytest.mark.flask_in_process

CONFIGURE_CALLBACKS = """\
@migrate.configure
def name_files(config):
    config.set_main_option("file_template", "%%(rev)s_first_%%(slug)s")
    return config


@migrate.configure
def rename_files_and_add_version_locations(config):
    config.set_main_option("file_template", "%%(rev)s_wb_%%(slug)s")
    config.set_main_option("path_separator", "space")
    config.set_main_option("version_locations", "%(here)s/versions %(here)s/extra")
    return config
"""


def read_revision(project, name: str, folder: str = "versions") -> str:
    return (project.migrations / folder / name).read_text()


def test_revision_branch_merge_and_migrate_options(make_project):
    project = make_project(app_code=CONFIGURE_CALLBACKS)
    project.db("init")
    (project.migrations / "extra").mkdir()

    refused = project.db("revision", "-m", "base", expect=1)
    assert "--version-path" in refused.stderr
    project.db(
        "revision", "-m", "base", "--rev-id", "aaaa0001", "--version-path", "migrations/versions"
    )
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002")
    assert project.revision_files() == {"aaaa0001_wb_base.py", "bbbb0002_wb_second.py"}
    second = read_revision(project, "bbbb0002_wb_second.py")
    assert "down_revision = 'aaaa0001'" in second

    project.db(
        "revision",
        "-m",
        "side",
        "--head",
        "aaaa0001",
        "--splice",
        "--branch-label",
        "side",
        "--rev-id",
        "cccc0003",
    )
    side = read_revision(project, "cccc0003_wb_side.py")
    assert "down_revision = 'aaaa0001'" in side
    assert "branch_labels = ('side',)" in side

    assert sorted(project.db("heads").stdout.splitlines()) == [
        "bbbb0002 (head)",
        "cccc0003 (side) (head)",
    ]
    branches = project.db("branches").stdout.splitlines()
    assert branches[0] == "aaaa0001 (branchpoint)"
    assert sorted(line.strip() for line in branches[1:3]) == [
        "-> bbbb0002 (head)",
        "-> cccc0003 (side) (head)",
    ]
    branches_verbose = project.db("branches", "-v").stdout
    assert "Rev: aaaa0001 (branchpoint)" in branches_verbose
    assert "Branches into:" in branches_verbose

    project.db(
        "revision",
        "-m",
        "more side",
        "--head",
        "side@head",
        "--version-path",
        "migrations/extra",
        "--rev-id",
        "dddd0004",
    )
    assert project.revision_files("extra") == {"dddd0004_wb_more_side.py"}
    assert "down_revision = 'cccc0003'" in read_revision(
        project, "dddd0004_wb_more_side.py", "extra"
    )

    project.db(
        "merge",
        "-m",
        "merge heads",
        "--branch-label",
        "merged",
        "--rev-id",
        "eeee0005",
        "bbbb0002",
        "dddd0004",
    )
    merge = read_revision(project, "eeee0005_wb_merge_heads.py")
    assert "down_revision = ('bbbb0002', 'dddd0004')" in merge
    assert "branch_labels = ('merged',)" in merge
    heads = project.db("heads").stdout.splitlines()
    assert len(heads) == 1
    assert heads[0].startswith("eeee0005 ")
    assert "merged" in heads[0]

    project.db("upgrade")
    assert project.state().versions == {"eeee0005"}

    project.db("revision", "--autogenerate", "-m", "auto user", "--rev-id", "ffff0006")
    auto = read_revision(project, "ffff0006_wb_auto_user.py")
    assert "op.create_table('user'" in auto
    assert "down_revision = 'eeee0005'" in auto
    project.db("upgrade")

    project.add_model(POST_MODEL)
    migrated = project.db(
        "migrate",
        "-m",
        "add post",
        "--head",
        "merged@head",
        "--branch-label",
        "posts",
        "--version-path",
        "migrations/extra",
        "--rev-id",
        "abcd0007",
        "-x",
        "unused=1",
    )
    assert "Detected added table 'post'" in migrated.stderr
    post = read_revision(project, "abcd0007_wb_add_post.py", "extra")
    assert "op.create_table('post'" in post
    assert "down_revision = 'ffff0006'" in post
    assert "branch_labels = ('posts',)" in post

    project.db("upgrade", "posts@head")
    state = project.state()
    assert {"user", "post"} <= state.tables
    assert state.versions == {"abcd0007"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_splice_and_dependencies(make_project):
    project = make_project()
    project.db("init")
    project.db("revision", "-m", "base", "--rev-id", "aaaa0001")
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002")

    (refused,) = project.db_errors(["revision", "-m", "branch", "--head", "aaaa0001"])
    assert "--splice" in refused.stderr
    assert project.revision_files() == {"aaaa0001_base.py", "bbbb0002_second.py"}

    project.db("revision", "-m", "side", "--head", "aaaa0001", "--splice", "--rev-id", "cccc0003")
    side_file = project.migrations / "versions" / "cccc0003_side.py"
    side = side_file.read_text()
    assert "down_revision = 'aaaa0001'" in side
    side_file.write_text(side.replace("depends_on = None", "depends_on = 'bbbb0002'"))

    assert project.db("heads").stdout.splitlines() == [
        "bbbb0002 (effective head)",
        "cccc0003 (head)",
    ]
    resolved = project.db("heads", "--resolve-dependencies").stdout.splitlines()
    assert resolved == ["cccc0003 (head)"]

    project.db("upgrade", "heads")
    project.db("migrate", "-m", "user", "--head", "aaaa0001", "--splice", "--rev-id", "dddd0004")
    spliced = (project.migrations / "versions" / "dddd0004_user.py").read_text()
    assert "down_revision = 'aaaa0001'" in spliced
    assert "op.create_table('user'" in spliced


EDITOR_SCRIPT = """\
#!{python}
import sys

with open(sys.argv[1], "a") as revision:
    revision.write("# edited by the test editor\\n")
"""


@pytest.mark.flask_subprocess
@pytest.mark.parametrize("backend", ["sqlite"])
def test_edit_opens_the_revision_in_the_editor(make_project, tmp_path):
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR_SCRIPT.format(python=sys.executable))
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    project = make_project()
    project.db("init", in_process=True)
    project.db("revision", "-m", "first", "--rev-id", "aaaa0001", in_process=True)
    project.db("revision", "-m", "second", "--rev-id", "bbbb0002", in_process=True)
    versions = project.migrations / "versions"
    first_before = (versions / "aaaa0001_first.py").read_text()
    second_before = (versions / "bbbb0002_second.py").read_text()

    project.db("edit", env={"EDITOR": str(editor)})
    assert (versions / "bbbb0002_second.py").read_text() == (
        second_before + "# edited by the test editor\n"
    )
    assert (versions / "aaaa0001_first.py").read_text() == first_before

    project.db("edit", "aaaa0001", env={"EDITOR": str(editor)})
    assert (versions / "aaaa0001_first.py").read_text() == (
        first_before + "# edited by the test editor\n"
    )
