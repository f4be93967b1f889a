"""Opening a file in the user's editor, with the editor command split safely and no shell."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping

FALLBACK_EDITORS = ("sensible-editor", "editor", "nano", "vim", "vi")


class EditorError(Exception):
    """No editor could be found, or the editor failed."""


def editor_command(environ: Mapping[str, str] | None = None) -> list[str]:
    """The editor command from ``$VISUAL`` or ``$EDITOR``, split like a shell would, or a default.

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
    for candidate in FALLBACK_EDITORS:
        path = shutil.which(candidate, path=env.get("PATH"))
        if path:
            return [path]
    raise EditorError("no editor found: set the EDITOR environment variable")


def open_in_editor(path: str, environ: Mapping[str, str] | None = None) -> None:
    """Open path in the editor and wait for it to close; raise ``EditorError`` if it fails."""
    command = [*editor_command(environ), path]
    try:
        completed = subprocess.run(command, check=False)
    except OSError as exc:
        raise EditorError(f"cannot start the editor {command[0]!r}: {exc.strerror}") from exc
    if completed.returncode != 0:
        raise EditorError(f"the editor {command[0]!r} exited with status {completed.returncode}")
