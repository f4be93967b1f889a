"""The demo's data files: a history whose parents come first, and the project's own files."""

from __future__ import annotations

import ast

from workbench.demo.seed import ANALYTICS_STANDS_AT, DEFAULT_STANDS_AT
from workbench.demo.sources import create_dates, project_file, revision_id, revisions


def test_the_history_lists_every_parent_before_its_children():
    history = revisions()
    seen: set[str] = set()
    for demo_revision in history:
        assert set(demo_revision.parents) <= seen, demo_revision.key
        assert demo_revision.key not in seen
        seen.add(demo_revision.key)
    assert len(history) == 41
    assert [r.key for r in history if len(r.parents) > 1] == ["merge_reviews_search"]
    assert [r.branch_label for r in history if r.branch_label] == ["billing"]
    assert {DEFAULT_STANDS_AT, ANALYTICS_STANDS_AT} <= seen
    assert len({revision_id(key) for key in seen}) == len(seen)
    assert list(create_dates()) == [r.key for r in history]


def test_every_body_is_python_once_placed_in_its_function():
    for demo_revision in revisions():
        for function in ("upgrade", "downgrade", "upgrade_analytics", "downgrade_analytics"):
            body = getattr(demo_revision, function)
            ast.parse(f"def {function}():\n    {body}\n")


def test_the_project_files_are_python_and_markdown():
    for name in ("app.py", "models.py"):
        ast.parse(project_file(name))
    assert project_file("README.md").startswith("# Workbench demo: a small shop\n")
