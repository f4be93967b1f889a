"""Alembic is the oracle: generated, then damaged, version folders loaded by Alembic and by us.

Histories with merges, branch labels, depends_on and several bases are written as revision
files in the shapes real projects have, then damaged the ways users and tools damage them
(syntax errors in bodies and headers, copied files, missing parents, cycles, headers that are
not literals, odd ids and messages, files that are not UTF-8, empty files). Each folder is
loaded by Alembic's ``ScriptDirectory`` (importing every file) and by our scan and graph:

* where Alembic refuses (an exception, or its "present more than once" warning, after which
  its heads are wrong), we report a broken history, or an unknown header that leaves the
  heads unknown: `status` never says "at head" and `doctor` has an error or a warning;
* where Alembic loads it, we never report a broken history; and where no header is unknown to
  us, the heads, bases, parents, dependencies and branch labels are Alembic's, and `status`
  and `graph` have nothing to say but their output.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workbench.core.databases import DatabaseState, DatabaseTarget, VersionReading, classify
from workbench.core.doctor import ERROR, WARNING, diagnose
from workbench.core.graph import RevisionGraph, build_graph
from workbench.core.scan import scan_revisions
from workbench.core.verdict import heads_unknown, refusals, unknowns, worth_a_line

EXAMPLES = int(os.environ.get("WORKBENCH_DIFFERENTIAL_EXAMPLES", "2000"))

ODD_IDS = ["0001", "a_b", "ñandú", "x.y", "with space", "o'k", "a-b", "a@b", "a+b", "A:B", ""]
ODD_MESSAGES = [
    'triple """ quotes',
    "back\\Nslash",
    "tab\there",
    "unicode ✓ é",
    "line\nbreak",
    "trailing \\",
    "",
]


@dataclass
class RevisionFile:
    """One revision file, as the source text of each header value plus its shape."""

    name: str
    revision: str
    down_revision: str
    branch_labels: str = "None"
    depends_on: str = "None"
    message: str = "change"
    revises: str = ""
    style: int = 0
    before_header: str = ""
    after_header: str = ""
    body: str = "pass"
    omit: tuple[str, ...] = ()
    raw: bytes | None = None

    def render(self) -> bytes:
        """The file's bytes in one of the shapes Alembic's templates (and people) write."""
        if self.raw is not None:
            return self.raw
        doc = (
            f'"""{self.message}\n\nRevision ID: {self.revision}\nRevises: {self.revises}\n'
            'Create Date: 2026-01-01 00:00:00\n\n"""\n'
        )
        values = {
            "revision": self.revision,
            "down_revision": self.down_revision,
            "branch_labels": self.branch_labels,
            "depends_on": self.depends_on,
        }
        typing = "from typing import Sequence, Union\n" if self.style == 1 else ""
        annotation = {
            0: "",
            1: ": Union[str, Sequence[str], None]",
            2: "",
        }[self.style]
        lines = []
        for name, value in values.items():
            if name in self.omit:
                continue
            if self.style == 2 and name == "down_revision":
                lines.append(f"PARENT = {value}")
                value = "PARENT"
            lines.append(f"{name}{annotation if name != 'revision' else ''} = {value}")
        header = "\n".join(lines)
        text = (
            f"{doc}{typing}from alembic import op\nimport sqlalchemy as sa\n\n"
            f"{self.before_header}"
            "# revision identifiers, used by Alembic.\n"
            f"{header}\n{self.after_header}\n\n"
            f"def upgrade():\n    {self.body}\n\n\ndef downgrade():\n    pass\n"
        )
        return text.encode()


def literal(ids: list[str], as_list: bool = False) -> str:
    """``None``, ``'a'`` or ``('a', 'b')`` (``['a', 'b']``) as Alembic's template writes them."""
    if not ids:
        return "None"
    if len(ids) == 1 and not as_list:
        return repr(ids[0])
    return repr(list(ids)) if as_list else repr(tuple(ids))


def joined(value: str) -> str:
    """An expression with the value of the string ``value``."""
    return f'"".join({list(value)!r})'


@st.composite
def histories(draw: st.DrawFn) -> list[RevisionFile]:
    """A history with merges, labels, depends_on and several bases, then damaged 0-3 times."""
    count = draw(st.integers(1, 7))
    ids = [f"{draw(st.sampled_from('abcdef'))}{index:03d}x" for index in range(count)]
    labels: dict[str, str] = {}
    files = []
    for index, revision in enumerate(ids):
        earlier = ids[:index]
        wanted = draw(st.sampled_from([0, 1, 1, 1, 1, 2, 2, 3])) if earlier else 0
        parents = draw(st.permutations(earlier))[:wanted] if earlier else []
        dependencies: list[str] = []
        if earlier and draw(st.integers(0, 3)) == 0:
            target = draw(st.sampled_from(earlier))
            dependencies.append(labels.get(target, target) if draw(st.booleans()) else target)
        if draw(st.integers(0, 3)) == 0:
            labels[revision] = f"line{index}"
        revises = draw(
            st.sampled_from(
                [
                    ", ".join(parents),
                    repr(tuple(parents)) if len(parents) > 1 else ", ".join(parents),
                    "None" if not parents else ", ".join(parents),
                    "stale0x",
                ]
            )
        )
        files.append(
            RevisionFile(
                name=f"{index:02d}_{revision}.py",
                revision=repr(revision),
                down_revision=literal(parents, as_list=draw(st.integers(0, 4)) == 0),
                branch_labels=repr((labels[revision],)) if revision in labels else "None",
                depends_on=literal(dependencies),
                revises=revises,
                style=draw(st.integers(0, 2)),
                message=draw(st.sampled_from(["add things", "merge", "Änderung ✓"])),
            )
        )
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))):
        files = draw(damaged(files, ids))
    return files


@st.composite
def damaged(draw: st.DrawFn, files: list[RevisionFile], ids: list[str]) -> list[RevisionFile]:
    """The history with one more defect (which may or may not make Alembic refuse it)."""
    files = list(files)
    index = draw(st.integers(0, len(files) - 1))
    target = files[index]
    other = draw(st.sampled_from(ids))
    kind = draw(st.sampled_from(sorted(DAMAGE)))
    files[index : index + 1] = DAMAGE[kind](draw, target, other)
    return files


def _value_text(draw: st.DrawFn, file: RevisionFile) -> tuple[str, str]:
    """A header of the file and its value's source text."""
    name = draw(st.sampled_from(["revision", "down_revision", "branch_labels", "depends_on"]))
    return name, getattr(file, name)


def _not_literal(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    name, source = _value_text(draw, file)
    way = draw(st.integers(0, 3))
    if way == 0 and source.startswith("'"):
        expression = joined(source[1:-1])
    elif way == 1:
        expression = f"tuple({source if source.startswith(('(', '[')) else f'[{source}]'})"
    elif way == 2:
        expression = f"(lambda: {source})()"
    else:
        expression = f"{source} if True else None"
    return [replace(file, **{name: expression})]


def _compound(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    name, source = _value_text(draw, file)
    shapes = [
        f"if True:\n    {name} = {source}\n",
        f"for {name} in [{source}]:\n    pass\n",
        f"try:\n    {name} = {source}\nexcept Exception:\n    pass\n",
        f"def _set():\n    global {name}\n    {name} = {source}\n\n\n_set()\n",
        f'globals()["{name}"] = {source}\n',
        "from os.path import *\n",
        f"({name} := {source})\n",
    ]
    return [replace(file, after_header=draw(st.sampled_from(shapes)))]


def _syntax_in_body(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    body = draw(st.sampled_from(["def broken(:\n        pass", "return (", "x = [1,\n    2"]))
    return [replace(file, body=body)]


def _syntax_in_header(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    name, _ = _value_text(draw, file)
    return [replace(file, **{name: draw(st.sampled_from(["(", "'open", "None None"]))})]


def _compiles_only_in_ast(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    extra = draw(st.sampled_from(["return 1\n", "from __future__ import annotations\n", "break\n"]))
    return [replace(file, after_header=extra)]


def _copied(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    copy = replace(
        file, name=draw(st.sampled_from(["00_copy.py", "zz_copy.py", file.name + "_b.py"]))
    )
    return [file, copy]


def _missing_parent(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    field_name = draw(st.sampled_from(["down_revision", "depends_on"]))
    return [replace(file, **{field_name: repr(draw(st.sampled_from(["zzzz", "nowhere"])))})]


def _parent_changed(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    """Any revision as the parent: a cycle when it descends from this one, else a new branch."""
    return [replace(file, down_revision=repr(other))]


def _odd_id(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    return [replace(file, revision=repr(draw(st.sampled_from(ODD_IDS))))]


def _odd_message(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    return [replace(file, message=draw(st.sampled_from(ODD_MESSAGES)))]


def _not_utf8(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    data = file.render()
    spot = draw(st.sampled_from([b'"""', b"def upgrade", b"# revision"]))
    return [replace(file, raw=data.replace(spot, b"\xe9\xff" + spot, 1))]


def _odd_bytes(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    data = file.render()
    way = draw(st.sampled_from(["empty", "bom", "crlf", "null", "cookie"]))
    raw = {
        "empty": b"",
        "bom": b"\xef\xbb\xbf" + data,
        "crlf": data.replace(b"\n", b"\r\n"),
        "null": data.replace(b"def upgrade", b"\x00def upgrade", 1),
        "cookie": b"# -*- coding: latin-1 -*-\n" + data.replace("Änderung".encode(), b"\xc4"),
    }[way]
    name = draw(st.sampled_from([file.name, "abc123.py"]))
    return [replace(file, raw=raw, name=name)]


def _header_missing(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    name = draw(st.sampled_from(["revision", "down_revision", "branch_labels"]))
    legacy = draw(st.booleans())
    hexname = file.revision.strip("'") if legacy and name == "revision" else None
    renamed = f"{hexname}.py" if hexname and all(c in "0123456789abcdef" for c in hexname) else None
    return [replace(file, omit=(name,), name=renamed or file.name)]


def _label_clash(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    label = draw(st.sampled_from([repr(other), "'line0'", "'line1'", "('line2', 'line2')"]))
    return [replace(file, branch_labels=label)]


def _odd_values(draw: st.DrawFn, file: RevisionFile, other: str) -> list[RevisionFile]:
    """Literals of the wrong type. Not for ``revision``: Alembic takes ``()`` or ``b'ab'`` as a
    revision id without complaint (and breaks later), where we report the file as broken."""
    name = draw(st.sampled_from(["down_revision", "depends_on", "branch_labels"]))
    value = draw(st.sampled_from(["5", "''", "()", "[None]", "(None,)", "('',)", "b'ab'", "0"]))
    if draw(st.booleans()):
        return [replace(file, revision=draw(st.sampled_from(["5", "''", "None"])))]
    return [replace(file, **{name: value})]


DAMAGE = {
    "not_literal": _not_literal,
    "compound": _compound,
    "syntax_in_body": _syntax_in_body,
    "syntax_in_header": _syntax_in_header,
    "compiles_only_in_ast": _compiles_only_in_ast,
    "copied": _copied,
    "missing_parent": _missing_parent,
    "parent_changed": _parent_changed,
    "odd_id": _odd_id,
    "odd_message": _odd_message,
    "not_utf8": _not_utf8,
    "odd_bytes": _odd_bytes,
    "header_missing": _header_missing,
    "label_clash": _label_clash,
    "odd_values": _odd_values,
}


@dataclass
class AlembicView:
    """What Alembic made of the folder: refused (why), or its heads, bases and revisions."""

    refused: str | None = None
    heads: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: dict[str, frozenset[str]] = field(default_factory=dict)
    labels: dict[str, frozenset[str]] = field(default_factory=dict)


@contextmanager
def no_bytecode() -> Iterator[None]:
    """Import without writing ``__pycache__``: a rewritten file must never meet a stale one."""
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def load_with_alembic(root: Path, versions: Path) -> AlembicView:
    """Alembic's ScriptDirectory over the folder, importing every file, in process."""
    script = ScriptDirectory(str(root), version_locations=[str(versions)])
    with warnings.catch_warnings(record=True) as caught, no_bytecode():
        warnings.simplefilter("always")
        try:
            revision_map = script.revision_map
            revisions = {
                key: value
                for key, value in revision_map._revision_map.items()
                if value is not None and key == getattr(value, "revision", None)
            }
            heads, bases = revision_map.heads, revision_map.bases
        except Exception as exc:  # Alembic's refusal, whatever its kind
            return AlembicView(refused=f"{type(exc).__name__}: {exc}")
    twice = [str(w.message) for w in caught if "present more than once" in str(w.message)]
    if twice:
        return AlembicView(refused=twice[0])
    return AlembicView(
        heads=heads,
        bases=bases,
        parents={
            revision: to_tuple(script_.down_revision, default=())
            for revision, script_ in revisions.items()
        },
        dependencies={
            revision: frozenset(script_._resolved_dependencies)
            for revision, script_ in revisions.items()
        },
        labels={
            revision: frozenset(script_.branch_labels) for revision, script_ in revisions.items()
        },
    )


def has_cycle(view: AlembicView) -> bool:
    """True when the revisions Alembic loaded lead back to themselves (parents, dependencies)."""
    below = {
        revision: set(parents) | view.dependencies[revision]
        for revision, parents in view.parents.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in below:
        if state.get(root):
            continue
        state[root] = 1
        stack = [(root, iter(below[root]))]
        while stack:
            node, following = stack[-1]
            for lower in following:
                if state.get(lower) == 1:
                    return True
                if lower in below and not state.get(lower):
                    state[lower] = 1
                    stack.append((lower, iter(below[lower])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return False


def write_folder(versions: Path, files: list[RevisionFile]) -> None:
    """Empty the reused folder and write the files (a later file of the same name wins)."""
    shutil.rmtree(versions, ignore_errors=True)
    versions.mkdir(parents=True)
    for file in files:
        (versions / file.name).write_bytes(file.render())


def status_at(graph: RevisionGraph, heads: tuple[str, ...]) -> DatabaseState:
    """What `status` says of a database whose version table holds ``heads``."""
    target = DatabaseTarget("default", "sqlite:///unused.sqlite")
    reading = VersionReading(target, revisions=heads, version_table_exists=bool(heads))
    return classify(reading, graph).state


def compare(root: Path, versions: Path, files: list[RevisionFile]) -> str:
    """Load the folder both ways and hold ours to Alembic's verdict; say what each made of it."""
    write_folder(versions, files)
    alembic = load_with_alembic(root, versions)
    scanned = scan_revisions([versions])
    graph = build_graph(scanned.revisions, scanned.diagnostics)
    broken = refusals(graph.diagnostics)
    shown = {file.name: file.render() for file in files}
    context = f"\nAlembic: {alembic.refused or 'loaded'}\nours: {graph.diagnostics}\n{shown}"
    verdict = "broken" if broken else "unknown" if unknowns(graph.diagnostics) else "clean"
    outcome = f"Alembic {'refused' if alembic.refused else 'loaded'}, ours {verdict}"
    if alembic.refused is not None:
        assert broken or heads_unknown(graph.diagnostics) or unknowns(graph.diagnostics), context
        assert status_at(graph, tuple(graph.heads)) is not DatabaseState.AT_HEAD, context
        severities = {problem.severity for problem in diagnose(graph, [], command="flask db")}
        assert severities & {ERROR, WARNING}, context
        return outcome
    if has_cycle(alembic):
        # Alembic's cycle check only finds revisions unreachable from a head or a base: a
        # loop reachable from both loads, and `upgrade` runs it in an arbitrary order
        assert {diagnostic.kind for diagnostic in broken} <= {"cycle"}, context
        assert broken or unknowns(graph.diagnostics), context
        return outcome
    assert not broken, context
    if unknowns(graph.diagnostics):
        return outcome
    assert worth_a_line(graph.diagnostics) == [], context
    assert set(graph.heads) == set(alembic.heads), context
    assert set(graph.bases) == set(alembic.bases), context
    assert set(graph.revisions) == set(alembic.parents), context
    for revision, scanned_revision in graph.revisions.items():
        assert scanned_revision.down_revision == alembic.parents[revision], context
        assert set(graph.dependencies[revision]) == alembic.dependencies[revision], context
        assert graph.branch_labels[revision] == alembic.labels[revision], context
    expected = DatabaseState.AT_HEAD if graph.heads else DatabaseState.EMPTY
    assert status_at(graph, tuple(sorted(graph.resolved_heads))) is expected, context
    return outcome


def test_the_harness_sees_what_alembic_refuses(tmp_path: Path) -> None:
    """Two fixed cases, so a harness that compares nothing cannot pass."""
    good = RevisionFile("01_a.py", "'a001'", "None")
    child = RevisionFile("02_b.py", "'b002'", "'a001'")
    versions = tmp_path / "versions"
    write_folder(versions, [good, child])
    assert load_with_alembic(tmp_path, versions).heads == ("b002",)
    write_folder(versions, [good, replace(child, body="def broken(:\n        pass")])
    assert load_with_alembic(tmp_path, versions).refused is not None
    compare(tmp_path, versions, [good, replace(child, body="def broken(:\n        pass")])


@pytest.mark.long
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=histories())
def test_our_view_agrees_with_alembic(tmp_path_factory, files: list[RevisionFile]) -> None:
    root = tmp_path_factory.getbasetemp() / "differential"
    event(compare(root, root / "versions", files))
