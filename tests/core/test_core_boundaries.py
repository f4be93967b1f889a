"""The domain stays plain: no module of workbench.core imports click, Textual or Flask."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import workbench.core


def test_every_core_module_imports_no_ui_or_web_framework() -> None:
    modules = sorted(
        f"workbench.core.{info.name}" for info in pkgutil.iter_modules(workbench.core.__path__)
    )
    assert {"workbench.core.graph", "workbench.core.plan", "workbench.core.scan"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'click', 'textual', 'flask'}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
