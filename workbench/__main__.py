"""``python -m workbench`` (and the ``workbench`` script): the workbench without Flask.

The migration commands work on a plain Alembic project (``workbench.cli.alembic_group``), with
``flask db``'s commands, options and output; ``demo`` makes a project to try them on. Bad input
is one ``Error: ...`` line and exit status 1, for every command.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import NoReturn

from workbench.core.collector import collector_paused


def program(prog: str = "workbench") -> NoReturn:
    """The ``workbench`` script and ``python -m workbench``: run the command line, then exit.

    The process is the command's own: the command line's modules are imported first, and what
    importing made (it lives until the process ends) is moved out of the cyclic collector's
    reach, so that no collection walks it again.
    """
    with collector_paused():
        import workbench.cli.alembic_group  # noqa: F401

        gc.freeze()
    sys.exit(main(prog=prog))


def main(argv: Sequence[str] | None = None, prog: str = "workbench") -> int:
    """Run a command; returns the exit status (1 with one ``Error:`` line on failure)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        from workbench.cli.demo_command import demo_main

        return demo_main(args, prog)
    return migration_main(args, prog)


def migration_main(args: list[str], prog: str) -> int:
    """Run a migration command on the Alembic project of the working folder."""
    import click

    from workbench.cli.alembic_group import workbench

    if not args:
        print(f"Error: no command given (see `{prog} --help`)", file=sys.stderr)
        return 1
    try:
        result = workbench.main(args=args, prog_name=prog, standalone_mode=False)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else prog
        print(f"Error: {exc.format_message()} (see `{command} --help`)", file=sys.stderr)
        return 1
    except click.ClickException as exc:
        print(f"Error: {exc.format_message()}", file=sys.stderr)
        return 1
    except click.Abort:
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    program(prog="python -m workbench")
