"""The domain modules stay plain: no click, Textual or Flask behind the graph."""

from __future__ import annotations

import subprocess
import sys


def test_scan_graph_and_layout_import_no_ui_or_web_framework() -> None:
    code = (
        "import sys\n"
        "import workbench.core.graph, workbench.core.layout, workbench.core.scan\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'click', 'textual', 'flask'}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
