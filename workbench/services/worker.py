"""The child process's entry point: ``python -m workbench.services.worker``.

The child's loop (``workbench.runtime.child``) may not import the services it runs, so this
module, above both, hands it the handler table and the Flask app's host.
"""

from __future__ import annotations

import sys

from workbench.runtime.child import main
from workbench.services.operations import FlaskHost

if __name__ == "__main__":
    sys.exit(main(FlaskHost()))
