"""The squash plan as data: what goes, what stays, refusals, and what a baseline cannot carry."""

from __future__ import annotations

from workbench.core.databases import DatabaseState, DatabaseStatus
from workbench.core.graph import build_graph
from workbench.core.scanned import ScannedRevision
from workbench.core.squash import (
    SchemaDifference,
    Uncarried,
    classify_sql,
    compare_schemas,
    find_uncarried,
    judge,
    plan_lines,
    plan_squash,
)


def revision(rid: str, *parents: str, labels: tuple[str, ...] = (), depends=()) -> ScannedRevision:
    return ScannedRevision(
        revision=rid,
        down_revision=parents,
        path=f"versions/{rid}.py",
        branch_labels=labels,
        depends_on=tuple(depends),
    )


def status(name: str, state: DatabaseState, *current: str) -> DatabaseStatus:
    return DatabaseStatus(name, "sqlite://", tuple(current), state, (), "reason")


LINEAR = build_graph(
    [
        revision("a1"),
        revision("b2", "a1", labels=("core",)),
        revision("c3", "b2"),
        revision("d4", "c3"),
    ]
)


def test_squashed_revisions_end_with_the_revision_and_the_rest_stays():
    plan = plan_squash(LINEAR, "c3", [status("default", DatabaseState.AT_HEAD, "d4")])

    assert plan.squashed == ("a1", "b2", "c3")
    assert plan.kept == ("d4",)
    assert plan.baseline_path == "versions/c3.py"
    assert plan.removed_paths == ("versions/a1.py", "versions/b2.py")
    assert plan.branch_labels == ("core",)
    assert not plan.refused


def test_a_database_before_the_revision_refuses_naming_it_and_its_revision():
    statuses = [
        status("default", DatabaseState.AT_HEAD, "d4"),
        status("users", DatabaseState.BEHIND, "b2"),
        status("fresh", DatabaseState.EMPTY),
    ]

    plan = plan_squash(LINEAR, "c3", statuses)

    assert [(r.database, r.revision) for r in plan.refusals] == [("users", "b2")]
    assert "before c3" in plan.refusals[0].describe()


def test_a_database_whose_position_is_unknown_refuses():
    plan = plan_squash(LINEAR, "c3", [status("reports", DatabaseState.UNREACHABLE)])

    assert plan.refusals[0].database == "reports"
    assert "cannot tell" in plan.refusals[0].reason


def test_a_revision_not_below_every_head_refuses():
    graph = build_graph([revision("a1"), revision("b2", "a1"), revision("x9", "a1")])

    plan = plan_squash(graph, "b2", [])

    assert [r.revision for r in plan.refusals] == ["x9"]
    assert "not an ancestor of head x9" in plan.refusals[0].reason


def test_a_kept_revision_depending_on_a_squashed_one_refuses():
    graph = build_graph(
        [
            revision("a1"),
            revision("b2", "a1"),
            revision("c3", "b2"),
            revision("d4", "c3", depends=["a1"]),
        ]
    )

    plan = plan_squash(graph, "c3", [])

    assert [r.revision for r in plan.refusals] == ["d4"]


def test_an_unknown_revision_refuses():
    plan = plan_squash(LINEAR, "zzzz", [])

    assert plan.refused and plan.squashed == ()


SOURCE = """\
from alembic import op
import sqlalchemy as sa

revision = "c3"


def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("CREATE OR REPLACE VIEW public.active AS SELECT 1")
    op.execute(sa.text("CREATE FUNCTION bump() RETURNS trigger AS $$ BEGIN END $$ LANGUAGE sql"))
    op.execute("CREATE TRIGGER tg_bump BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION bump()")
    op.execute("UPDATE t SET id = id + 1")
    op.bulk_insert(sa.table("t"), [{"id": 1}])
    connection = op.get_bind()
    connection.execute(sa.text("DELETE FROM t"))
    op.execute("ALTER TABLE t ADD COLUMN x int")


def downgrade():
    op.execute("DROP VIEW active")
"""


def test_find_uncarried_names_objects_and_data_steps_with_their_lines():
    found = find_uncarried("c3", "versions/c3.py", SOURCE)

    assert [(item.line, item.kind, item.name) for item in found] == [
        (9, "view", "active"),
        (10, "function", "bump"),
        (11, "trigger", "tg_bump"),
        (12, "data", ""),
        (13, "data", ""),
        (14, "data", ""),
        (15, "data", ""),
        (16, "sql", ""),
    ]
    assert found[0].describe().startswith("view active: versions/c3.py line 9 (revision c3)")


def test_classify_sql():
    assert classify_sql("-- note\n create materialized view m as select 1") == (
        "materialized view",
        "m",
    )
    assert classify_sql('CREATE VIEW "Odd" AS SELECT 1') == ("view", "Odd")
    assert classify_sql("insert into t values (1)") == ("data", "")
    assert classify_sql("CREATE INDEX ix ON t (x)") == ("sql", "")


def test_compare_schemas_shows_each_object_and_judge_expects_named_ones():
    old = {("table", "t"): "t", ("view", "active"): "SELECT 1", ("column", "t.x"): "INTEGER"}
    new = {("table", "t"): "t", ("column", "t.x"): "BIGINT", ("index", "t.ix"): "(x)"}

    differences = compare_schemas("default", old, new)

    assert [(d.kind, d.name, d.old, d.baseline) for d in differences] == [
        ("column", "t.x", "INTEGER", "BIGINT"),
        ("index", "t.ix", None, "(x)"),
        ("view", "active", "SELECT 1", None),
    ]
    named = [Uncarried("c3", "v.py", 4, "view", "active", "op.execute(...)")]
    proof = judge(differences, named, ["default"], 3)
    assert [d.name for d in proof.expected] == ["active"]
    assert [d.name for d in proof.blocking] == ["t.x", "t.ix"]
    assert not proof.passed
    assert judge([], named, ["default"], 3).passed


def test_a_difference_reads_object_first():
    missing = SchemaDifference("default", "index", "t.ix", "(x)", None)

    assert missing.describe() == (
        "[default] index t.ix: made by the old revisions, missing through the baseline ((x))"
    )


def test_raw_sql_is_listed_apart_from_what_is_not_carried():
    plan = plan_squash(LINEAR, "c3", []).with_uncarried(
        [
            Uncarried("b2", "v/b2.py", 3, "sql", "", 'op.execute("CREATE INDEX ...")'),
            Uncarried("b2", "v/b2.py", 4, "data", "", 'op.execute("UPDATE ...")'),
        ]
    )

    assert [item.kind for item in plan.not_carried] == ["data"]
    assert [item.kind for item in plan.raw_sql] == ["sql"]
    lines = plan_lines(plan)
    assert lines.index(
        "Not carried by the baseline (add by hand in its upgrade, or acknowledge):"
    ) < (lines.index("Raw SQL, carried as far as the schema shows it (the proof checks that):"))
