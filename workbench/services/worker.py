"""The child process's entry point: ``python -m workbench.services.worker``.

The child's loop (``workbench.runtime.child``) may not import the services it runs, so this
module, above both, hands it the handler table and its host: the Flask app's, or, when
``workbench`` set ``WORKBENCH_ALEMBIC_OPTIONS``, the plain Alembic project's.
"""

from __future__ import annotations

import sys

from workbench.project.alembic import AlembicOptions
from workbench.runtime.child import main, serve
from workbench.runtime.wire import SERVE_FLAG
from workbench.services.operations import AlembicHost, FlaskHost

if __name__ == "__main__":
    options = AlembicOptions.from_environment()
    host = FlaskHost() if options is None else AlembicHost(options)
    sys.exit(serve(host) if SERVE_FLAG in sys.argv[1:] else main(host))
