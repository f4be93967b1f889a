"""The demo project's sources, read from the package's data files under ``demo/shop/``.

``app.py.txt``, ``models.py.txt`` and ``README.md`` are copied into the project as
``app.py``, ``models.py`` and ``README.md``. Each file in ``revisions/`` is one revision of the
history, in history order (the number in front of its name), named after its key::

    message: create invoices table
    parents: order_currency
    branch label: billing


    def upgrade_():
        ...

The header lines give the revision's message, its parents by key (separated by spaces) and an
optional branch label. Below them come the bodies of the revision's ``upgrade_<database>()``
and ``downgrade_<database>()`` functions exactly as they appear in the written revision file
(a function left out is ``pass``). The files are not Python modules, so nothing imports them.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files

SEED = "workbench-demo"
BIND = "analytics"
FIRST_DATE = datetime(2026, 3, 2, 9, 0)
_FUNCTION = re.compile(r"^def (\w+)\(\):\n", re.MULTILINE)
_BODY_INDENT = "    "


@dataclass(frozen=True)
class DemoRevision:
    """One revision of the demo history: its parents by key, and its code for each database.

    The code is a function body as the revision's template takes it: its first line without
    indentation (the template indents it), every other line indented by four spaces.
    """

    key: str
    message: str
    parents: tuple[str, ...]
    upgrade: str = "pass"
    downgrade: str = "pass"
    upgrade_analytics: str = "pass"
    downgrade_analytics: str = "pass"
    branch_label: str | None = None


def project_file(name: str) -> str:
    """The text of one of the project's own files: ``app.py``, ``models.py`` or ``README.md``."""
    stored = name if name.endswith(".md") else f"{name}.txt"
    return files(__package__).joinpath("shop", stored).read_text(encoding="utf-8")


@functools.cache
def revisions() -> tuple[DemoRevision, ...]:
    """Every revision of the demo history, oldest first."""
    folder = files(__package__).joinpath("shop", "revisions")
    stored = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".txt"))
    return tuple(
        _parse_revision(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in stored
    )


def _parse_revision(name: str, text: str) -> DemoRevision:
    """Read one revision file: header lines, then the function bodies that differ from ``pass``."""
    key = name.removesuffix(".txt").split("_", 1)[1]
    header, *functions = _FUNCTION.split(text)
    fields = dict(line.split(":", 1) for line in header.strip().splitlines())
    code = {}
    for function, body in zip(functions[::2], functions[1::2], strict=True):
        body = body.rstrip("\n")
        if not body.startswith(_BODY_INDENT):
            raise ValueError(f"{name}: the body of {function}() is not indented")
        code[function.rstrip("_")] = body.removeprefix(_BODY_INDENT)
    return DemoRevision(
        key=key,
        message=fields["message"].strip(),
        parents=tuple(fields["parents"].split()),
        branch_label=fields.get("branch label", "").strip() or None,
        **code,
    )


def revision_id(key: str) -> str:
    """The 12-hex id of a demo revision, derived from the seed and its key.

    Hashing (not a counter) gives ids that look random yet never change between runs.
    """
    return hashlib.sha256(f"{SEED}:{key}".encode()).hexdigest()[:12]


def create_dates() -> dict[str, datetime]:
    """A distinct, plausible Create Date per revision, in history order, from a fixed seed.

    Revisions are a few days apart during working hours, so the history reads like months of work.
    """
    rng = random.Random(SEED)
    dates = {}
    day = FIRST_DATE
    for demo_revision in revisions():
        day += timedelta(days=rng.randint(1, 6))
        dates[demo_revision.key] = day.replace(
            hour=rng.randint(9, 18),
            minute=rng.randint(0, 59),
            second=rng.randint(0, 59),
            microsecond=rng.randint(0, 999_999),
        )
    return dates
