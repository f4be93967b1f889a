"""Linearize: the one-literal rewrite of a revision file, and every reason to refuse it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from branch_histories import database, load_graph, write_revision

from workbench.core.files import FileChangedError
from workbench.core.linearize import (
    LinearizeRefused,
    apply_linearize,
    check_linearize,
    plan_linearize,
    rewrite_down_revision,
)

FLASK_MIGRATE_STYLE = '''\
"""add email \u2014 caf\u00e9

Revision ID: c3
Revises: a1
Create Date: 2026-11-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3'
down_revision = 'a1'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 'a1'")
'''


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("down_revision = 'a1'", "down_revision = 'b2'"),
        ('down_revision = "a1"  # parent', 'down_revision = "b2"  # parent'),
        (
            "down_revision: Union[str, Sequence[str], None] = 'a1'",
            "down_revision: Union[str, Sequence[str], None] = 'b2'",
        ),
        ("down_revision = ('a1',)", "down_revision = ('b2',)"),
        ('down_revision = ["a1"]', 'down_revision = ["b2"]'),
    ],
)
def test_only_the_parent_literal_and_the_revises_line_change(before: str, after: str) -> None:
    source = FLASK_MIGRATE_STYLE.replace("down_revision = 'a1'", before)

    rewritten = rewrite_down_revision(source, "a1", "b2")

    expected = source.replace(before, after).replace("Revises: a1", "Revises: b2")
    assert rewritten == expected
    assert "SELECT 'a1'" in rewritten


def test_windows_line_endings_and_no_docstring_are_kept() -> None:
    source = FLASK_MIGRATE_STYLE.replace("\n", "\r\n")
    assert rewrite_down_revision(source, "a1", "b2") == source.replace(
        "'a1'\r\nbranch", "'b2'\r\nbranch"
    ).replace("Revises: a1", "Revises: b2")

    bare = "revision = 'c3'\ndown_revision = 'a1'\n"
    assert rewrite_down_revision(bare, "a1", "b2") == "revision = 'c3'\ndown_revision = 'b2'\n"


@pytest.mark.parametrize(
    "down",
    ["down_revision = PARENT", "down_revision = ('a1', 'x9')", "down_revision = 'other'"],
)
def test_a_parent_that_is_not_one_plain_literal_is_refused(down: str) -> None:
    source = FLASK_MIGRATE_STYLE.replace("down_revision = 'a1'", down)
    with pytest.raises(LinearizeRefused, match="edit it by hand"):
        rewrite_down_revision(source, "a1", "b2")


def two_heads(folder: Path) -> None:
    """a1 <- b2 <- b3 (head) and a1 <- c3 <- c4 (head)."""
    write_revision(folder, "a1", None)
    write_revision(folder, "b2", "a1")
    write_revision(folder, "b3", "b2")
    write_revision(folder, "c3", "a1", "op.add_column('user', sa.Column('x', sa.Integer()))")
    write_revision(folder, "c4", "c3")


def test_plan_and_apply_move_the_branch_onto_the_other_head(tmp_path: Path) -> None:
    two_heads(tmp_path)
    graph = load_graph(tmp_path)
    statuses = [database(graph, "default", ["a1"]), database(graph, "fresh")]

    plan = plan_linearize(graph, "c4", "b3", statuses)

    assert plan.check.branch == ("c3", "c4") and plan.check.first == "c3"
    assert plan.check.old_parent == "a1" and plan.check.merge_bases == ("a1",)
    assert plan.graph.heads == ("c4",) and plan.graph.parents["c3"] == ("b3",)
    assert plan.graph.pending(("a1",)) == ["b2", "b3", "c3", "c4"]
    before = (tmp_path / "c3_c3.py").read_text()
    apply_linearize(plan)
    after = (tmp_path / "c3_c3.py").read_text()
    assert after == before.replace("= 'a1'", "= 'b3'").replace("Revises: a1", "Revises: b3")
    assert load_graph(tmp_path).heads == ("c4",)
    assert not load_graph(tmp_path).diagnostics


def test_a_file_changed_since_the_plan_is_not_overwritten(tmp_path: Path) -> None:
    two_heads(tmp_path)
    graph = load_graph(tmp_path)
    plan = plan_linearize(graph, "c4", "b3", [])
    path = tmp_path / "c3_c3.py"
    path.write_text(path.read_text() + "# edited meanwhile\n")

    with pytest.raises(FileChangedError):
        apply_linearize(plan)
    assert path.read_text().endswith("# edited meanwhile\n")


def test_refused_when_a_database_applied_the_branch_naming_each(tmp_path: Path) -> None:
    two_heads(tmp_path)
    graph = load_graph(tmp_path)
    statuses = [
        database(graph, "default", ["c4"]),
        database(graph, "users", ["c3"]),
        database(graph, "other", ["b3"]),
    ]

    with pytest.raises(LinearizeRefused) as refused:
        check_linearize(graph, "c4", "b3", statuses)

    assert str(refused.value) == (
        "database default has applied c3, c4; database users has applied c3: "
        "linearize rewrites only revisions no database has run"
    )
    assert check_linearize(graph, "b3", "c4", statuses[:1]).first == "b2"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ({"error": "connection refused"}, "database default cannot be read (connection refused)"),
        ({"current": ["f00d"]}, "database default stands on f00d, which no revision file has"),
    ],
)
def test_refused_when_a_database_cannot_tell(tmp_path: Path, status: dict, message: str) -> None:
    two_heads(tmp_path)
    graph = load_graph(tmp_path)
    with pytest.raises(LinearizeRefused, match=re.escape(message)):
        check_linearize(graph, "c4", "b3", [database(graph, "default", **status)])


def test_refused_for_merges_dependencies_and_names_that_are_not_heads(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "a1")
    write_revision(tmp_path, "x1", None)
    write_revision(tmp_path, "m2", ["a1", "x1"])
    write_revision(tmp_path, "d2", "a1")
    write_revision(tmp_path, "d3", "d2")
    write_revision(tmp_path, "e3", "b2", depends_on="d3")
    graph = load_graph(tmp_path)

    with pytest.raises(
        LinearizeRefused, match="m2, the first revision of the branch of m2, is a merge of a1, x1"
    ):
        check_linearize(graph, "m2", "e3", [])
    with pytest.raises(LinearizeRefused, match="e3 depends on d3"):
        check_linearize(graph, "d3", "e3", [])
    with pytest.raises(LinearizeRefused, match="b2 is not a head"):
        check_linearize(graph, "b2", "e3", [])
    with pytest.raises(LinearizeRefused, match="onto itself"):
        check_linearize(graph, "e3", "e3", [])
