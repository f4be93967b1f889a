"""Where a revision id lives in a git repository: on which branch, or in which commit.

A database upgraded from another branch stands on a revision whose file is not in the working
tree ("Can't locate revision"); git usually still has that file, and naming the branch tells
the user where the database came from and how to undo it.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

GIT_TIMEOUT = 15.0
_SHORT_COMMIT = 12
_HISTORY_COMMITS = 20
_ERE_SPECIAL = re.compile(r"([.\[\]\\(){}*+?^$|])")
_HEADER_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.*?)\s*(?:#.*)?$")
_REVISION_FILES = "*.py"


@dataclass(frozen=True)
class GitLocation:
    """A revision file found in git: the branch (or commit) holding it, and that history.

    ``ref`` is a branch name when a branch tip has the file, else the abbreviated commit;
    ``parents`` maps every revision file at ``commit`` to its ``down_revision``, so the
    nearest revision the working tree also has can be found.
    """

    revision: str
    ref: str
    on_branch: bool
    commit: str
    summary: str
    path: str
    parents: Mapping[str, tuple[str, ...]]

    def describe(self) -> str:
        """``branch feature-x (migrations/versions/x.py)`` or ``commit 1a2b3c (subject)``."""
        if self.on_branch:
            return f"branch {self.ref} ({self.path})"
        return f"commit {self.ref} ({self.summary}; {self.path})"


def repository_root(path: str) -> str | None:
    """The root of the git work tree holding ``path``, or None (not a repository, no git)."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    output = _git(folder, "rev-parse", "--show-toplevel")
    return output.strip() if output else None


def uncommitted_changes(folder: str) -> list[str] | None:
    """Paths under ``folder`` that differ from git's last commit (untracked ones too).

    None when the folder is not in a git work tree (or git is missing): nothing keeps a
    removed file there.
    """
    if repository_root(folder) is None:
        return None
    output = _git(folder, "status", "--porcelain", "--untracked-files=all", "--", ".")
    if output is None:
        return None
    return [line[3:] for line in output.splitlines() if line.strip()]


def locate_revision(root: str, revision: str) -> GitLocation | None:
    """Find the file defining ``revision``: first on branch tips, then in the history."""
    pattern = (
        "^revision[[:space:]]*(:[^=]*)?=[[:space:]]*['\"]"
        + _ERE_SPECIAL.sub(r"\\\1", revision)
        + "['\"]"
    )
    branches = _branches(root)
    if branches:
        found = _grep_files(root, pattern, [full for full, _ in branches])
        names = dict(branches)
        for full, _ in branches:
            if full in found:
                return _location(root, revision, names[full], True, full, found[full])
    history = _git(
        root,
        "log",
        "--all",
        "--format=%H",
        f"-G{pattern}",
        "-n",
        str(_HISTORY_COMMITS),
        "--",
        _REVISION_FILES,
    )
    for commit in (history or "").split():
        for candidate in (commit, f"{commit}^"):
            found = _grep_files(root, pattern, [candidate])
            if candidate in found:
                resolved = (_git(root, "rev-parse", candidate) or candidate).strip()
                short = resolved[:_SHORT_COMMIT]
                return _location(root, revision, short, False, resolved, found[candidate])
    return None


def _branches(root: str) -> list[tuple[str, str]]:
    """(full ref, short name) of every local branch, then every remote-tracking branch."""
    output = _git(
        root, "for-each-ref", "--format=%(refname)%09%(symref)", "refs/heads", "refs/remotes"
    )
    found = []
    for line in (output or "").splitlines():
        full, _, symbolic = line.partition("\t")
        if symbolic:
            continue
        short = full.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        found.append((full, short))
    return found


def _grep_files(root: str, pattern: str, trees: list[str]) -> dict[str, str]:
    """For each tree (ref or commit) holding a file that matches, the first such file's path."""
    output = _git(root, "grep", "-l", "-z", "-E", pattern, *trees, "--", _REVISION_FILES)
    found: dict[str, str] = {}
    for entry in (output or "").split("\0"):
        if entry:
            tree, _, path = entry.partition(":")
            found.setdefault(tree, path)
    return found


def _location(
    root: str, revision: str, ref: str, on_branch: bool, tree: str, path: str
) -> GitLocation:
    """The location of a found file, with the revision headers of its tree."""
    commit = (_git(root, "rev-parse", tree) or tree).strip()
    summary = (_git(root, "log", "-1", "--format=%s", commit) or "").strip()
    return GitLocation(revision, ref, on_branch, commit, summary, path, _parents_at(root, commit))


def _parents_at(root: str, commit: str) -> dict[str, tuple[str, ...]]:
    """Every revision file's ``down_revision`` at a commit, read from git's grep of headers."""
    header = "^(revision|down_revision)[[:space:]]*(:[^=]*)?="
    output = _git(root, "grep", "-z", "-E", header, commit, "--", _REVISION_FILES)
    headers: dict[str, dict[str, object]] = {}
    for line in (output or "").splitlines():
        path, _, content = line.partition("\0")
        match = _HEADER_LINE.match(content)
        if match is None:
            continue
        try:
            value = ast.literal_eval(match.group(2))
        except (ValueError, SyntaxError):
            continue
        headers.setdefault(path, {})[match.group(1)] = value
    parents: dict[str, tuple[str, ...]] = {}
    for values in headers.values():
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            continue
        if isinstance(down, str):
            parents[revision] = (down,)
        elif isinstance(down, (tuple, list)):
            parents[revision] = tuple(str(item) for item in down)
        else:
            parents[revision] = ()
    return parents


def _git(folder: str, *args: str) -> str | None:
    """Run git in a folder; its output, or None when git is missing or the command fails."""
    try:
        result = subprocess.run(
            ["git", "-C", folder, *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def added_files(folder: str, from_ref: str | None = None, to_ref: str | None = None) -> list[str]:
    """Absolute paths of the files a commit adds: staged in the index, or between two refs.

    With both refs (as pre-commit gives them in CI: ``PRE_COMMIT_FROM_REF``/``_TO_REF``), the
    files added on ``to_ref`` since its merge base with ``from_ref``. Raises ValueError outside
    a git repository or when git refuses the refs.
    """
    root = repository_root(folder)
    if root is None:
        raise ValueError(f"{folder} is not in a git repository")
    if from_ref and to_ref:
        output = _git(root, "diff", "--name-only", "--diff-filter=A", f"{from_ref}...{to_ref}")
    else:
        output = _git(root, "diff", "--cached", "--name-only", "--diff-filter=A")
    if output is None:
        raise ValueError("git could not list the added files")
    return [os.path.join(root, line) for line in output.splitlines() if line.strip()]
