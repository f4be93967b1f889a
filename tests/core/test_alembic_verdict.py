"""Each kind of finding, held against Alembic itself: refused, loaded, or loaded with a warning.

``workbench.core.verdict`` is the one definition of what makes Alembic refuse a history; every
refusal kind has a folder here that Alembic refuses, every unknown kind one that it loads.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from workbench.core.databases import DatabaseState, DatabaseTarget, VersionReading, classify
from workbench.core.doctor import ERROR, diagnose
from workbench.core.graph import build_graph
from workbench.core.scan import scan_revisions, scan_source
from workbench.core.verdict import REFUSED_KINDS, UNKNOWN_KINDS, WARNING_KINDS


def revision(rid: str, down: str = "None", extra: str = "", labels: str = "None") -> str:
    """A minimal revision file's text; ``down`` and ``labels`` are source text."""
    return (
        f'"""{rid}"""\nrevision = {rid!r}\ndown_revision = {down}\n'
        f"branch_labels = {labels}\ndepends_on = None\n{extra}\n"
        "def upgrade():\n    pass\n"
    )


REFUSED = {
    "unreadable": {"a.py": revision("a1") + "\nx = '\xe9'\n", "b.py": b"# not utf-8 \xe9\n"},
    "syntax_error": {"a.py": revision("a1", extra="def broken(:\n    pass\n")},
    "duplicate_id": {"a.py": revision("a1"), "b.py": revision("a1")},
    "missing_parent": {"a.py": revision("a1", "'gone'")},
    "missing_dependency": {"a.py": revision("a1").replace("depends_on = None", "depends_on = 'x'")},
    "cycle": {"a.py": revision("a1", "'b2'"), "b.py": revision("b2", "'a1'")},
    "empty_dependency": {"a.py": revision("a1").replace("depends_on = None", "depends_on = ''")},
    "illegal_id": {"a.py": revision("a-1")},
    "duplicate_label": {
        "a.py": revision("a1", labels="'x'"),
        "b.py": revision("b2", "'a1'", labels="'x'"),
    },
}
UNKNOWN = {
    "unknown_id": {"a.py": revision("a1").replace("'a1'", "''.join(['a', '1'])", 1)},
    "unknown_parents": {
        "a.py": revision("a1"),
        "b.py": revision("b2", "''.join(['a', '1'])"),
    },
    "unknown_labels": {"a.py": revision("a1", labels="tuple(['x'])")},
    "unknown_dependencies": {
        "a.py": revision("a1"),
        "b.py": revision("b2").replace("depends_on = None", "depends_on = ['a1'][:1]"),
    },
    "unresolved_parent": {
        "a.py": revision("a1").replace("'a1'", "''.join(['a', '1'])", 1),
        "b.py": revision("b2", "'a1'"),
    },
    "unresolved_dependency": {
        "a.py": revision("a1", labels="tuple(['x'])"),
        "b.py": revision("b2").replace("depends_on = None", "depends_on = 'x'"),
    },
}


def folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, content in files.items():
        data = content.encode("latin-1") if isinstance(content, str) else content
        (versions / name).write_bytes(data)
    return versions


def alembic_loads(tmp_path: Path, versions: Path) -> tuple[bool, list[str]]:
    """Whether Alembic builds its revision map, and the warnings it gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            script = ScriptDirectory(str(tmp_path), version_locations=[str(versions)])
            assert script.revision_map.heads is not None
        except Exception:
            return False, [str(warning.message) for warning in caught]
    return True, [str(warning.message) for warning in caught]


def kinds(versions: Path) -> set[str]:
    scanned = scan_revisions([versions])
    return {d.kind for d in build_graph(scanned.revisions, scanned.diagnostics).diagnostics}


def test_every_kind_has_a_case() -> None:
    assert set(REFUSED) == REFUSED_KINDS
    assert set(UNKNOWN) == UNKNOWN_KINDS


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_alembic_refuses_every_refused_kind(tmp_path: Path, kind: str) -> None:
    versions = folder(tmp_path, REFUSED[kind])

    assert kind in kinds(versions)
    loads, found = alembic_loads(tmp_path, versions)
    # a duplicate id loads with a warning, and a head too many: `upgrade` fails
    assert not loads or any("present more than once" in text for text in found)
    scanned = scan_revisions([versions])
    graph = build_graph(scanned.revisions, scanned.diagnostics)
    assert any(problem.severity == ERROR for problem in diagnose(graph, [], command="flask db"))


@pytest.mark.parametrize("kind", sorted(UNKNOWN))
def test_alembic_loads_what_we_cannot_know(tmp_path: Path, kind: str) -> None:
    versions = folder(tmp_path, UNKNOWN[kind])

    found = kinds(versions)
    assert kind in found and not found & REFUSED_KINDS
    assert alembic_loads(tmp_path, versions) == (True, [])


def test_a_file_loaded_twice_is_only_a_warning(tmp_path: Path) -> None:
    versions = folder(tmp_path, {"a.py": revision("a1")})
    scanned = scan_revisions([versions, versions])

    assert {d.kind for d in scanned.diagnostics} == {"loaded_twice"} <= WARNING_KINDS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        script = ScriptDirectory(str(tmp_path), version_locations=[str(versions), str(versions)])
        assert script.revision_map.heads == ("a1",)
    assert any("loaded twice" in str(warning.message) for warning in caught)


@pytest.mark.parametrize(
    "extra",
    ["return 1\n", "from __future__ import annotations\n", "break\n", "nonlocal x\n"],
)
def test_what_only_the_compiler_refuses_is_a_syntax_error(tmp_path: Path, extra: str) -> None:
    versions = folder(tmp_path, {"a.py": revision("a1", extra=extra)})

    assert kinds(versions) == {"syntax_error"}
    assert alembic_loads(tmp_path, versions)[0] is False


@pytest.mark.parametrize(
    "extra",
    [
        "if True:\n    down_revision = 'x1'\n",
        "for down_revision in ['x1']:\n    pass\n",
        "with open(__file__) as down_revision:\n    pass\n",
        "def _f():\n    global down_revision\n    down_revision = 'x1'\n\n_f()\n",
        "globals()['down_revision'] = 'x1'\n",
        "from os.path import *\n",
        "(down_revision := 'x1')\n",
        "import sys\nsys.modules[__name__].down_revision = 'x1'\n",
        "exec(\"down_revision = 'x1'\")\n",
    ],
)
def test_a_header_bound_out_of_sight_is_unknown_not_guessed(extra: str) -> None:
    scanned = scan_source(revision("b2", "'a1'", extra=extra), "b.py")

    known = scanned.revision if not hasattr(scanned, "kind") else None
    assert known is None or "down_revision" in dict(scanned.expressions)


def test_reading_globals_binds_nothing() -> None:
    multidb = revision("b2", "'a1'") + '\ndef upgrade_(engine_name=""):\n    globals()["x"]()\n'

    scanned = scan_source(multidb, "b.py")

    assert scanned.down_revision == ("a1",) and scanned.expressions == ()


def test_no_fix_is_advised_for_a_database_while_a_revision_id_is_unknown(tmp_path: Path) -> None:
    versions = folder(tmp_path, UNKNOWN["unresolved_parent"])
    scanned = scan_revisions([versions])
    graph = build_graph(scanned.revisions, scanned.diagnostics)
    target = DatabaseTarget("default", "sqlite:///unused.sqlite")
    # the database stands on a1: the file whose id is not a literal may well be it
    status = classify(VersionReading(target, ("a1",), version_table_exists=True), graph)

    problems = diagnose(graph, [status], command="flask db")

    assert status.state is DatabaseState.UNDETERMINED
    assert [problem.fix_command for problem in problems] == [None, None]
    assert {problem.kind for problem in problems} == {"unknown_header"}
