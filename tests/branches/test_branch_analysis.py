"""Branch analysis: merge bases, each branch's revisions, conflicts between them, the merge plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script.revision import Revision, RevisionMap
from branch_histories import database, load_graph, write_revision

from workbench.core.branches import NEW_MERGE, analyze_branches, plan_merge, split_branches
from workbench.core.graph import GraphError, RevisionGraph


def diamond(folder: Path, left: str = "pass", right: str = "pass") -> RevisionGraph:
    """a <- b <- c1 <- c2 (head) and b <- d1 (head), with the given upgrade bodies on c1, d1."""
    write_revision(folder, "a", None, "op.create_table('user', sa.Column('id', sa.Integer()))")
    write_revision(folder, "b", "a", "op.add_column('user', sa.Column('name', sa.String()))")
    write_revision(folder, "c1", "b", left)
    write_revision(folder, "c2", "c1", "op.create_table('audit', sa.Column('id', sa.Integer()))")
    write_revision(folder, "d1", "b", right)
    return load_graph(folder)


def test_merge_base_and_branches_of_two_heads(tmp_path: Path) -> None:
    graph = diamond(tmp_path)

    analysis = analyze_branches(graph)

    assert analysis.heads == ("c2", "d1")
    assert analysis.merge_bases == ("b",)
    assert [(branch.head, branch.revisions) for branch in analysis.branches] == [
        ("c2", ("c2", "c1")),
        ("d1", ("d1",)),
    ]
    assert analysis.shared == () and analysis.conflicts == ()
    assert set(analysis.touches) == {"c1", "c2", "d1"}
    text = analysis.describe(graph)
    assert "Common ancestor: b (b)" in text and "Conflicts: none found" in text


def test_three_heads_several_bases_and_a_head_below_another(tmp_path: Path) -> None:
    write_revision(tmp_path, "a", None)
    write_revision(tmp_path, "b", "a")
    write_revision(tmp_path, "c", "b")
    write_revision(tmp_path, "d", "b")
    write_revision(tmp_path, "e", "a")
    write_revision(tmp_path, "x", None)
    graph = load_graph(tmp_path)

    three = split_branches(graph, ("c", "d", "e"))
    assert three.merge_bases == ("a",)
    assert [three.only_from(head) for head in three.heads] == [("c",), ("d",), ("e",)]
    assert three.apart("c", "e") == ["c", "b"] and three.apart("c", "d") == ["c"]
    assert analyze_branches(graph, ("c", "d", "e")).shared == ("b",)

    assert split_branches(graph, ("c", "a")).merge_bases == ("a",)
    assert split_branches(graph, ("c", "a")).only_from("a") == ()
    assert split_branches(graph, ("c", "x")).merge_bases == ()
    assert split_branches(graph, ("c", "x")).only_from("c") == ("c", "b", "a")
    with pytest.raises(GraphError):
        split_branches(graph, ("c", "nope"))


def test_criss_cross_merges_have_two_merge_bases(tmp_path: Path) -> None:
    write_revision(tmp_path, "a", None)
    write_revision(tmp_path, "b", "a")
    write_revision(tmp_path, "c", "a")
    write_revision(tmp_path, "m1", ["b", "c"])
    write_revision(tmp_path, "m2", ["c", "b"])
    graph = load_graph(tmp_path)

    assert sorted(split_branches(graph, ("m1", "m2")).merge_bases) == ["b", "c"]


CONFLICTING_PAIRS = [
    (
        "op.alter_column('user', 'name', nullable=False)",
        "op.alter_column('user', 'name', type_=sa.Text())",
        "same_column",
        "column user.name",
    ),
    (
        "op.drop_column('user', 'name')",
        "with op.batch_alter_table('user') as batch_op:\n    batch_op.alter_column('name')",
        "dropped_while_changed",
        "column user.name",
    ),
    (
        "op.drop_table('user')",
        "op.add_column('user', sa.Column('email', sa.String()))",
        "dropped_while_changed",
        "table user",
    ),
    (
        "op.add_column('user', sa.Column('email', sa.String()))",
        "op.add_column('user', sa.Column('email', sa.Text()))",
        "same_name",
        "column user.email",
    ),
    (
        "op.create_table('tag', sa.Column('id', sa.Integer()))",
        "op.create_table('tag', sa.Column('id', sa.BigInteger()))",
        "same_name",
        "table tag",
    ),
    (
        "op.create_index('ix_user_name', 'user', ['name'])",
        "op.create_index('ix_user_name', 'user', ['name'], unique=True)",
        "same_name",
        "index ix_user_name",
    ),
    (
        "op.drop_constraint('uq_user_name', 'user')",
        "op.create_unique_constraint('uq_user_name', 'user', ['name'])",
        "dropped_while_changed",
        "constraint uq_user_name",
    ),
    (
        "op.rename_table('user', 'account')",
        "op.rename_table('user', 'person')",
        "same_rename",
        "table user",
    ),
    (
        "op.alter_column('user', 'name', new_column_name='full_name')",
        "op.alter_column('user', 'name', new_column_name='display_name')",
        "same_rename",
        "column user.name",
    ),
    (
        "op.alter_column('user', 'name', new_column_name='label')",
        "op.add_column('user', sa.Column('label', sa.String()))",
        "same_name",
        "column user.label",
    ),
]


@pytest.mark.parametrize(("left", "right", "kind", "subject"), CONFLICTING_PAIRS)
def test_conflicts_name_both_revisions_files_and_lines(
    tmp_path: Path, left: str, right: str, kind: str, subject: str
) -> None:
    graph = diamond(tmp_path, left, right)

    (conflict,) = analyze_branches(graph).conflicts

    assert (conflict.kind, conflict.subject) == (kind, subject)
    assert (conflict.first.revision, conflict.second.revision) == ("c1", "d1")
    assert Path(conflict.first.path).name == "c1_c1.py"
    assert Path(conflict.second.path).name == "d1_d1.py"
    first_line, second_line = 20 + left.count("\n"), 20 + right.count("\n")
    assert (conflict.first.touch.line, conflict.second.touch.line) == (first_line, second_line)
    assert f"c1 (c1_c1.py line {first_line})" in conflict.describe()
    assert f"d1 (d1_d1.py line {second_line})" in conflict.describe()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (
            "op.add_column('user', sa.Column('email', sa.String()))",
            "op.add_column('user', sa.Column('phone', sa.String()))",
        ),
        ("op.create_index('ix_a', 'user', ['name'])", "op.create_index('ix_b', 'user', ['id'])"),
        ("op.alter_column('user', 'name')", "op.alter_column('post', 'name')"),
        ("op.create_foreign_key(None, 'post', 'user', ['u'], ['id'])", "op.drop_table('post2')"),
    ],
)
def test_branches_touching_different_things_do_not_conflict(
    tmp_path: Path, left: str, right: str
) -> None:
    assert analyze_branches(diamond(tmp_path, left, right)).conflicts == ()


def test_binds_keep_their_tables_apart_and_opaque_calls_are_listed(tmp_path: Path) -> None:
    multidb = (
        "def upgrade(engine_name):\n    pass\n\n"
        "def upgrade_():\n    op.drop_column('user', 'name')\n\n"
        "def upgrade_users():\n    op.execute('UPDATE user SET name = 1')\n"
    )
    other = (
        "def upgrade(engine_name):\n    pass\n\n"
        "def upgrade_users():\n    op.alter_column('user', 'name')\n"
    )
    write_revision(tmp_path, "a", None)
    (tmp_path / "b_left.py").write_text(
        "revision = 'b'\ndown_revision = 'a'\n\n" + multidb, encoding="utf-8"
    )
    (tmp_path / "c_right.py").write_text(
        "revision = 'c'\ndown_revision = 'a'\n\n" + other, encoding="utf-8"
    )
    graph = load_graph(tmp_path)

    analysis = analyze_branches(graph)

    assert analysis.conflicts == ()
    assert [(site.revision, site.touch.kind, site.touch.bind) for site in analysis.unread] == [
        ("b", "execute", "users")
    ]
    assert "Not read, so not checked for conflicts" in analysis.describe(graph)


def alembic_order(graph: RevisionGraph, merge: str, parents: tuple[str, ...], current: str) -> list:
    """The revisions Alembic's ``upgrade`` would run after writing the merge revision."""
    revisions = [
        Revision(revision, scanned.down_revision) for revision, scanned in graph.revisions.items()
    ]
    revision_map = RevisionMap(lambda: [*revisions, Revision(merge, parents)])
    walked = revision_map.iterate_revisions("heads", (current,), implicit_base=True)
    return [revision.revision for revision in reversed(list(walked))]


def test_merge_plan_orders_each_database_as_alembic_would(tmp_path: Path) -> None:
    graph = diamond(tmp_path, "op.alter_column('user', 'name')", "op.alter_column('user', 'name')")
    statuses = [
        database(graph, "default", ["b"]),
        database(graph, "users", ["c2"]),
        database(graph, "reporting", error="connection refused"),
    ]

    plan = plan_merge(graph, ["heads"], statuses, message="join", branch_label="joined")

    assert plan.parents == ("c2", "d1") and plan.revision == NEW_MERGE
    assert [conflict.kind for conflict in plan.analysis.conflicts] == ["same_column"]
    orders = {database.name: database.revisions for database in plan.upgrade.databases}
    assert list(orders["default"]) == alembic_order(graph, NEW_MERGE, ("c2", "d1"), "b")
    assert orders["default"][-1] == NEW_MERGE and set(orders["default"]) == {
        "c1",
        "c2",
        "d1",
        NEW_MERGE,
    }
    assert orders["users"] == ("d1", NEW_MERGE)
    assert orders["reporting"] == ()
    text = plan.describe(graph)
    assert text.index("Conflicts (1)") < text.index("Merge revision")
    assert "Merge revision: <new merge> 'join', down_revision = ('c2', 'd1')" in text
    assert "branch label 'joined'" in text and "reporting" in text

    named = plan_merge(graph, ["d1", "c2"], statuses, revision="m1")
    assert named.parents == ("d1", "c2") and named.message == "empty message"
    assert named.upgrade.databases[0].revisions[-1] == "m1"


@pytest.mark.parametrize(
    ("names", "error"),
    [
        ([], "name the revisions"),
        (["c2", "c2"], "Duplicate head"),
        (["b", "d1"], "not a head"),
        (["zzzz"], "No such revision"),
    ],
)
def test_merge_plan_refuses_what_alembic_refuses(
    tmp_path: Path, names: list[str], error: str
) -> None:
    graph = diamond(tmp_path)
    with pytest.raises(GraphError, match=error):
        plan_merge(graph, names, [])
