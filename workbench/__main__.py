"""``python -m workbench`` (and the ``workbench`` script): commands that need no Flask app.

``flask db ...`` needs an app to work on; these commands make one, so they live outside it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from workbench.errors import WorkbenchError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``Error: ...`` line and exit status 1.

    argparse prints the usage and exits with 2; every other workbench command reports bad
    input as a single line with status 1, and this one should too.
    """

    def error(self, message: str) -> NoReturn:
        """Report bad arguments in one line, pointing at ``--help``."""
        self.exit(1, f"Error: {message} (see `{self.prog} --help`)\n")


def _parser(prog: str) -> argparse.ArgumentParser:
    """The command line: ``demo [FOLDER] [--no-open] [--rebuild]``."""
    from workbench.demo.command import DEFAULT_FOLDER

    parser = _Parser(
        prog=prog,
        description="Migration Workbench: Flask-Migrate's `flask db` plus `flask db tui`.",
        epilog="In a Flask project, use `flask db --help` for the migration commands.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="create a demo project (a small shop) and open the workbench on it",
        description=(
            "Create a demo Flask project with two SQLite databases and a migration history "
            "with branches, then open the workbench on it; run again, it reopens that project."
        ),
    )
    demo.add_argument(
        "folder",
        nargs="?",
        default=DEFAULT_FOLDER,
        metavar="FOLDER",
        help=(
            f"a new or empty folder for the project, or one that holds the demo already, "
            f"which is reopened as it is (default: ./{DEFAULT_FOLDER})"
        ),
    )
    demo.add_argument(
        "--no-open",
        action="store_true",
        help="only create the project; print its folder and how to open it",
    )
    demo.add_argument(
        "--rebuild",
        action="store_true",
        help="make the demo again from scratch when the folder holds one already",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "workbench") -> int:
    """Run a command; returns the exit status (1 with one ``Error:`` line on failure)."""
    parser = _parser(prog)
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.error("no command given")
    from workbench.demo import build, command

    try:
        project = build.prepare_demo(arguments.folder, rebuild=arguments.rebuild)
        for line in command.summary(project):
            print(line, flush=True)
        if not arguments.no_open:
            command.open_workbench(project.folder)
    except (WorkbenchError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m workbench"))
