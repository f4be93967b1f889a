"""What the workbench's controllers see of the app: its state, its panes and Textual's services.

The app (``workbench.tui.app``) holds the controllers and hands itself to them as a
``Workbench``; a controller never imports the app, so nothing here points back up.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial, wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

from textual.containers import Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from workbench.core.databases import DatabaseStatus
from workbench.project import MigrationProject
from workbench.tui.history import History

if TYPE_CHECKING:
    from workbench.runtime.client import Launch
    from workbench.runtime.warm import WarmChild
    from workbench.tui.widgets.database_panel import DatabasePanel
    from workbench.tui.widgets.graph_view import GraphView
    from workbench.tui.widgets.log_pane import LogPane
    from workbench.tui.widgets.problem_banner import ProblemBanner
    from workbench.tui.widgets.revision_detail import RevisionDetail
    from workbench.tui.widgets.search_bar import SearchBar

STICKY = 24 * 60 * 60.0
"""The timeout of a notification that stays until dismissed (``x``, or a click on it)."""


class Workbench(Protocol):
    """The workbench app as its controllers use it."""

    project: MigrationProject
    project_folder: str
    """The folder the app was started in: paths are shown relative to it."""
    launcher: Launch
    """Starts the child processes that run operations on the project."""
    warm_child: WarmChild
    """The long-lived child that renders SQL and reviews scripts, the app loaded once."""
    read_only: bool
    history: History | None
    """The graph as last scanned; None until the first scan ends."""
    target: str | None
    """The name of the database the actions apply to (the highlighted one)."""
    operation_running: bool
    """True while a child process runs an operation: nothing else may write meanwhile."""

    graph_view: GraphView
    graph_pane: Vertical
    search_bar: SearchBar
    database_panel: DatabasePanel
    detail: RevisionDetail
    log_pane: LogPane
    problem_banner: ProblemBanner

    @property
    def target_status(self) -> DatabaseStatus | None: ...

    @property
    def screen(self) -> Screen[object]: ...

    @property
    def screen_stack(self) -> list[Screen[Any]]: ...

    sub_title: str

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None: ...

    def push_screen(self, screen: Any, callback: Any = None) -> Any: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None: ...

    def refresh_bindings(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any) -> bool: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any) -> Any: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer: ...

    def suspend(self) -> AbstractContextManager[None]: ...

    def run_worker(self, work: Any, name: str | None = "", **options: Any) -> Worker[Any]: ...


class Controller:
    """A part of the workbench's behaviour, working on the app it is given."""

    def __init__(self, app: Workbench) -> None:
        self.app = app


Parameters = ParamSpec("Parameters")
C = TypeVar("C", bound=Controller)


def thread_work(
    group: str,
) -> Callable[
    [Callable[Concatenate[C, Parameters], None]],
    Callable[Concatenate[C, Parameters], Worker[None]],
]:
    """Textual's ``@work(thread=True, exclusive=True, exit_on_error=False)`` for a controller.

    The worker belongs to the app and is named after the method, as ``@work`` names it; it is
    described by the method's name too, where Textual would ``repr`` the call and its arguments
    (a history of 50,000 revisions: a 40 MB string and 0.3 s, on every move of the SQL view).
    """

    def decorator(
        method: Callable[Concatenate[C, Parameters], None],
    ) -> Callable[Concatenate[C, Parameters], Worker[None]]:
        @wraps(method)
        def start(self: C, *args: Parameters.args, **kwargs: Parameters.kwargs) -> Worker[None]:
            return self.app.run_worker(
                partial(method, self, *args, **kwargs),
                name=method.__name__,
                group=group,
                description=method.__qualname__,
                exclusive=True,
                exit_on_error=False,
                thread=True,
            )

        return start

    return decorator
