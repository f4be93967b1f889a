"""The values users type for a new revision: its id, its branch label, its message.

An id becomes a file name, a Python literal and an SQL literal in the version table; a label
is addressed as ``label@head``; a message lands in the revision file's docstring and in every
listing. Each rule lives here once, so the CLI, the Python functions and the workbench agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping

_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_NAME_RULE = "use letters, digits and '_' ('.' only between them)"
RESERVED_NAMES = frozenset({"head", "heads", "base", "current"})
VERSION_COLUMN_LENGTH = 32
"""The width of Alembic's ``version_num`` column: a longer id fails at upgrade time."""

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
LINE_BREAK_MARK = "␤"
SHORT_ID = 12
"""How many characters of a revision id every listing shows: all of a 12-hex id Alembic makes."""


class UnsafeValue(ValueError):
    """A typed value that would break the project; the message says why, in one line."""


def revision_id_problem(value: str, max_length: int | None = VERSION_COLUMN_LENGTH) -> str | None:
    """Why ``value`` cannot be a new revision's id, or None when it can.

    Refused: an empty id, anything but ASCII letters, digits, ``_`` and inner dots (so no
    path, quote, space or Alembic operator ``@ - + :``), Alembic's symbols (``head`` ...),
    and ids longer than ``max_length`` (the version table's column; None: any length).
    """
    problem = _name_problem("revision id", value)
    if problem is None and max_length is not None and len(value) > max_length:
        problem = (
            f"revision id {value!r} has {len(value)} characters; Alembic's version table "
            f"holds at most {max_length}"
        )
    return problem


def branch_label_problem(value: str) -> str | None:
    """Why ``value`` cannot be a branch label, or None when it can.

    A label is addressed as ``label@head`` and ``label@-1``: ``@``, ``-``, ``+``, ``:`` and
    ``,`` would be read as Alembic's operators, so labels follow the revision id rule.
    """
    return _name_problem("branch label", value)


def _name_problem(kind: str, value: str) -> str | None:
    """The shared rule of ids and labels: a safe, addressable name."""
    if not value:
        return f"the {kind} is empty"
    if value in RESERVED_NAMES:
        return f"{kind} {value!r} is one of Alembic's symbols ({', '.join(sorted(RESERVED_NAMES))})"
    if _NAME.fullmatch(value) is None:
        bad = sorted({char for char in value if not (char.isascii() and char.isalnum())} - {"_"})
        shown = " ".join(repr(char) for char in bad if char != ".")
        where = f" contains {shown}" if shown else " has a '.' first, last or twice in a row"
        return f"{kind} {value!r}{where}: {_NAME_RULE}"
    return None


def check_new_revision(
    rev_id: str | None,
    branch_label: str | None,
    existing: Mapping[str, str] | Collection[str] = (),
    labels: Mapping[str, str] | None = None,
) -> None:
    """Raise ``UnsafeValue`` unless the id and label typed for a new revision are safe and new.

    ``existing`` holds the history's revision ids (mapped to their files, when known);
    ``labels`` maps the branch labels in use to the revision carrying each.
    """
    if rev_id is not None:
        problem = revision_id_problem(rev_id)
        if problem is None and rev_id in existing:
            where = existing[rev_id] if isinstance(existing, Mapping) else None
            problem = f"revision {rev_id} already exists" + (f" ({where})" if where else "")
        if problem is not None:
            raise UnsafeValue(problem + "; nothing written")
    if branch_label is not None:
        problem = branch_label_problem(branch_label)
        if problem is None and branch_label in existing:
            problem = f"branch label {branch_label!r} is the id of an existing revision"
        if problem is None and labels and branch_label in labels:
            problem = f"branch label {branch_label!r} is already used by {labels[branch_label]}"
        if problem is not None:
            raise UnsafeValue(problem + "; nothing written")


def docstring_text(message: str, encoding: str = "utf-8") -> str:
    """``message`` written so that, inside a revision file's docstring, it reads back unchanged.

    Templates put the message between triple quotes: backslashes, quotes that would close
    them, line breaks, NUL and other control characters, and characters the file's encoding
    cannot hold are written as Python escapes; everything else stays as typed.
    """
    pieces = []
    last = len(message) - 1
    for index, char in enumerate(message):
        if char == "\\":
            pieces.append("\\\\")
        elif char in "\"'" and (index == last or message[index + 1] == char):
            pieces.append("\\" + char)
        elif _needs_escape(char, encoding):
            pieces.append(char.encode("unicode_escape").decode("ascii"))
        else:
            pieces.append(char)
    return "".join(pieces)


def _needs_escape(char: str, encoding: str) -> bool:
    """Control, format and separator characters, and those the encoding cannot write."""
    if unicodedata.category(char) in _ESCAPED_CATEGORIES:
        return True
    try:
        char.encode(encoding)
    except (UnicodeError, LookupError):
        return True
    return False


def one_line(text: str) -> str:
    """``text`` shown safely on one line: line breaks as ``␤``, other control characters escaped.

    Messages and labels come from files anyone can write; a newline, NUL or terminal escape
    in one must not break a listing, a graph export or a row of the workbench.
    """
    text = _LINE_BREAKS.sub(LINE_BREAK_MARK, text)
    if all(unicodedata.category(char) not in _ESCAPED_CATEGORIES for char in text):
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in _ESCAPED_CATEGORIES
        else char
        for char in text
    )
