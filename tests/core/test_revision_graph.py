"""The revision graph gives Alembic's answers, in linear time, and survives broken histories."""

from __future__ import annotations

import marshal

import pytest
from alembic.script.revision import RevisionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from revision_dags import alembic_map, revision_dags

from workbench.core.graph import GraphError, RevisionGraph, build_graph
from workbench.core.scan import Diagnostic, ScannedRevision

PROPERTY_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def rev(
    revision: str,
    *parents: str,
    labels: tuple[str, ...] = (),
    depends_on: tuple[str, ...] = (),
    revises: tuple[str, ...] | None = None,
) -> ScannedRevision:
    return ScannedRevision(
        revision=revision,
        down_revision=parents,
        path=f"/versions/{revision}.py",
        branch_labels=labels,
        depends_on=depends_on,
        message=f"message {revision}",
        revises=revises,
    )


def alembic_upgrade(revision_map, target: str, current: tuple[str, ...]) -> list[str]:
    """The revisions ``alembic upgrade`` runs, in its order (``ScriptDirectory._upgrade_revs``)."""
    revisions = revision_map.iterate_revisions(target, current, implicit_base=True)
    return [revision.revision for revision in reversed(list(revisions))]


def deterministic_in_alembic(graph: RevisionGraph) -> bool:
    """Alembic orders two extra dependencies of one revision by set iteration order (random)."""
    return all(len(graph.upgrade_parents[r]) - len(graph.parents[r]) < 2 for r in graph.revisions)


def assert_same_upgrade(graph: RevisionGraph, ours: list[str], theirs: list[str]) -> None:
    if deterministic_in_alembic(graph):
        assert ours == theirs
        return
    assert sorted(ours) == sorted(theirs)
    done: set[str] = set()
    for revision in ours:
        assert all(p in done or p not in ours for p in graph.upgrade_parents[revision])
        done.add(revision)


def antichain(graph: RevisionGraph, picked: list[str]) -> tuple[str, ...]:
    """The picked revisions minus those below another pick: what a version table can hold."""
    below = set()
    for revision in picked:
        below |= graph.ancestors(graph.upgrade_parents[revision])
    return tuple(dict.fromkeys(r for r in picked if r not in below))


@PROPERTY_SETTINGS
@given(revision_dags())
def test_heads_bases_and_labels_equal_alembics(revisions: list[ScannedRevision]) -> None:
    revision_map = alembic_map(revisions)
    graph = build_graph(revisions)

    assert graph.diagnostics == ()
    assert graph.heads == tuple(revision_map.heads)
    assert graph.resolved_heads == tuple(r.revision for r in revision_map.get_revisions("heads"))
    assert graph.bases == tuple(revision_map.bases)
    for revision in graph.revisions:
        theirs = revision_map.get_revision(revision)
        assert graph.branch_labels[revision] == theirs.branch_labels
        assert set(graph.children[revision]) == theirs.nextrev
        assert (revision in graph.branch_points) == theirs.is_branch_point
        assert (revision in graph.merge_points) == theirs.is_merge_point


@PROPERTY_SETTINGS
@given(revision_dags())
def test_upgrade_from_base_to_heads_equals_alembics(revisions: list[ScannedRevision]) -> None:
    revision_map = alembic_map(revisions)
    graph = build_graph(revisions)

    ours = graph.pending((), "heads")

    assert_same_upgrade(graph, ours, alembic_upgrade(revision_map, "heads", ()))
    assert sorted(ours) == sorted(graph.revisions)


@PROPERTY_SETTINGS
@given(revision_dags(), st.data())
def test_upgrade_from_current_revisions_equals_alembics(
    revisions: list[ScannedRevision], data: st.DataObject
) -> None:
    revision_map = alembic_map(revisions)
    graph = build_graph(revisions)
    ids = list(graph.revisions)
    current = antichain(graph, data.draw(st.lists(st.sampled_from(ids), max_size=3)))
    target = data.draw(st.sampled_from(["heads", *ids, *graph.label_owners]))

    ours = graph.pending(current, target)

    assert_same_upgrade(graph, ours, alembic_upgrade(revision_map, target, current))


@PROPERTY_SETTINGS
@given(revision_dags(), st.data())
def test_refusals_agree_with_alembic(revisions: list[ScannedRevision], data: st.DataObject) -> None:
    revision_map = alembic_map(revisions)
    graph = build_graph(revisions)
    ids = list(graph.revisions)
    current = tuple(data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3)))
    target = data.draw(st.sampled_from(["head", "heads", *ids]))

    try:
        theirs = alembic_upgrade(revision_map, target, current)
    except RevisionError:
        with pytest.raises(GraphError):
            graph.pending(current, target)
    else:
        assert_same_upgrade(graph, graph.pending(current, target), theirs)


def test_dependencies_are_not_parents_but_count_for_resolved_heads() -> None:
    graph = build_graph([rev("a"), rev("b", "a"), rev("x"), rev("y", "x", depends_on=("b",))])

    assert graph.heads == ("b", "y")
    assert graph.resolved_heads == ("y",)
    assert graph.parents["y"] == ("x",)
    assert graph.dependencies["y"] == ("b",)
    assert graph.dependents["b"] == ("y",)
    assert graph.ancestors(["y"]) == {"a", "b", "x", "y"}
    assert graph.ancestors(["y"], dependencies=False) == {"x", "y"}
    assert graph.descendants(["a"]) == {"a", "b", "y"}
    assert graph.pending(["b"], "heads") == ["x", "y"]


def test_a_label_names_its_branch() -> None:
    graph = build_graph(
        [
            rev("base"),
            rev("a1", "base", labels=("accounts",)),
            rev("a2", "a1"),
            rev("s1", "base", labels=("shop",)),
            rev("s2", "s1"),
        ]
    )

    assert graph.label_owners == {"accounts": "a1", "shop": "s1"}
    assert graph.branch_labels["a2"] == {"accounts"}
    assert graph.branch_labels["base"] == frozenset()
    assert graph.resolve("shop") == ("s1",)
    assert graph.resolve("shop@head") == ("s2",)
    assert graph.resolve("accounts@a2") == ("a2",)
    assert graph.pending(["a1"], "accounts@head") == ["a2"]
    with pytest.raises(GraphError, match="not a member of branch"):
        graph.resolve("accounts@s2")


def test_resolve_names_like_alembic() -> None:
    graph = build_graph([rev("ae1011"), rev("ae2022", "ae1011"), rev("bf3033", "ae1011")])

    assert graph.resolve("heads") == ("ae2022", "bf3033")
    assert graph.resolve("base") == ()
    assert graph.resolve("bf30") == ("bf3033",)
    with pytest.raises(GraphError, match="Multiple heads"):
        graph.resolve("head")
    with pytest.raises(GraphError, match="Multiple revisions start with 'ae'"):
        graph.resolve("ae")
    with pytest.raises(GraphError, match="No such revision"):
        graph.resolve("zz")
    with pytest.raises(GraphError, match="Can't locate revision identified by 'gone'"):
        graph.pending(["gone"])
    with pytest.raises(GraphError, match="overlaps"):
        graph.pending(["ae1011", "ae2022"])


def test_diagnostics_for_a_broken_history_and_the_graph_is_still_built() -> None:
    graph = build_graph(
        [
            rev("a"),
            rev("b", "a", revises=("x",)),
            rev("b", "a", labels=("a",)),
            rev("c", "b", "missing", depends_on=("nowhere",)),
            rev("d", "e"),
            rev("e", "d"),
            rev("f", "f"),
            rev("g-1", "c", labels=("dup",)),
            rev("h", "c", labels=("dup",)),
        ],
        [Diagnostic("unreadable", None, "/versions/bad.py", "syntax error")],
    )

    kinds = [(d.kind, d.revision) for d in graph.diagnostics]
    assert kinds == [
        ("unreadable", None),
        ("duplicate_id", "b"),
        ("illegal_id", "g-1"),
        ("duplicate_label", "b"),
        ("duplicate_label", "h"),
        ("missing_parent", "c"),
        ("missing_dependency", "c"),
        ("cycle", "f"),
        ("cycle", "d"),
    ]
    assert graph.parents["c"] == ("b",)
    assert graph.parents["d"] == ()
    assert graph.parents["e"] == ("d",)
    assert set(graph.order) == set(graph.revisions)
    assert graph.heads == ("e", "f", "g-1", "h")
    assert graph.pending((), "heads")[:3] == ["a", "b", "c"]


def test_a_cycle_through_a_dependency_is_reported() -> None:
    graph = build_graph([rev("a", depends_on=("b",)), rev("b", "a")])

    assert [(d.kind, d.revision) for d in graph.diagnostics] == [("cycle", "a")]
    assert graph.order == ("a", "b")


def test_merge_of_four_and_shared_dependencies_keep_alembics_normalization() -> None:
    revisions = [
        rev("a"),
        rev("b", "a"),
        rev("c", "a"),
        rev("d", "a"),
        rev("e", "a"),
        rev("x"),
        rev("m", "b", "c", "d", "e", depends_on=("x",)),
        rev("n", "m", depends_on=("x",)),
    ]
    graph = build_graph(revisions)

    assert graph.merge_points == ("m",)
    assert graph.branch_points == ("a",)
    assert graph.upgrade_parents["m"] == ("b", "c", "d", "e", "x")
    assert graph.upgrade_parents["n"] == ("m",)
    assert graph.pending((), "heads") == ["x", "a", "e", "d", "c", "b", "m", "n"]
    assert graph.pending((), "heads") == alembic_upgrade(alembic_map(revisions), "heads", ())


def test_a_down_revision_kept_as_text_is_neither_a_base_nor_a_mismatch() -> None:
    unknown = ScannedRevision(
        revision="b",
        down_revision=(),
        revises=("a",),
        expressions=(("down_revision", "settings.PREVIOUS"),),
    )

    graph = build_graph([rev("a"), unknown])

    assert graph.bases == ("a",)
    assert graph.heads == ("a", "b")
    assert graph.diagnostics == ()


def test_a_graph_sent_as_plain_data_comes_back_the_same() -> None:
    graph = build_graph(
        [
            rev("a"),
            rev("b", "a", labels=("feature",)),
            rev("c", "a", depends_on=("b",)),
            rev("d", "b", "c"),
            rev("e", "missing"),
        ],
        [Diagnostic("syntax_error", None, "/versions/x.py", "line 3: invalid syntax")],
    )

    copy = RevisionGraph.from_plain(marshal.loads(marshal.dumps(graph.to_plain())))

    for name in (*vars(graph), "branch_labels"):
        assert getattr(copy, name) == getattr(graph, name), name
    assert type(copy.revisions["b"]) is ScannedRevision
    assert {type(diagnostic) for diagnostic in copy.diagnostics} == {Diagnostic}
    assert len(copy.diagnostics) == 2  # the file's and the missing parent's
