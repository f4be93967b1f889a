"""Opening a file in the user's editor, with the editor command split safely and no shell."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping

FALLBACK_EDITORS = ("sensible-editor", "editor", "nano", "vim", "vi")


class EditorError(Exception):
    """No editor could be found, or the editor failed."""


def configured_editor(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """The editor command the user chose in ``$VISUAL`` or ``$EDITOR``, split like a shell would.

    None when neither is set: the workbench then uses its built-in editor rather than guessing.
    Splitting with shlex lets ``EDITOR="code --wait"`` work without ever invoking a shell.
    """
    env = os.environ if environ is None else environ
    for variable in ("VISUAL", "EDITOR"):
        value = env.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise EditorError(f"cannot read ${variable} ({value!r}): {exc}") from exc
            if words:
                return words
    return None


def editor_command(environ: Mapping[str, str] | None = None) -> list[str]:
    """The editor command from ``$VISUAL`` or ``$EDITOR``, or the system's default editor."""
    env = os.environ if environ is None else environ
    configured = configured_editor(env)
    if configured is not None:
        return configured
    for candidate in FALLBACK_EDITORS:
        path = shutil.which(candidate, path=env.get("PATH"))
        if path:
            return [path]
    raise EditorError("no editor found: set the EDITOR environment variable")


def open_in_editor(
    path: str, environ: Mapping[str, str] | None = None, command: list[str] | None = None
) -> None:
    """Open path in the editor (``command``, or ``editor_command``'s) and wait for it to close.

    Ctrl+C while the editor runs ends the editor, not this process: it raises ``EditorError``
    once the editor has ended, like any other failure of the editor.
    """
    command = [*(command or editor_command(environ)), path]
    try:
        with _interrupts_left_to_the_editor():
            completed = subprocess.run(command, check=False)
    except OSError as exc:
        raise EditorError(f"cannot start the editor {command[0]!r}: {exc.strerror}") from exc
    if completed.returncode == -signal.SIGINT:
        raise EditorError(f"the editor {command[0]!r} was interrupted (Ctrl+C)")
    if completed.returncode != 0:
        raise EditorError(f"the editor {command[0]!r} exited with status {completed.returncode}")


@contextlib.contextmanager
def _interrupts_left_to_the_editor() -> Iterator[None]:
    """While the editor runs, SIGINT (Ctrl+C in its terminal) is the editor's alone.

    The terminal sends it to the whole foreground process group, this process included. A
    handler that does nothing (rather than ``SIG_IGN``, which the editor would inherit) keeps
    this process running while the editor gets the signal's default action.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _signal, _frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
