"""The action registry is the one source of keys: every entry must lead somewhere."""

from __future__ import annotations

from textual.binding import Binding

from workbench.tui.app import WorkbenchApp
from workbench.tui.keys import ACTIONS, WRITING_ACTIONS, Scope, key_label
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.editor import EditorScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.linearize import LinearizeScreen
from workbench.tui.screens.merge_plan import MergePlanScreen
from workbench.tui.screens.new_revision import NewRevisionScreen
from workbench.tui.screens.problems import ProblemsScreen
from workbench.tui.screens.progress import ProgressScreen
from workbench.tui.screens.review import ReviewScreen
from workbench.tui.screens.squash import SquashScreen
from workbench.tui.screens.verify import VerifyScreen
from workbench.tui.widgets.graph_view import GraphView
from workbench.tui.widgets.search_bar import SearchBar

HANDLERS = {
    Scope.APP: [WorkbenchApp],
    Scope.GRAPH: [GraphView],
    Scope.SEARCH: [SearchBar],
    Scope.CONFIRM: [ConfirmScreen],
    Scope.BRANCH_PLAN: [MergePlanScreen, LinearizeScreen],
    Scope.PROGRESS: [ProgressScreen],
    Scope.EDITOR: [EditorScreen],
    Scope.PROMPT: [NewRevisionScreen],
    Scope.REVIEW: [ReviewScreen],
    Scope.VERIFY: [VerifyScreen],
    Scope.SQUASH: [SquashScreen],
    Scope.LISTS: [HelpScreen, ProblemsScreen],
    Scope.PROBLEMS: [ProblemsScreen],
}


def test_every_registered_action_has_a_handler_where_its_key_is_bound():
    for entry in ACTIONS:
        for owner in HANDLERS[entry.scope]:
            assert callable(getattr(owner, f"action_{entry.action}", None)), (entry, owner)
            bound = {binding.action for binding in owner.BINDINGS}  # type: ignore[union-attr]
            assert entry.action in bound, (entry, owner)


def test_no_key_is_bound_twice_in_one_scope():
    for scope in Scope:
        keys = [key for entry in ACTIONS if entry.scope is scope for key in entry.keys.split(",")]
        assert len(keys) == len(set(keys)), scope


def test_writing_actions_are_the_ones_that_change_files_or_databases():
    assert {
        "upgrade_selected",
        "upgrade_heads",
        "downgrade_selected",
        "stamp_selected",
        "edit_revision",
        "new_revision",
        "merge_heads",
        "linearize_heads",
        "write_plan",
        "write_revision",
        "verify_history",
        "measure_locks",
        "squash_revision",
        "write_squash",
    } == WRITING_ACTIONS


def test_keys_read_as_the_footer_shows_them():
    labels = {(entry.scope, entry.action): key_label(entry) for entry in ACTIONS}
    assert labels[Scope.GRAPH, "cursor_down"] == "j / ↓"
    assert labels[Scope.GRAPH, "page_down"] == "pgdn / ^f"
    assert labels[Scope.LISTS, "close"] == "esc / q / ?"
    assert labels[Scope.CONFIRM, "confirm"] == "^s"
    footer = WorkbenchApp.get_key_display
    for entry in ACTIONS:
        shown = [footer(None, Binding(key, entry.action)) for key in entry.keys.split(",")]  # type: ignore[arg-type]
        assert key_label(entry) == (entry.key_display or " / ".join(shown)), entry
        assert "_" not in key_label(entry), entry
