"""Run ``python -m flask ...`` inside the test process, as a child would see it, for speed.

Starting a ``flask`` child costs over half a second of CPU (importing Flask, SQLAlchemy and
Alembic again); most scenarios are about what a command does, not about the process boundary.
This runner gives a command what a fresh child would have: the environment and working folder
it would get, file descriptors 0-2 captured at the OS level, Python's default warning filters
and logging, no bytecode written, and the project's own modules (``app``, ``models``...)
imported afresh. An exception that escapes is printed as a traceback with exit status 1, as
Python does. Tests about the process itself (signals, interpreter options, ``PYTHON*``
variables, the terminal) keep using real children.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import locale
import logging
import os
import signal
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

PROGRAM_NAME = "python -m flask"
IN_PROCESS_MARKER = "flask_in_process"
SUBPROCESS_MARKER = "flask_subprocess"
DEFAULT_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, None),
    ("ignore", PendingDeprecationWarning, None),
    ("ignore", ImportWarning, None),
    ("ignore", ResourceWarning, None),
)
"""Python's own filters when no ``-W`` option or ``PYTHONWARNINGS`` is given."""
SAVED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)
_INSTALL_PATHS = tuple(
    os.path.realpath(path)
    for path in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
)
_WORKBENCH_PATH = os.path.realpath(os.path.dirname(importlib.import_module("workbench").__file__))
_STARTING_SYS_PATH = [entry for entry in sys.path if entry]
"""``sys.path`` as the test process started: a child has no folder an earlier run added."""
_PROJECT_MODULE_NAMES = ("app", "wsgi", "models")
"""Modules Flask or a project imports by a bare name, which a child would import afresh."""


class _CurrentStdout(io.TextIOBase):
    """Writes to whatever ``sys.stdout`` is at the time, as the one stdout of a process would.

    Alembic's ``Config`` binds ``sys.stdout`` as a default argument when Alembic is imported;
    in a child that is the only stdout there is, here it must follow the capture of each run.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return sys.stdout.encoding

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


def _follow_stdout_in_alembic() -> None:
    """Make ``alembic.config.Config``'s default stdout follow ``sys.stdout``."""
    from alembic.config import Config

    defaults = Config.__init__.__defaults__ or ()
    if any(isinstance(value, _CurrentStdout) for value in defaults):
        return
    Config.__init__.__defaults__ = tuple(
        _CurrentStdout() if value is sys.stdout or _is_stream(value) else value
        for value in defaults
    )


def marked_in_process(node: Any) -> bool:
    """True when a test's commands run in process: marked ``flask_in_process``, not overruled."""
    return (
        node.get_closest_marker(IN_PROCESS_MARKER) is not None
        and node.get_closest_marker(SUBPROCESS_MARKER) is None
    )


def _is_stream(value: Any) -> bool:
    return hasattr(value, "write") and hasattr(value, "flush")


def _is_project_module(module: ModuleType, folder: str) -> bool:
    """True for a module a child would import from the project, not from the installation."""
    path = getattr(module, "__file__", None)
    if not path:
        return False
    path = os.path.realpath(path)
    if path.startswith(folder + os.sep):
        return True
    return not path.startswith(_INSTALL_PATHS) and not path.startswith(_WORKBENCH_PATH + os.sep)


def _forget_modules(names: Sequence[str]) -> None:
    for name in names:
        sys.modules.pop(name, None)


def _dispose_engines(apps: Sequence[Any]) -> None:
    """Close the pooled connections of the apps' Flask-SQLAlchemy engines, as an exit would."""
    for app in apps:
        extension = getattr(app, "extensions", {}).get("sqlalchemy")
        if extension is None:
            continue
        with contextlib.suppress(Exception), app.app_context():
            for engine in extension.engines.values():
                engine.dispose()


def _apps_in(modules: Sequence[ModuleType]) -> list[Any]:
    from flask import Flask

    return [
        value for module in modules for value in vars(module).values() if isinstance(value, Flask)
    ]


@contextlib.contextmanager
def _environment(environment: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    """Logging as a new interpreter has it (no root handlers, WARNING), restored afterwards.

    Alembic's env.py calls ``fileConfig``, which replaces handlers and disables loggers.
    """
    root = logging.getLogger()
    loggers = [
        root,
        *(
            logger
            for logger in logging.Logger.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ),
    ]
    saved = [
        (logger, logger.level, logger.disabled, list(logger.handlers), logger.propagate)
        for logger in loggers
    ]
    saved_handlers = dict(logging._handlers)  # type: ignore[attr-defined]
    saved_handler_list = list(logging._handlerList)  # type: ignore[attr-defined]
    disable_level = logging.root.manager.disable
    root.handlers = []
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level, disabled, handlers, propagate in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.handlers = handlers
            logger.propagate = propagate
        known = {id(logger) for logger in loggers}
        for logger in list(logging.Logger.manager.loggerDict.values()):
            if isinstance(logger, logging.Logger) and id(logger) not in known:
                logger.handlers = []
                logger.disabled = False
                logger.propagate = True
                logger.setLevel(logging.NOTSET)
        logging._handlers.clear()  # type: ignore[attr-defined]
        logging._handlers.update(saved_handlers)  # type: ignore[attr-defined]
        logging._handlerList[:] = saved_handler_list  # type: ignore[attr-defined]
        logging.disable(disable_level)


@contextlib.contextmanager
def _alembic_proxies_kept() -> Iterator[None]:
    """``alembic.op`` and ``alembic.context`` as they were: a run leaves ``_proxy = None``."""
    import alembic.context
    import alembic.op

    modules = (alembic.op, alembic.context)
    saved = [dict(vars(module)) for module in modules]
    try:
        yield
    finally:
        for module, namespace in zip(modules, saved, strict=True):
            vars(module).clear()
            vars(module).update(namespace)


@contextlib.contextmanager
def _default_warnings() -> Iterator[None]:
    """Python's default warning filters, warnings printed to ``sys.stderr`` as a child prints."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for action, category, module in reversed(DEFAULT_WARNING_FILTERS):
            if module is None:
                warnings.simplefilter(action, category)
            else:
                warnings.filterwarnings(action, category=category, module=module)

        def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
            with contextlib.suppress(OSError):
                (file or sys.stderr).write(
                    warnings.formatwarning(message, category, filename, lineno, line)
                )

        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _captured_descriptors(input: str | None) -> Iterator[tuple[TextIO, list[bytes]]]:
    """Point descriptors 1 and 2 at temporary files and give Python new streams over them.

    Yields the new stderr, and a list that receives the bytes written to stdout and stderr
    once the block ends.
    """
    encoding = locale.getpreferredencoding(False)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    for stream in saved_streams[1:]:
        with contextlib.suppress(Exception):
            stream.flush()
    outputs: list[bytes] = []
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        saved_descriptors = (os.dup(1), os.dup(2))
        os.dup2(out_file.fileno(), 1)
        os.dup2(err_file.fileno(), 2)
        stdout = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding=encoding
        )
        stderr = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
            encoding=encoding,
            errors="backslashreplace",
            line_buffering=True,
        )
        sys.stdin = io.StringIO(input or "")
        sys.stdout, sys.stderr = stdout, stderr
        try:
            yield stderr, outputs
        finally:
            for stream in (stdout, stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            os.dup2(saved_descriptors[0], 1)
            os.dup2(saved_descriptors[1], 2)
            for descriptor in saved_descriptors:
                os.close(descriptor)
            for file in (out_file, err_file):
                file.seek(0)
                outputs.append(file.read())


@contextlib.contextmanager
def _saved_process_state(folder: Path) -> Iterator[None]:
    """Working folder, ``sys.path``, ``sys.argv``, signal handlers and bytecode flag, restored."""
    cwd = os.getcwd()
    path = list(sys.path)
    argv = list(sys.argv)
    handlers = {number: signal.getsignal(number) for number in SAVED_SIGNALS}
    dont_write_bytecode = sys.dont_write_bytecode
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        sys.argv[:] = argv
        for number, handler in handlers.items():
            signal.signal(number, handler)
        sys.dont_write_bytecode = dont_write_bytecode


def _exit_status(code: object) -> int:
    """The exit status a child has after ``sys.exit(code)`` (printing a non-int code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _decode(data: bytes) -> str:
    """Bytes as ``subprocess.run(text=True)`` decodes them (universal newlines)."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def run_flask_in_process(
    folder: Path,
    args: Sequence[str],
    environment: Mapping[str, str],
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m flask *args`` in ``folder`` with exactly ``environment``, in this process.

    Returns what ``subprocess.run(capture_output=True, text=True)`` would return.
    """
    import flask
    from flask.cli import ScriptInfo, cli

    info = ScriptInfo()
    return run_module_in_process(
        "flask",
        folder,
        args,
        environment,
        input,
        main=lambda: cli.main(args=list(args), prog_name=PROGRAM_NAME, obj=info),
        main_file=os.path.join(os.path.dirname(flask.__file__), "__main__.py"),
        loaded_app=lambda: getattr(info, "_loaded_app", None),
    )


def run_alembic_in_process(
    folder: Path, args: Sequence[str], environment: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m alembic *args`` in ``folder``, in this process."""
    import alembic.config

    return run_module_in_process(
        "alembic",
        folder,
        args,
        environment,
        main=lambda: alembic.config.main(argv=list(args), prog="alembic"),
        main_file=os.path.join(os.path.dirname(alembic.config.__file__), "__main__.py"),
    )


def run_workbench_in_process(
    folder: Path, args: Sequence[str], environment: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench *args`` in ``folder``, in this process."""
    import workbench.__main__ as workbench_main

    return run_module_in_process(
        "workbench",
        folder,
        args,
        environment,
        main=lambda: sys.exit(workbench_main.main(list(args), prog="python -m workbench")),
        main_file=workbench_main.__file__,
    )


def run_module_in_process(
    module: str,
    folder: Path,
    args: Sequence[str],
    environment: Mapping[str, str],
    input: str | None = None,
    *,
    main: Callable[[], object],
    main_file: str,
    loaded_app: Callable[[], Any] = lambda: None,
) -> subprocess.CompletedProcess[str]:
    """Run ``main`` as ``python -m MODULE *args`` would run in ``folder``, in this process.

    The state a fresh child would have is set up around it, and put back after.
    """
    _follow_stdout_in_alembic()
    folder = Path(folder).resolve()
    real_folder = os.path.realpath(folder)
    _forget_modules([name for name in _PROJECT_MODULE_NAMES if name in sys.modules])
    before = set(sys.modules)
    status = 0
    with (
        _saved_process_state(folder),
        _environment(environment),
        _captured_descriptors(input) as (stderr, outputs),
        _fresh_logging(),
        _default_warnings(),
        _alembic_proxies_kept(),
    ):
        sys.path[:] = [str(folder), *_STARTING_SYS_PATH]
        sys.argv[:] = [main_file, *args]
        sys.dont_write_bytecode = True
        importlib.invalidate_caches()
        try:
            main()
        except SystemExit as exit:
            status = _exit_status(exit.code)
        except BaseException:
            traceback.print_exc(file=stderr)
            status = 130 if isinstance(sys.exc_info()[1], KeyboardInterrupt) else 1
        finally:
            gc.unfreeze()
            added = [name for name in set(sys.modules) - before if name in sys.modules]
            project_modules = [
                sys.modules[name]
                for name in added
                if sys.modules[name] is not None
                and _is_project_module(sys.modules[name], real_folder)
            ]
            apps = _apps_in(project_modules)
            loaded = loaded_app()
            if loaded is not None and loaded not in apps:
                apps.append(loaded)
            _dispose_engines(apps)
            _forget_modules([module.__name__ for module in project_modules])
    stdout_bytes, stderr_bytes = outputs
    return subprocess.CompletedProcess(
        [sys.executable, "-m", module, *args],
        status,
        _decode(stdout_bytes),
        _decode(stderr_bytes),
    )
