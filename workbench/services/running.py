"""What the faces run in a child and read back: a plan's run, a preview, a review, verify, squash.

Core builds plans and holds what previews and reports are; starting a child is the runtime's.
This module joins them, so neither knows the other: a plan becomes a request, and a child's
last event becomes a ``Preview`` or a ``VerifyReport``.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.core.lock_report import LockReport
from workbench.core.plan import Plan
from workbench.core.preview import Preview, PreviewError
from workbench.core.squash import SquashReport
from workbench.core.verify import CheckResult, VerifyError, VerifyReport
from workbench.errors import WorkbenchError
from workbench.runtime.client import RunningOperation
from workbench.runtime.events import Check, Event, Finished
from workbench.runtime.requests import DowngradeRequest, StampRequest, UpgradeRequest
from workbench.runtime.warm import WarmRun


def plan_request(
    plan: Plan, directory: str | None = None
) -> UpgradeRequest | DowngradeRequest | StampRequest:
    """The request that carries out a plan."""
    if plan.action == "stamp":
        return StampRequest(directory=directory, revision=plan.target, purge=plan.purge)
    if plan.action == "downgrade":
        return DowngradeRequest(directory=directory, revision=plan.target)
    return UpgradeRequest(directory=directory, revision=plan.target)


def preview_result(running: RunningOperation | WarmRun) -> Preview:
    """Wait for a preview or review child and return its preview (blocking: workers only).

    Raises ``PreviewError`` with the child's one-line message when it failed or was cancelled.
    """
    final = running.wait()
    if not isinstance(final, Finished):
        raise PreviewError(final.message or "the preview did not finish")
    return Preview.from_dict(final.result["preview"])


def verify_result(
    running: RunningOperation, on_check: Callable[[CheckResult], None] | None = None
) -> VerifyReport:
    """Wait for a verify child and return its report (blocking: workers only).

    ``on_check`` hears of each check as it ends. Raises ``VerifyError`` with the child's
    one-line message when verification could not run.
    """

    def checked(event: Event) -> None:
        if isinstance(event, Check) and on_check is not None:
            on_check(event.check)

    final = running.wait(checked)
    if not isinstance(final, Finished):
        raise VerifyError(final.message or "the verification did not finish")
    return VerifyReport.from_dict(final.result["verify"])


def locks_result(running: RunningOperation) -> tuple[LockReport, ...]:
    """Wait for a locks child and return its reports (blocking: workers only).

    Raises ``WorkbenchError`` with the child's one-line message when it failed or was cancelled.
    """
    final = running.wait()
    if not isinstance(final, Finished):
        raise WorkbenchError(final.message or "the measurement did not finish")
    return tuple(LockReport.from_dict(report) for report in final.result["locks"])


def squash_result(running: RunningOperation) -> SquashReport:
    """Wait for a squash child and return its report (blocking: workers only).

    Raises ``WorkbenchError`` with the child's one-line message when it failed or was cancelled.
    """
    final = running.wait()
    if not isinstance(final, Finished):
        raise WorkbenchError(final.message or "the squash did not finish")
    return SquashReport.from_dict(final.result["squash"])
