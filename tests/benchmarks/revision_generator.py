"""Where the benchmarks find ``gen_revisions.py``, the generator of large Alembic histories.

It lies in the ``shared/tools`` folder beside the checkout (or beside a worktree's parents);
``WORKBENCH_REVISION_GENERATOR`` names it when the benchmarks run from elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_RELATIVE = Path("shared") / "tools" / "gen_revisions.py"


def find_generator() -> Path:
    """The generator's path: the environment's, else the first found above this file or here."""
    named = os.environ.get("WORKBENCH_REVISION_GENERATOR")
    if named:
        return Path(named)
    for start in (Path(__file__).resolve(), Path.cwd()):
        for folder in start.parents:
            if (folder / _RELATIVE).exists():
                return folder / _RELATIVE
    return _RELATIVE


GENERATOR = find_generator()
