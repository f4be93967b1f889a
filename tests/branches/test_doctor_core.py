"""The doctor's findings, each with its fix, and git lookups of revisions missing from the tree."""

from __future__ import annotations

import json
from pathlib import Path

from branch_histories import database, load_graph, write_revision
from git_repos import commit_all, git, git_init

from workbench.core.doctor import describe_problems, diagnose, examine
from workbench.core.gitinfo import GitLocation, locate_revision, repository_root

ADD_EMAIL = "op.add_column('user', sa.Column('email', sa.String()))"


def by_kind(problems: list) -> dict:
    return {problem.kind: problem for problem in problems}


def test_a_healthy_project_has_no_problems(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None, "op.create_table('user', sa.Column('id', sa.Integer()))")
    graph = load_graph(tmp_path)

    problems = examine(graph, [database(graph, "default", ["a1"])], command="flask db")

    assert problems == []
    assert describe_problems(problems) == "No problems found.\n"


def test_heads_databases_and_revision_bodies_each_get_a_fix(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None, "op.create_table('user', sa.Column('id', sa.Integer()))")
    write_revision(tmp_path, "b2", "a1", ADD_EMAIL, message="email here")
    write_revision(tmp_path, "c2", "a1", ADD_EMAIL, message="email there")
    write_revision(tmp_path, "c3", "c2", message="nothing yet")
    write_revision(tmp_path, "d4", "c3", "op.drop_table('tag')")
    graph = load_graph(tmp_path)
    statuses = [
        database(graph, "default", ["a1"]),
        database(graph, "users", ["a1", "b2"]),
        database(graph, "audit", error="connection refused"),
        database(graph, "legacy", other_tables=3),
        database(graph, "reporting", ["a1"], read_only=True),
    ]

    problems = examine(graph, statuses, command="flask database")

    assert [problem.severity for problem in problems] == sorted(
        (problem.severity for problem in problems), key=lambda severity: severity != "error"
    )
    found = by_kind(problems)
    heads = found["multiple_heads"]
    assert heads.revisions == ("b2", "d4")
    assert heads.fix_command == 'flask database merge heads -m "merge heads"'
    assert heads.other_fixes == ()  # audit cannot be read: no branch is known to be unapplied
    assert found["empty_revision"].fix_command == "flask database edit c3"
    assert found["duplicate_change"].revisions == ("b2", "c2")
    stale = found["stale_rows"]
    assert stale.database == "users" and stale.revisions == ("a1",)
    assert stale.fix_command == "flask database stamp --purge b2"
    assert stale.stamp_target == "b2"
    assert found["unreachable"].database == "audit" and found["unreachable"].fix_command is None
    assert found["not_stamped"].fix_command == "flask database stamp heads"
    behind = [problem for problem in problems if problem.kind == "behind"]
    assert [(p.database, p.fix_command) for p in behind] == [
        ("default", "flask database upgrade heads"),
        ("reporting", None),
    ]
    assert "watched only" in behind[1].message
    document = json.loads(json.dumps([problem.as_dict() for problem in problems]))
    assert set(document[0]) == {
        "kind",
        "severity",
        "message",
        "fix_command",
        "revisions",
        "database",
        "other_fixes",
        "stamp_target",
    }
    text = describe_problems(problems)
    assert "  fix: flask database stamp --purge b2" in text


def test_two_heads_offer_linearize_when_no_database_ran_a_branch(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "a1", ADD_EMAIL)
    write_revision(tmp_path, "c2", "a1", "op.drop_table('tag')")
    write_revision(tmp_path, "c3", "c2", "op.drop_table('label')")
    graph = load_graph(tmp_path)

    free = by_kind(diagnose(graph, [database(graph, "default", ["a1"])], command="flask db"))[
        "multiple_heads"
    ]
    assert free.other_fixes == (
        "flask db linearize b2 --onto c3",
        "flask db linearize c3 --onto b2",
    )
    held = by_kind(diagnose(graph, [database(graph, "default", ["c2"])], command="flask db"))[
        "multiple_heads"
    ]
    assert held.other_fixes == ("flask db linearize b2 --onto c3",)


def test_an_unknown_revision_is_traced_to_its_branch_and_nearest_ancestor(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "a1")
    graph = load_graph(tmp_path)
    location = GitLocation(
        revision="f4",
        ref="feature-x",
        on_branch=True,
        commit="0" * 40,
        summary="add f",
        path="migrations/versions/f4_f.py",
        parents={"f4": ("f3",), "f3": ("b2",), "b2": ("a1",)},
    )
    statuses = [database(graph, "default", ["f4"]), database(graph, "users", ["b2"])]

    (problem,) = diagnose(graph, statuses, {}, {"f4": location}, command="flask db")

    assert problem.kind == "unknown_revision" and problem.database == "default"
    assert "f4 is on branch feature-x (migrations/versions/f4_f.py)" in problem.message
    assert "nearest ancestor here is b2" in problem.message
    assert "every database this app migrates" in problem.message
    assert problem.fix_command == "flask db stamp --purge b2"
    assert problem.stamp_target == "b2"
    assert problem.other_fixes == ("git checkout feature-x && flask db downgrade b2",)

    (lost,) = diagnose(graph, statuses[:1], {}, {"f4": None}, command="flask db")
    assert "git has no file for f4" in lost.message and lost.fix_command is None
    (unsearched,) = diagnose(graph, statuses[:1], command="flask db")
    assert unsearched.message.endswith("which no revision file here has")


def test_git_finds_a_revision_on_a_branch_or_only_in_history(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    git_init(tmp_path)
    write_revision(versions, "a1", None)
    commit_all(tmp_path, "first revision")
    git(tmp_path, "checkout", "-q", "-b", "feature-x")
    write_revision(versions, "b2", "a1")
    write_revision(versions, "b3", "b2")
    commit_all(tmp_path, "feature x")
    git(tmp_path, "checkout", "-q", "-b", "spike", "main")
    write_revision(versions, "s2", "a1", message="spike")
    commit_all(tmp_path, "try a spike")
    (versions / "s2_spike.py").unlink()
    commit_all(tmp_path, "drop the spike")
    git(tmp_path, "checkout", "-q", "main")

    root = repository_root(str(versions))
    assert root is not None and Path(root) == tmp_path.resolve()
    on_branch = locate_revision(root, "b3")
    assert on_branch is not None and on_branch.on_branch
    assert (on_branch.ref, on_branch.path) == ("feature-x", "migrations/versions/b3_b3.py")
    assert on_branch.parents == {"a1": (), "b2": ("a1",), "b3": ("b2",)}

    in_history = locate_revision(root, "s2")
    assert in_history is not None and not in_history.on_branch
    assert in_history.summary == "try a spike" and len(in_history.ref) == 12
    assert in_history.commit.startswith(in_history.ref)
    assert in_history.describe().startswith(f"commit {in_history.ref} (try a spike;")

    assert locate_revision(root, "nowhere") is None
    assert repository_root(str(tmp_path.parent)) is None


def test_a_syntax_error_in_a_body_is_a_broken_history_and_nothing_is_advised(
    tmp_path: Path,
) -> None:
    write_revision(tmp_path, "a1", None, "op.create_table('user', sa.Column('id', sa.Integer()))")
    write_revision(tmp_path, "b2", "a1", ADD_EMAIL)
    write_revision(tmp_path, "c2", "a1", "def broken(:\n    pass")
    graph = load_graph(tmp_path)

    problems = examine(graph, [database(graph, "default", ["b2", "c2"])], command="flask db")

    assert [(problem.kind, problem.severity, problem.revisions) for problem in problems] == [
        ("syntax_error", "error", ("c2",))
    ]
    assert "Alembic cannot load the history" in problems[0].message
    assert "fix:" not in describe_problems(problems)
