"""Review rules that judge a migration's op tree before it is written or run.

``review_operations(upgrade_ops, ReviewContext(...))`` returns findings (rule id, severity,
message, fix, the op's path); ``apply_rewrite`` turns a probable rename into a rename and drops
autogenerate noise; ``record_operations`` gets the op tree of a hand-written revision, so the
same rules judge existing files.

Acknowledging a finding, so it is not raised again, is a comment anywhere in the script::

    # workbench: ack <rule> [<table>[.<column>]]

for example ``# workbench: ack drop-column users.legacy_id``. Without a target it covers every
finding of that rule; with a table, every finding of that rule on the table; with
``table.column``, only that column's. ``unacknowledged(findings, script_text)`` applies them.
"""

from workbench.core.findings import Finding, OpPath, Severity
from workbench.core.review.context import ForeignKeyAction, ReviewContext
from workbench.core.review.optree import BatchAlterTableOps
from workbench.core.review.recorder import record_operations
from workbench.core.review.rewrite import StaleFindingError, apply_rewrite
from workbench.core.review.rules import MANY_DROPPED_TABLES, review_operations
from workbench.core.review.script import (
    Acknowledgement,
    acknowledgements,
    locate_lines,
    unacknowledged,
)

__all__ = [
    "MANY_DROPPED_TABLES",
    "Acknowledgement",
    "BatchAlterTableOps",
    "Finding",
    "ForeignKeyAction",
    "OpPath",
    "ReviewContext",
    "Severity",
    "StaleFindingError",
    "acknowledgements",
    "apply_rewrite",
    "locate_lines",
    "record_operations",
    "review_operations",
    "unacknowledged",
]
